"""The `pcf` command line.

Exit statuses: 0 when everything asked for succeeded; 1 for any invalid input (a bad file, a bad
command-line value, a usage error: argparse's own 2 is turned into 1) or a failed run; 130 after Ctrl-C.
Nothing ends in a traceback: an unexpected exception prints one line and writes the traceback to a log file.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
import traceback
from pathlib import Path

from methodology.errors import InputFileError, MethodologyError
from methodology.study import ROOT


def _kind_of(path: Path) -> str:
    """What a file given to ``pcf validate`` is; a file that cannot be read is judged as a parameter file (whose
    loader then reports why)."""
    from methodology.schema.loading import read_yaml
    from methodology.schema.workbook import is_workbook

    if is_workbook(path):  # a filled data-collection workbook: a parameter file (execution.workbooks)
        return "parameters"
    try:
        head = read_yaml(path, InputFileError)
    except InputFileError:
        head = None
    if isinstance(head, dict):
        if "rule_set" in head and "processes" in head and isinstance(head["processes"], list):
            return "rule"
        if "factor_set" in head:
            return "factors"
        if "variant" in head and "changes" in head:
            return "variant"
    return "parameters"


def _validated_variant(path: Path, factor_file) -> str:
    """A rule variant checked as applied to the rule it names (``study.rule_with_variant``): every problem names
    the variant file."""
    from methodology.schema import catalogue
    from methodology.schema.variants import load_variant
    from methodology.study import load_standards, rule_with_variant

    v = load_variant(path)
    base = v.variant.base
    rule, fs = load_standards(catalogue.rule_named_by(path, base.id, base.version), factor_file)
    rule_with_variant(rule, v, fs)
    return f"variant {v.id} of rule {base.id} {base.version}, {len(v.changes)} change(s)"


def cmd_validate(args) -> int:
    from methodology.execution.batch import find_parameter_files
    from methodology.schema.factors import load_factor_set
    from methodology.study import Study, load_standards

    status, files = 0, []
    for given in map(Path, args.files):  # a file as given; a folder: every YAML file and workbook under it
        found = find_parameter_files([given]) if given.is_dir() else [given]
        if not found:
            print(f"ERR {given}: found a folder without YAML files or workbooks; expected parameter files, rules, "
                  "variants or factor sets (or folders of them)", file=sys.stderr)
            status = 1
        files += found
    for path in files:
        try:
            kind = _kind_of(path)
            if kind == "factors":
                fs = load_factor_set(path)
                print(f"OK  {path}: factor set {fs.id} {fs.version}, {len(fs.factors)} factors")
            elif kind == "rule":
                r, fs = load_standards(path, args.factors)
                print(f"OK  {path}: rule {r.id} {r.version} (factor set {fs.id} {fs.version}), "
                      f"{len(r.processes)} processes, {len(r.routes)} routes")
            elif kind == "variant":
                print(f"OK  {path}: {_validated_variant(path, args.factors)}")
            else:
                ed = Study.prepare(path, args.rule, args.factors).enterprise
                print(f"OK  {path}: {ed.params.enterprise.id}, {ed.params.product} by {ed.params.route}")
        except MethodologyError as exc:
            print(f"ERR {exc}", file=sys.stderr)
            status = 1
            if args.send_back and isinstance(exc, InputFileError):
                for out in _send_back(path, exc, args.send_back):
                    print(f"    send-back list: {out}", file=sys.stderr)
    return status


def _send_back(path: Path, exc: InputFileError, folder: str) -> list[Path]:
    """The problems of one file as a list an analyst returns to the enterprise: ``<file stem>-send-back.csv``
    (UTF-8 with a byte-order mark) and ``.xlsx``, one row per problem (file, field, found, expected)."""
    import io

    import pandas as pd

    from methodology.outputs.files import atomic_write_bytes

    df = pd.DataFrame([{"file": str(path), "field": p.field, "found": p.found, "expected": p.expected}
                       for p in exc.problems])
    base = Path(folder) / f"{path.stem}-send-back"
    atomic_write_bytes(base.with_suffix(".csv"), df.to_csv(index=False).encode("utf-8-sig"))
    buf = io.BytesIO()
    df.to_excel(buf, index=False, sheet_name="problems", engine="openpyxl")
    atomic_write_bytes(base.with_suffix(".xlsx"), buf.getvalue())
    return [base.with_suffix(".csv"), base.with_suffix(".xlsx")]


def _factor_sets(args) -> list:
    """The factor sets to set Brightway up for: the one given, else every catalogued one."""
    from methodology.schema import catalogue
    from methodology.schema.factors import load_factor_set

    if args.factors:
        return [load_factor_set(args.factors)]
    return [load_factor_set(e.path) for e in catalogue.entries("factor_set")]


def cmd_setup(args) -> int:
    from methodology.brightway import engine

    for fs in _factor_sets(args):
        info = engine.setup_project(fs, force=args.force)
        print(f"Brightway project '{info['project']}' ready at {info['dir']} (background: {info['background']})")
    return 0


def cmd_run(args) -> int:
    from methodology.brightway import engine
    from methodology.execution.runs_folder import clean_leftovers, runs_lock
    from methodology.outputs import pdf_report

    pdf_report.check_libraries()  # report.pdf's system libraries: one line naming them, before any run
    for fs in _factor_sets(args):
        engine.setup_project(fs, log=lambda *a: None)
    with runs_lock(args.runs):
        for leftover in clean_leftovers(args.runs):
            print(f"removed {leftover} (left by a run or batch that was killed)", file=sys.stderr)
        return _run_each(args)


def _run_each(args) -> int:
    from methodology.execution.batch import find_parameter_files
    from methodology.execution.runner import run_enterprise

    status = 0
    for path in find_parameter_files(args.files):
        try:
            outcome = run_enterprise(path, args.runs, rule_file=args.rule, factor_file=args.factors,
                                     timeout=args.timeout, keep_brightway=args.keep_brightway)
        except InputFileError as exc:
            print(f"INVALID {exc}", file=sys.stderr)
            status = 1
            continue
        if outcome.ok:
            print(f"OK     {path} -> {outcome.out_dir}")
        else:
            print(f"FAILED {path}: {outcome.error} (notebook kept in {outcome.out_dir})", file=sys.stderr)
            status = 1
    return status


def cmd_batch(args) -> int:
    from methodology.brightway import engine
    from methodology.execution.batch import Settings, run_batch
    from methodology.outputs import pdf_report

    if not args.table_only:
        pdf_report.check_libraries()  # every run folder has a report.pdf: its system libraries, before any run
    if not (args.compute_only or args.table_only):
        for fs in _factor_sets(args):
            engine.setup_project(fs, log=lambda *a: None)
    settings = Settings(workers=args.workers, scheduler=args.scheduler, timeout=args.timeout, force=args.force,
                        warm=not args.cold_kernels, progress=not args.no_progress, summary=not args.no_summary)
    manifest, status = run_batch(args.files, args.runs, settings=settings, factor_file=args.factors,
                                 rule_file=args.rule, compute=args.compute_only or args.table_only,
                                 table_only=args.table_only,
                                 log=lambda m: print(m, file=sys.stderr))
    c = manifest["counts"]
    parts = [f"{c['ok']} ok", f"{c['skipped']} skipped (unchanged)"]
    parts += [f"{c[k]} {k}" for k in ("invalid", "failed", "timeout", "crashed", "cancelled") if c[k]]
    print(f"{c['total']} runs: {', '.join(parts)}; results and manifest in "
          f"{Path(args.runs) / ('compute-only' if args.compute_only or args.table_only else 'batch')}")
    return status


def cmd_lab(args) -> int:
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(Path(args.runs).resolve() / ".jupyter-runtime"))
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--ip={args.ip}",
           f"--notebook-dir={ROOT / 'notebooks'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    os.execvpe(cmd[0], cmd, env)
    return 0


def cmd_schema(args) -> int:
    from methodology.schema.export import export_schemas
    from methodology.study import SCHEMAS

    for p in export_schemas(args.out, SCHEMAS):
        print(f"wrote {p}")
    return 0


def cmd_diff(args) -> int:
    """What changed between two rule files, or what a variant changes in a rule, in the rule's terms."""
    from methodology.schema import rulediff
    from methodology.schema.rules import load_rule
    from methodology.study import rule_with_variant

    if (args.new is None) == (args.variant is None):
        print("pcf diff: give a second rule file or --variant, one of them (see pcf diff --help)", file=sys.stderr)
        return 1
    old = load_rule(args.old)
    new = load_rule(args.new) if args.new else rule_with_variant(old, args.variant)
    print(rulediff.markdown(old, new, rulediff.diff(old, new)), end="")
    return 0


def cmd_rule_doc(args) -> int:
    """Write each rule as one HTML page (``outputs.ruledoc``): <out>/<rule id>-<version>.html."""
    from methodology.outputs.files import atomic_write_text
    from methodology.outputs.ruledoc import html_document
    from methodology.schema.rules import load_rule

    for path in args.rules:
        rule = load_rule(path)
        out = Path(args.out) / f"{rule.id}-{rule.version}.html"
        atomic_write_text(out, html_document(rule))
        print(f"wrote {out}")
    return 0


def cmd_lock(args) -> int:
    """Record the sha256 of every catalogued rule version in standards/rules.lock.yaml (decision record 0013)."""
    import hashlib

    from methodology.outputs.files import atomic_write_text
    from methodology.schema import catalogue
    from methodology.schema.changelog import LOCK_NAME, updated_lock

    standards = catalogue.STANDARDS
    rules = [(e.id, e.version, hashlib.sha256(e.path.read_bytes()).hexdigest()) for e in catalogue.entries("rule")]
    added, text = updated_lock(standards, rules, {tuple(x) for x in args.amend or []})
    if text is not None:
        atomic_write_text(standards / LOCK_NAME, text)
    print(f"recorded {', '.join(added)} in {standards / LOCK_NAME}" if added else "every rule version is recorded")
    return 0


def cmd_compare(args) -> int:
    """Every enterprise under its rule and under rule variant files, side by side (decision record 0014)."""
    from methodology.execution import compare

    c = compare.compare(args.files, args.variant, log=lambda m: print(m, file=sys.stderr))
    paths = compare.write(c, args.out)
    with _pd_options():
        print(c.summary.to_string(index=False) if len(c.summary) else "no enterprise uses the variants' rules")
    print(f"wrote {', '.join(str(p) for p in paths)}")
    return 0 if c.ok else 1


def cmd_serve(args) -> int:
    """The PACT v3 data-exchange API over the PACT files of a runs folder (``methodology.exchange``)."""
    from methodology.exchange import credentials, server

    if args.hash_secret:
        secret = sys.stdin.readline().rstrip("\r\n")
        if not secret:
            raise server.ServeError("--hash-secret: no secret on standard input (one line expected)")
        print(credentials.hash_secret(secret))
        return 0
    if args.runs is None or args.credentials is None:
        raise server.ServeError("pcf serve RUNS --credentials FILE: both are needed to serve")
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server.serve(args.runs, args.credentials, host=args.host, port=args.port, tls_cert=args.tls_cert,
                 tls_key=args.tls_key, callback_ca=args.callback_ca)
    return 0


def _add_serve(sub) -> None:
    sv = sub.add_parser("serve", help="serve the runs' PACT footprints over the PACT v3 API (HTTPS, OAuth2)")
    sv.add_argument("runs", nargs="?", help="runs folder: every pact-v3.0.3.json under it is served")
    sv.add_argument("--credentials", type=input_file,
                    help="clients file (YAML; see methodology/exchange/credentials.py)")
    sv.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8443, help="port (default 8443)")
    sv.add_argument("--tls-cert", type=input_file, help="PEM certificate (HTTPS); with --tls-key")
    sv.add_argument("--tls-key", type=input_file, help="PEM private key of --tls-cert")
    sv.add_argument("--callback-ca", type=input_file,
                    help="PEM CA bundle to verify the receivers of asynchronous replies (default: system CAs)")
    sv.add_argument("--hash-secret", action="store_true",
                    help="read a client secret on standard input, print its hash for the credentials file, exit")
    sv.set_defaults(func=cmd_serve)


def cmd_template(args) -> int:
    """Excel data-collection workbooks (``outputs.workbook``): one per route of the rule, or the one route asked for,
    or pre-filled from a parameter file."""
    from methodology.outputs.files import atomic_write_bytes
    from methodology.outputs.workbook import template
    from methodology.study import Study, load_standards

    if (args.rule_file is None) == (args.prefill is None):
        print("pcf template: give a rule file or --prefill PARAMS.yaml, one of them (see pcf template --help)",
              file=sys.stderr)
        return 1
    pf = None
    if args.prefill:
        study = Study.prepare(args.prefill)  # a valid parameter file (or workbook) only: its workbook imports back
        rule, pf = study.rule, study.enterprise.params
        routes, name = [pf.route], f"{pf.enterprise.id}-{pf.product}"
    else:
        rule, _ = load_standards(args.rule_file)
        known = [r.id for r in rule.routes]
        if args.route and args.route not in known:
            print(f"pcf template: argument --route: found {args.route!r}; expected one of {known}", file=sys.stderr)
            return 1
        routes, name = [args.route] if args.route else known, f"{rule.id}-{rule.version}"
    for route in routes:
        out = Path(args.out) / (f"{name}.xlsx" if pf else f"{name}-{route}.xlsx")
        atomic_write_bytes(out, template(rule, route, pf))
        print(f"wrote {out}")
    return 0


def cmd_import(args) -> int:
    """A filled workbook into a validated parameter file (``execution.workbooks``); nothing written on a problem."""
    from methodology.execution import workbooks

    study, out = workbooks.load(args.workbook, args.out)
    ed = study.enterprise
    print(f"OK  {args.workbook}: {ed.params.enterprise.id}, {ed.params.product} by {ed.params.route}"
          + (f"; wrote {out}" if out else " (no --out: nothing written)"))
    return 0


def _pd_options():
    import pandas as pd

    return pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3)


class Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors and exit status 1, the status of every invalid input (argparse's is 2)."""

    def error(self, message: str):
        self.exit(1, f"{self.prog}: {message} (see {self.prog} --help)\n")


ADDRESS = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")


def _bad(found: str, expected: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(f"found {found!r}; expected {expected}")


def workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise _bad(text, "a whole number of worker processes >= 1") from None
    if n < 1:
        raise _bad(text, "a whole number of worker processes >= 1")
    return n


def seconds(text: str) -> float:
    from methodology.execution.batch import MAX_TIMEOUT as MAX_SECONDS

    expected = f"a number of seconds > 0 and <= {MAX_SECONDS:g} (a week)"
    try:
        x = float(text)
    except ValueError:
        raise _bad(text, expected) from None
    if not math.isfinite(x) or not 0 < x <= MAX_SECONDS:
        raise _bad(text, expected)
    return x


def _existing_file(text: str, what: str) -> str:
    p = Path(text)
    if not p.exists():
        raise _bad(text, f"an existing {what} (no such file)")
    if not p.is_file():
        raise _bad(text, f"{'an' if what[0] in '.aeiou' else 'a'} {what} (this is not a regular file)")
    return text


def input_file(text: str) -> str:
    return _existing_file(text, "YAML file")


def input_workbook(text: str) -> str:
    return _existing_file(text, ".xlsx workbook")


def output_folder(text: str) -> str:
    """A folder that exists or can be made: not a file, nor below one (written or refused when used)."""
    p = Path(text).absolute()
    if p.exists() and not p.is_dir():
        raise _bad(text, "a folder (this is a file)")
    parent = next((a for a in p.parents if a.exists()), None)
    if parent is not None and not parent.is_dir():
        raise _bad(text, f"a folder that can be created ({parent} is a file)")
    return text


def scheduler_address(text: str) -> str:
    m = ADDRESS.match(text)
    if not m or not 0 < int(m.group(1)) < 65536:
        raise _bad(text, "the address of a Dask scheduler, e.g. tcp://host:8786")
    return text


# --- pcf catalogue: the filed catalogue and its public page (README, "Filed catalogue") ---------------

def _catalogue_conn(args):
    from contextlib import closing

    from methodology.execution import filing

    return closing(filing.connect(args.catalogue))


def _print_records(rows: list[dict]) -> None:
    print(f"{'id':>5}  {'ver':>3}  {'status':9}  {'enterprise':28}  {'product':20}  {'period':23}  "
          f"{'kg CO2e':>10}  unit")
    for r in rows:
        print(f"{r['id']:>5}  {r['version']:>3}  {r['status']:9}  {r['enterprise']:28}  {r['product']:20}  "
              f"{r['period_start']}/{r['period_end']}  {r['total_kg_co2e']:>10.1f}  {r['declared_unit']}")


def cmd_catalogue_file(args) -> int:
    from methodology.execution import filing

    with _catalogue_conn(args) as conn:
        done = filing.file_paths(conn, args.paths)
    for f in done:
        if f.outcome == "refused":
            print(f"NOT FILED {f.run_dir}: {f.reason}", file=sys.stderr)
        else:
            print(f"{f.outcome:9} id {f.id} version {f.version}: {f.run_dir}")
    counts = {k: sum(f.outcome == k for f in done) for k in ("filed", "unchanged", "refused")}
    print(f"{len(done)} runs: {counts['filed']} filed, {counts['unchanged']} already filed (unchanged), "
          f"{counts['refused']} not filed; catalogue {args.catalogue}")
    return 1 if counts["refused"] or not done else 0


def cmd_catalogue_list(args) -> int:
    from methodology.execution import filing

    with _catalogue_conn(args) as conn:
        _print_records(filing.records(conn, industry=args.industry, product=args.product, status=args.status,
                                      enterprise=args.enterprise))
    return 0


def cmd_catalogue_history(args) -> int:
    from methodology.execution import filing

    with _catalogue_conn(args) as conn:
        rows = filing.records(conn, enterprise=args.enterprise, product=args.product, period=args.period)
    if not rows:
        raise filing.FilingError(f"catalogue: found no record of enterprise '{args.enterprise}', product "
                                 f"'{args.product}'" + (f", period {args.period}" if args.period else "")
                                 + "; expected a filed one (pcf catalogue list)")
    _print_records(rows)
    return 0


def cmd_catalogue_show(args) -> int:
    import json

    from methodology.execution import filing

    with _catalogue_conn(args) as conn:
        print(json.dumps(filing.get(conn, args.id), indent=2, ensure_ascii=False))
    return 0


def cmd_catalogue_status(args) -> int:
    from methodology.execution import filing

    with _catalogue_conn(args) as conn:
        r = filing.set_status(conn, args.id, args.status, args.note)
    print(f"record {r['id']} ({r['enterprise']} {r['product']} version {r['version']}): {r['status']}")
    return 0


def cmd_catalogue_site(args) -> int:
    from methodology.execution import filing

    with _catalogue_conn(args) as conn:
        index, n = filing.publish_site(conn, args.out)
    print(f"{n} published records: {index} (open it from disk or serve the folder)")
    return 0


def _add_catalogue(sub) -> None:
    from methodology.execution import filing

    cat = sub.add_parser("catalogue", help="the filed catalogue of evaluated products (SQLite) and its public page")
    cat.add_argument("--catalogue", default=str(filing.DEFAULT_PATH), metavar="PATH",
                     help=f"the catalogue database (default: {filing.DEFAULT_PATH})")
    cs = cat.add_subparsers(dest="catalogue_cmd", required=True)
    f = cs.add_parser("file", help="file successful runs: run folders and batch folders (manifest.json)")
    f.add_argument("paths", nargs="+", metavar="RUN_DIR|BATCH_DIR")
    f.set_defaults(func=cmd_catalogue_file)
    ls = cs.add_parser("list", help="filed records (every version)")
    ls.add_argument("--industry")
    ls.add_argument("--product")
    ls.add_argument("--enterprise")
    ls.add_argument("--status", choices=filing.STATUSES)
    ls.set_defaults(func=cmd_catalogue_list)
    h = cs.add_parser("history", help="every version filed for an enterprise and product (and period)")
    h.add_argument("enterprise")
    h.add_argument("product")
    h.add_argument("period", nargs="?", help="a year (2024) or the period's start date")
    h.set_defaults(func=cmd_catalogue_history)
    sh = cs.add_parser("show", help="one record as JSON, with its files and status changes")
    sh.add_argument("id", type=int)
    sh.set_defaults(func=cmd_catalogue_show)
    st = cs.add_parser("status", help="change a record's status: draft -> verified -> published; any -> withdrawn")
    st.add_argument("id", type=int)
    st.add_argument("status", choices=[s for s in filing.STATUSES if s != "draft"])
    st.add_argument("--note", help="why (recorded with the change)")
    st.set_defaults(func=cmd_catalogue_status)
    ps = cs.add_parser("publish-site", help="write the public page (static HTML) of the published records")
    ps.add_argument("out", type=output_folder)
    ps.set_defaults(func=cmd_catalogue_site)


def build_parser() -> argparse.ArgumentParser:
    ap = Parser(prog="pcf", description="PCF Workbench: product carbon footprints",
                epilog="Exit status: 0 all succeeded; 1 any invalid input (a file, an option value, a usage error) "
                       "or a failed run; 130 interrupted (Ctrl-C).")
    ap.add_argument("--factors", default=None, type=input_file,
                    help="emission-factor set (YAML); default: the catalogued factor set each rule names")
    ap.add_argument("--rule", default=None, type=input_file,
                    help="product category rule (YAML); default: the shipped rule each parameter file names")
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate", help="validate rules, variants, factor sets, parameter files (YAML or "
                                        "workbooks), or folders of them")
    v.add_argument("files", nargs="+", help="files or folders (searched recursively, as pcf batch does)")
    v.add_argument("--send-back", default=None, type=output_folder, metavar="FOLDER",
                   help="write each invalid file's problems as <file>-send-back.csv and .xlsx into FOLDER")
    v.set_defaults(func=cmd_validate)
    s = sub.add_parser("setup", help="build the Brightway project of each factor set offline (once; reused)")
    s.add_argument("--force", action="store_true", help="rebuild even if present")
    s.set_defaults(func=cmd_setup)
    r = sub.add_parser("run", help="run enterprises: papermill executes the industry notebook for each")
    r.add_argument("files", nargs="+", help="parameter files (YAML, or filled .xlsx workbooks) or folders of them")
    r.add_argument("--runs", default="runs", type=output_folder, help="output folder (default: runs/)")
    r.add_argument("--timeout", type=seconds, default=600, help="seconds per run before it is stopped")
    r.add_argument("--keep-brightway", action="store_true",
                   help="keep each run's Brightway project (with its foreground database) in "
                        "<runs>/<enterprise>/<product>/brightway/ for Activity Browser (BRIGHTWAY2_DIR=that folder)")
    r.set_defaults(func=cmd_run)
    b = sub.add_parser("batch", help="run every parameter file under folders in parallel (Dask), resumable")
    b.add_argument("files", nargs="+",
                   help="parameter files (YAML, or filled .xlsx workbooks) or folders of them (searched recursively)")
    b.add_argument("--runs", default="runs", type=output_folder, help="output folder (default: runs/)")
    b.add_argument("--workers", type=workers, default=0, help="worker processes, >= 1 (default: one per core)")
    b.add_argument("--scheduler", default=None, type=scheduler_address,
                   help="address of a Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)")
    b.add_argument("--timeout", type=seconds, default=600, help="seconds per run before it is stopped")
    b.add_argument("--force", action="store_true", help="rerun runs whose inputs and code are unchanged")
    b.add_argument("--compute-only", action="store_true",
                   help="no notebooks: all footprints in one process with one factorisation, each run's "
                        "files (report, PACT, label, CBAM) written by the workers to <runs>/compute-only/")
    b.add_argument("--table-only", action="store_true",
                   help="compute-only, and only the results table and the batch's CBAM table: no run folders")
    b.add_argument("--cold-kernels", action="store_true",
                   help="start each kernel from scratch: no pre-imported template, none started ahead")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.add_argument("--no-summary", action="store_true", help="do not run the summary notebook")
    b.set_defaults(func=cmd_batch)
    lab = sub.add_parser("lab", help="open JupyterLab on the notebooks with this environment's kernel")
    lab.add_argument("--ip", default="127.0.0.1")
    lab.add_argument("--runs", default="runs", type=output_folder)
    lab.set_defaults(func=cmd_lab)
    cp = sub.add_parser("compare", help="every enterprise under its rule and under rule variants, side by side")
    cp.add_argument("files", nargs="+", help="parameter files or folders of them")
    cp.add_argument("--variant", action="append", required=True, type=input_file,
                    help="a rule variant file (repeat for several); see standards/<industry>/variants/")
    cp.add_argument("--out", default="runs/compare", type=output_folder, help="output folder (default: runs/compare)")
    cp.set_defaults(func=cmd_compare)
    df = sub.add_parser("diff", help="what changed between two rules, or what a variant changes, in the rule's terms")
    df.add_argument("old", type=input_file, help="a rule file")
    df.add_argument("new", nargs="?", type=input_file, help="another rule file (e.g. the next version)")
    df.add_argument("--variant", type=input_file, help="a rule variant file applied to OLD, instead of NEW")
    df.set_defaults(func=cmd_diff)
    rd = sub.add_parser("rule-doc", help="write each rule as a readable HTML document (no Jupyter needed)")
    rd.add_argument("rules", nargs="+", type=input_file, help="rule files")
    rd.add_argument("--out", default="runs/rules", type=output_folder, help="output folder (default: runs/rules)")
    rd.set_defaults(func=cmd_rule_doc)
    lk = sub.add_parser("lock", help="record the content (sha256) of every rule version in standards/rules.lock.yaml")
    lk.add_argument("--amend", nargs=2, action="append", metavar=("ID", "VERSION"),
                    help="re-record a version whose content changed (a draft not yet released)")
    lk.set_defaults(func=cmd_lock)
    tp = sub.add_parser("template", help="Excel data-collection workbook(s) of a rule, per route (中文/English)",
                        description="Write the Excel workbook enterprises fill in: a front sheet for the enterprise, "
                        "one sheet per process of the route with a row per input, output and parameter (unit, allowed "
                        "units, plausible range, required, guidance, source and data quality). With --prefill, the "
                        "workbook of an existing parameter file, filled with its values.")
    tp.add_argument("rule_file", nargs="?", type=input_file, help="a rule file (standards/<industry>/pcr-*.yaml)")
    tp.add_argument("--route", default=None, help="only this route (default: one workbook per route)")
    tp.add_argument("--prefill", default=None, type=input_file, metavar="PARAMS.yaml",
                    help="a valid parameter file: its rule and route, its values filled in")
    tp.add_argument("--out", default="runs/templates", type=output_folder, help="folder (default: runs/templates)")
    tp.set_defaults(func=cmd_template)
    im = sub.add_parser("import", help="a filled Excel workbook into a validated parameter file",
                        description="Read a workbook made by pcf template, check it as a parameter file is checked "
                        "(schema, rule, balances), and list every problem with its cell ('sheet'!D5) and field. "
                        "Nothing is written unless the whole workbook is valid.")
    im.add_argument("workbook", type=input_workbook, help="the filled .xlsx workbook")
    im.add_argument("--out", default=None, metavar="PARAMS.yaml",
                    help="write the parameter file here (for review); default: only check")
    im.set_defaults(func=cmd_import)
    sc = sub.add_parser("schema", help="export JSON Schemas of rule, factor and parameter files and result.json")
    sc.add_argument("--out", default=str(ROOT / "standards" / "schema"), type=output_folder)
    sc.set_defaults(func=cmd_schema)
    _add_catalogue(sub)
    _add_serve(sub)
    return ap


def _os_error(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or type(exc).__name__}{where}"


def _internal_error_log(exc: BaseException) -> str:
    """Write the traceback to a new log file in the temp folder; its path, or a note that it could not be written."""
    try:
        fd, path = tempfile.mkstemp(prefix="pcf-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"pcf {' '.join(sys.argv[1:])}\n")
            fh.write("".join(traceback.format_exception(exc)))
        return path
    except OSError as err:
        return f"no log: {err.strerror or err}"


def main(argv: list[str] | None = None) -> int:
    """Run one ``pcf`` command; returns its exit status (0, 1 or 130; see the module docstring)."""
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except KeyboardInterrupt:
        print("pcf: interrupted", file=sys.stderr)
        return 130
    except MethodologyError as exc:
        print(f"pcf: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a folder that cannot be written, a file that vanished, ...
        print(f"pcf: error: {_os_error(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the last resort: one line here, the traceback in a file
        text = (str(exc).strip().splitlines() or [""])[0]
        print(f"pcf: internal error: {type(exc).__name__}: {text} (details in {_internal_error_log(exc)})",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
