"""The filed catalogue: evaluated products in an embedded SQLite database (Python's ``sqlite3``), versioned.

One record (a *filing*) per enterprise, product, reference period and version: the label id (the PACT footprint
id), the footprint and its 95 % interval when a Monte Carlo was run, data quality, the rule's and factor set's id,
version and sha256, the sha256 of ``result.json``, a validity period, a status and the paths of the run's files.
Not to be confused with ``methodology.schema.catalogue``, the catalogue of *rules* and factor sets.

- Only a successful run is filed: its ``run.json`` says ``status: ok``, its ``result.json`` reads back as a
  ``Result``; a batch is filed from its ``manifest.json`` (each run whose status is ``ok`` or ``skipped``, with its
  run folder); failed, invalid, timed-out runs are reported and never filed.
- Filing a re-run of the same enterprise, product and period whose ``result.json`` differs creates the next version
  and keeps the old ones; the same ``result.json`` again is not filed twice.
- Concurrent filing from several processes loses nothing: WAL journal, a busy timeout, and each filing in one
  ``BEGIN IMMEDIATE`` transaction that reads the last version and inserts the next (``UNIQUE`` on the key).
- Status: ``draft`` when filed; ``TRANSITIONS`` says where each status may go; every change is recorded.
- The schema's version is ``PRAGMA user_version`` (``SCHEMA_VERSION``); an older database is migrated on open, a
  newer one is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from methodology.errors import MethodologyError

SCHEMA_VERSION = 1
DEFAULT_PATH = Path("runs") / "catalogue.sqlite"  # under the ignored runs folder: never in git
BUSY_TIMEOUT_MS = 60_000
STATUSES = ("draft", "verified", "published", "withdrawn")
TRANSITIONS = {"draft": ("verified", "withdrawn"), "verified": ("published", "withdrawn"),
               "published": ("withdrawn",), "withdrawn": ()}
PUBLIC = ("published",)  # what the public page shows
VALIDITY_YEARS = 3  # PACT: a footprint stating no validity period is valid 3 years from its reference period's end
FILED_OK = ("ok", "skipped")  # batch statuses of runs whose folder holds a successful result

_SCHEMA = [
    """CREATE TABLE filings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        enterprise TEXT NOT NULL, enterprise_name TEXT, province TEXT, province_zh TEXT, subdivision TEXT,
        illustrative INTEGER NOT NULL,
        industry TEXT, product TEXT NOT NULL, product_name TEXT, product_family TEXT,
        route TEXT NOT NULL, route_name TEXT,
        period_start TEXT NOT NULL, period_end TEXT NOT NULL,
        version INTEGER NOT NULL,
        label_id TEXT NOT NULL,
        declared_unit TEXT NOT NULL,
        total_kg_co2e REAL NOT NULL, fossil_kg_co2e REAL, biogenic_kg_co2e REAL,
        p2_5_kg_co2e REAL, p97_5_kg_co2e REAL, mc_iterations INTEGER,
        dq_combined_score REAL, dq_meets_rule INTEGER, pef_dqr REAL, pef_dqr_level TEXT, verified_share REAL,
        rule_id TEXT NOT NULL, rule_version TEXT NOT NULL, rule_sha256 TEXT NOT NULL,
        factor_set_id TEXT NOT NULL, factor_set_version TEXT NOT NULL, factor_set_sha256 TEXT NOT NULL,
        parameter_sha256 TEXT NOT NULL,
        result_sha256 TEXT NOT NULL,
        generated_at TEXT NOT NULL,
        valid_from TEXT NOT NULL, valid_until TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('draft', 'verified', 'published', 'withdrawn')),
        run_dir TEXT NOT NULL, files TEXT NOT NULL,
        filed_at TEXT NOT NULL,
        UNIQUE (enterprise, product, period_start, period_end, version)
    )""",
    "CREATE INDEX filings_result ON filings (enterprise, product, period_start, period_end, result_sha256)",
    """CREATE TABLE status_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        filing_id INTEGER NOT NULL REFERENCES filings (id),
        old_status TEXT, new_status TEXT NOT NULL, changed_at TEXT NOT NULL, note TEXT
    )""",
    "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)",
]
MIGRATIONS = {1: _SCHEMA}  # version -> statements taking the database from version - 1 to it


class FilingError(MethodologyError):
    """A run or batch that cannot be filed, or a status change that is not allowed."""


@dataclass(frozen=True)
class Filed:
    """What filing one run did: ``filed`` (a new version), ``unchanged`` (this result.json is already filed) or
    ``refused`` (with the reason)."""

    run_dir: str
    outcome: str
    id: int | None = None
    version: int | None = None
    reason: str | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def connect(path: str | Path = DEFAULT_PATH) -> sqlite3.Connection:
    """Open (creating or migrating) the catalogue; WAL, busy timeout, rows as ``sqlite3.Row``, autocommit off
    (``isolation_level=None``: transactions are begun explicitly)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise FilingError(f"--catalogue: found {path} (cannot open it: {exc}); expected a writable SQLite file") \
            from None
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        _migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise FilingError(f"--catalogue: found {path} ({exc}); expected a PCF Workbench catalogue "
                          f"(SQLite, schema version {SCHEMA_VERSION})") from None
    return conn


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        have = conn.execute("PRAGMA user_version").fetchone()[0]
        if have > SCHEMA_VERSION:
            raise FilingError(f"--catalogue: found {path} at schema version {have}; expected {SCHEMA_VERSION} or "
                              f"older (this workbench is older than the catalogue)")
        if have == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise FilingError(f"--catalogue: found {path} holding tables but no schema version; expected a "
                              f"PCF Workbench catalogue or a new file")
        for version in range(have + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?, ?)", (version, _now()))
            conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


# --- reading a run ----------------------------------------------------------------------------------

def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FilingError(f"{path}: not found; expected the file a finished run writes") from None
    except (OSError, ValueError) as exc:
        raise FilingError(f"{path}: cannot read it as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise FilingError(f"{path}: found {type(data).__name__}; expected a JSON object")
    return data


def read_run(run_dir: str | Path) -> tuple[dict, dict, bytes]:
    """``run.json``, ``result.json`` (its content checked against ``Result``) and the bytes of ``result.json`` of a
    successful run; ``FilingError`` naming the file when the run failed, is unfinished or its result is invalid."""
    from pydantic import ValidationError

    from methodology.core.result import Result

    run = Path(run_dir)
    record = _read_json(run / "run.json")
    if record.get("status") != "ok":
        raise FilingError(f"{run / 'run.json'}: status: found {record.get('status')!r} "
                          f"({record.get('error') or 'no error given'}); expected 'ok' (only a successful run is "
                          f"filed)")
    try:
        raw = (run / "result.json").read_bytes()
    except OSError as exc:
        raise FilingError(f"{run / 'result.json'}: {exc.strerror or exc}; expected the result of the run") from None
    try:
        result = Result.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise FilingError(f"{run / 'result.json'}: {'.'.join(map(str, first['loc']))}: {first['msg']} "
                          f"({exc.error_count()} problem(s)); expected a result.json of this workbench") from None
    return record, result.model_dump(mode="json"), raw


def _validity(period_end: str) -> tuple[str, str]:
    """First and last day (inclusive) of the validity period PACT gives a footprint that states none: 3 years from
    the end of its reference period (standards/pact/spec/pact-openapi-v2.3.3.yaml, ``validityPeriodStart``)."""
    start = dt.date.fromisoformat(period_end) + dt.timedelta(days=1)
    try:
        end = start.replace(year=start.year + VALIDITY_YEARS)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + VALIDITY_YEARS, month=3, day=1)
    return start.isoformat(), (end - dt.timedelta(days=1)).isoformat()


def filing_row(record: dict, r: dict, raw: bytes, run_dir: str | Path) -> dict:
    """The catalogue's columns for one run (``run.json`` record, ``result.json`` content and bytes)."""
    from methodology.outputs.pact import footprint_id

    run = Path(run_dir).resolve()
    e, g, p = r["enterprise"], r["gwp100_kg_co2e"], r["provenance"]
    u, dq, du = r.get("uncertainty") or {}, r["data_quality"], r["declared_unit"]
    valid_from, valid_until = _validity(r["reference_period"]["end"])
    return {
        "enterprise": e["id"], "enterprise_name": e["name"], "province": e["province"],
        "province_zh": _province_zh(e, p["factor_set"]), "subdivision": e.get("subdivision"),
        "illustrative": int(bool(e["illustrative"])),
        "industry": record.get("industry"), "product": r["product"]["id"], "product_name": r["product"]["name"],
        "product_family": (r.get("product_family") or {}).get("id"),
        "route": r["route"]["id"], "route_name": r["route"]["name"],
        "period_start": r["reference_period"]["start"], "period_end": r["reference_period"]["end"],
        "label_id": footprint_id(r), "declared_unit": f"{du['amount']:g} {du['unit']}",
        "total_kg_co2e": g["total"], "fossil_kg_co2e": g["fossil"], "biogenic_kg_co2e": g["biogenic"],
        "p2_5_kg_co2e": u.get("p2_5"), "p97_5_kg_co2e": u.get("p97_5"), "mc_iterations": u.get("iterations"),
        "dq_combined_score": dq.get("combined_score"), "dq_meets_rule": _bool(dq.get("meets_rule")),
        "pef_dqr": (dq.get("pef_dqr") or {}).get("DQR"), "pef_dqr_level": (dq.get("pef_dqr") or {}).get("level"),
        "verified_share": (r.get("traceability") or {}).get("verified_share"),
        "rule_id": p["rule_set"]["id"], "rule_version": p["rule_set"]["version"],
        "rule_sha256": p["rule_set"]["sha256"], "factor_set_id": p["factor_set"]["id"],
        "factor_set_version": p["factor_set"]["version"], "factor_set_sha256": p["factor_set"]["sha256"],
        "parameter_sha256": p["parameter_file"]["sha256"], "result_sha256": hashlib.sha256(raw).hexdigest(),
        "generated_at": p["generated_at"], "valid_from": valid_from, "valid_until": valid_until,
        "run_dir": str(run),
        "files": json.dumps({f.name: str(f) for f in sorted(run.iterdir()) if f.is_file()}, ensure_ascii=False),
    }


def _province_zh(enterprise: dict, factor_set: dict) -> str | None:
    """The province's Chinese name from the factor set's grid regions (when its file still holds the content the
    result used), else None."""
    from methodology.schema.factors import load_factor_set

    try:
        fs = load_factor_set(factor_set["path"])
    except (MethodologyError, OSError):
        return None
    if fs.sha256 != factor_set["sha256"] or fs.grid_regions is None:
        return None
    key = enterprise["province"].strip().casefold()
    return next((p.zh for r in fs.grid_regions.regions for p in r.provinces
                 if key in (p.name.casefold(), p.zh.casefold()) or (p.iso and p.iso == enterprise.get("subdivision"))),
                None)


def _bool(x) -> int | None:
    return None if x is None else int(bool(x))


# --- filing -----------------------------------------------------------------------------------------

def file_run(conn: sqlite3.Connection, run_dir: str | Path) -> Filed:
    """File one successful run (a new version, or ``unchanged`` when this very result.json is filed already);
    ``refused`` with the reason when the run failed or its files are not a successful run's."""
    try:
        row = filing_row(*read_run(run_dir), run_dir)
    except FilingError as exc:
        return Filed(str(run_dir), "refused", reason=str(exc))
    key = (row["enterprise"], row["product"], row["period_start"], row["period_end"])
    conn.execute("BEGIN IMMEDIATE")  # the write lock first: read the last version and insert the next atomically
    try:
        same = conn.execute("SELECT id, version FROM filings WHERE enterprise = ? AND product = ? AND "
                            "period_start = ? AND period_end = ? AND result_sha256 = ?",
                            (*key, row["result_sha256"])).fetchone()
        if same is not None:
            conn.execute("COMMIT")
            return Filed(str(run_dir), "unchanged", same["id"], same["version"])
        last = conn.execute("SELECT max(version) FROM filings WHERE enterprise = ? AND product = ? AND "
                            "period_start = ? AND period_end = ?", key).fetchone()[0]
        row |= {"version": (last or 0) + 1, "status": "draft", "filed_at": _now()}
        cols = ", ".join(row)
        cur = conn.execute(f"INSERT INTO filings ({cols}) VALUES ({', '.join('?' * len(row))})",
                           tuple(row.values()))
        conn.execute("INSERT INTO status_changes (filing_id, old_status, new_status, changed_at, note) "
                     "VALUES (?, NULL, 'draft', ?, 'filed')", (cur.lastrowid, row["filed_at"]))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return Filed(str(run_dir), "filed", cur.lastrowid, row["version"])


def batch_runs(batch_dir: str | Path) -> list[tuple[str, str | None]]:
    """(run folder, reason it is not filed or None) for every run of a batch's ``manifest.json``."""
    manifest_path = Path(batch_dir) / "manifest.json"
    manifest = _read_json(manifest_path)
    runs = manifest.get("runs")
    if not isinstance(runs, list):
        raise FilingError(f"{manifest_path}: runs: found {type(runs).__name__}; expected the list of the batch's runs")
    out = []
    for i, r in enumerate(runs):
        where = r.get("out_dir") or r.get("parameter_file") or f"runs[{i}]"
        if r.get("status") not in FILED_OK:
            out.append((where, f"{manifest_path}: runs[{i}].status: found {r.get('status')!r} "
                               f"({r.get('error') or 'no error given'}); expected ok or skipped"))
        elif not r.get("out_dir"):
            out.append((where, f"{manifest_path}: runs[{i}].out_dir: found none (a compute-only batch writes no run "
                               f"folders); expected a run folder with result.json (run the batch with notebooks)"))
        else:
            out.append((r["out_dir"], None))
    return out


def file_paths(conn: sqlite3.Connection, paths: Iterable[str | Path]) -> list[Filed]:
    """File run folders and batch folders (a folder with ``manifest.json``); each run filed in its own
    transaction."""
    done: list[Filed] = []
    for path in paths:
        p = Path(path)
        if (p / "manifest.json").is_file():
            for run_dir, reason in batch_runs(p):
                done.append(Filed(run_dir, "refused", reason=reason) if reason else file_run(conn, run_dir))
        elif (p / "run.json").is_file() or (p / "result.json").is_file():
            done.append(file_run(conn, p))
        else:
            done.append(Filed(str(p), "refused", reason=f"{p}: found neither run.json nor manifest.json; expected a "
                                                        f"run folder or a batch folder"))
    return done


# --- status and queries -----------------------------------------------------------------------------

def get(conn: sqlite3.Connection, filing_id: int) -> dict:
    row = conn.execute("SELECT * FROM filings WHERE id = ?", (filing_id,)).fetchone()
    if row is None:
        raise FilingError(f"catalogue id: found {filing_id}; expected the id of a filed record (pcf catalogue list)")
    return dict(row) | {"files": json.loads(row["files"]), "status_changes": [
        dict(c) for c in conn.execute("SELECT old_status, new_status, changed_at, note FROM status_changes "
                                      "WHERE filing_id = ? ORDER BY id", (filing_id,))]}


def set_status(conn: sqlite3.Connection, filing_id: int, new: str, note: str | None = None) -> dict:
    """Move a record to ``new`` when ``TRANSITIONS`` allows it; the change is recorded."""
    if new not in STATUSES:
        raise FilingError(f"status: found {new!r}; expected one of {', '.join(STATUSES)}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT status FROM filings WHERE id = ?", (filing_id,)).fetchone()
        if row is None:
            raise FilingError(f"catalogue id: found {filing_id}; expected the id of a filed record")
        old = row["status"]
        if new not in TRANSITIONS[old]:
            allowed = ", ".join(TRANSITIONS[old]) or "none (withdrawn is final)"
            raise FilingError(f"record {filing_id} status: found {old} -> {new}; expected a change from {old} to: "
                              f"{allowed}")
        conn.execute("UPDATE filings SET status = ? WHERE id = ?", (new, filing_id))
        conn.execute("INSERT INTO status_changes (filing_id, old_status, new_status, changed_at, note) "
                     "VALUES (?, ?, ?, ?, ?)", (filing_id, old, new, _now(), note))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return get(conn, filing_id)


def records(conn: sqlite3.Connection, *, industry=None, product=None, status=None, enterprise=None,
            period=None) -> list[dict]:
    """Filed records (every version), filtered; ordered by enterprise, product, period, version."""
    where, args = [], []
    for col, value in (("industry", industry), ("product", product), ("status", status),
                       ("enterprise", enterprise)):
        if value:
            where.append(f"{col} = ?")
            args.append(value)
    if period:  # a year (2023) or a start date: the records whose reference period starts then
        where.append("(period_start = ? OR substr(period_start, 1, 4) = ?)")
        args += [period, period]
    sql = "SELECT * FROM filings" + (f" WHERE {' AND '.join(where)}" if where else "")
    rows = conn.execute(sql + " ORDER BY enterprise, product, period_start, version", args).fetchall()
    return [dict(r) | {"files": json.loads(r["files"])} for r in rows]


def public_records(conn: sqlite3.Connection) -> list[dict]:
    """What the public page shows: for each enterprise, product and period, its latest version whose status is in
    ``PUBLIC``."""
    latest: dict[tuple, dict] = {}
    for r in records(conn):
        if r["status"] in PUBLIC:
            latest[(r["enterprise"], r["product"], r["period_start"], r["period_end"])] = r  # ordered by version
    return list(latest.values())


def publish_site(conn: sqlite3.Connection, out: str | Path) -> tuple[Path, int]:
    """The public page of the catalogue's published records (``outputs.site``) in ``out``; (index.html, count)."""
    from methodology.outputs.site import write_site

    public = public_records(conn)
    return write_site(public, out, generated_at=_now()), len(public)
