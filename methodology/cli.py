"""The `pcf` command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import InputFileError, MethodologyError
from .study import DEFAULT_FACTORS, ROOT, RULES


def _kind_of(path: Path) -> str:
    import yaml

    try:
        head = yaml.safe_load(path.read_text(encoding="utf-8"))
    except Exception:
        head = None
    if isinstance(head, dict):
        if "rule_set" in head and "processes" in head and isinstance(head["processes"], list):
            return "rule"
        if "factor_set" in head:
            return "factors"
    return "parameters"


def cmd_validate(args) -> int:
    from .factors import load_factor_set
    from .parameters import load_enterprise
    from .rules import load_rule

    status = 0
    factors = load_factor_set(args.factors)
    for p in args.files:
        path = Path(p)
        try:
            kind = _kind_of(path)
            if kind == "factors":
                fs = load_factor_set(path)
                print(f"OK  {path}: factor set {fs.id} {fs.version}, {len(fs.factors)} factors")
            elif kind == "rule":
                r = load_rule(path, factors)
                print(f"OK  {path}: rule {r.id} {r.version}, {len(r.processes)} processes, {len(r.routes)} routes")
            else:
                rule = load_rule(args.rule, factors)
                ed = load_enterprise(path, rule, factors)
                print(f"OK  {path}: {ed.params.enterprise.id}, {ed.params.product} by {ed.params.route}")
        except InputFileError as exc:
            print(f"ERR {exc}", file=sys.stderr)
            status = 1
    return status


def cmd_setup(args) -> int:
    from . import engine
    from .factors import load_factor_set

    info = engine.setup_project(load_factor_set(args.factors), force=args.force)
    print(f"Brightway project '{info['project']}' ready at {info['dir']} (background: {info['background']})")
    return 0


def _parameter_files(items: list[str]) -> list[Path]:
    out = []
    for item in items:
        p = Path(item)
        out += sorted(p.glob("**/*.yaml")) if p.is_dir() else [p]
    return out


def cmd_run(args) -> int:
    from . import engine
    from .factors import load_factor_set
    from .runner import run_enterprise

    engine.setup_project(load_factor_set(args.factors), log=lambda *a: None)
    status = 0
    for path in _parameter_files(args.files):
        try:
            outcome = run_enterprise(path, args.runs, rule_file=args.rule, factor_file=args.factors,
                                     timeout=args.timeout)
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


def cmd_lab(args) -> int:
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(Path(args.runs).resolve() / ".jupyter-runtime"))
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--ip={args.ip}",
           f"--notebook-dir={ROOT / 'notebooks'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    os.execvpe(cmd[0], cmd, env)
    return 0


def cmd_schema(args) -> int:
    from .schemas import export_schemas

    for p in export_schemas(args.out):
        print(f"wrote {p}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="pcf", description="PCF Workbench: product carbon footprints")
    ap.add_argument("--factors", default=str(DEFAULT_FACTORS), help="emission-factor set (YAML)")
    ap.add_argument("--rule", default=str(RULES["steel"]), help="product category rule (YAML)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate", help="validate rule, factor-set or parameter files")
    v.add_argument("files", nargs="+")
    v.set_defaults(func=cmd_validate)
    s = sub.add_parser("setup", help="build the Brightway project offline (once; reused)")
    s.add_argument("--force", action="store_true", help="rebuild even if present")
    s.set_defaults(func=cmd_setup)
    r = sub.add_parser("run", help="run enterprises: papermill executes the industry notebook for each")
    r.add_argument("files", nargs="+", help="parameter files or folders of them")
    r.add_argument("--runs", default="runs", help="output folder (default: runs/)")
    r.add_argument("--timeout", type=int, default=600, help="seconds per notebook cell")
    r.set_defaults(func=cmd_run)
    lab = sub.add_parser("lab", help="open JupyterLab on the notebooks with this environment's kernel")
    lab.add_argument("--ip", default="127.0.0.1")
    lab.add_argument("--runs", default="runs")
    lab.set_defaults(func=cmd_lab)
    sc = sub.add_parser("schema", help="export JSON Schemas of rule, factor and parameter files")
    sc.add_argument("--out", default=str(ROOT / "standards" / "schema"))
    sc.set_defaults(func=cmd_schema)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except MethodologyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
