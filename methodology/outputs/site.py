"""The public page: a static site of filed records (issue 12), plain HTML, CSS and JavaScript, no build step, no CDN.

``write_site(records, out)`` writes ``index.html``, ``site.css``, ``site.js`` (from ``site_assets/``), the records
as ``data.js`` (a script setting ``window.PCF_CATALOGUE``, so the page opens from disk, ``file://``, where a
browser refuses ``fetch()``, and from any web server), and each record's label (``label.svg`` and ``label.png`` of
its run, copied to ``labels/``). The page searches and filters by industry, product, province and route, shows each
product's label, headline figures and a strip plot of its figure among the records of the same product and route
(drawn by ``site.js`` from the embedded data), in Chinese or English.

Which records are public is the caller's choice (``execution.filing.public_records``: published only). Only the
fields in ``PUBLIC_FIELDS`` leave the catalogue: no paths of the machine that filed them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from methodology.outputs.files import atomic_write_bytes, atomic_write_text

ASSETS = Path(__file__).with_name("site_assets")
PAGES = ("index.html", "site.css", "site.js")
PUBLIC_FIELDS = (
    "id", "version", "status", "label_id", "enterprise", "enterprise_name", "province", "province_zh", "subdivision",
    "illustrative", "industry", "product", "product_name", "product_family", "route", "route_name", "period_start",
    "period_end", "declared_unit", "total_kg_co2e", "fossil_kg_co2e", "biogenic_kg_co2e", "p2_5_kg_co2e",
    "p97_5_kg_co2e", "mc_iterations", "dq_combined_score", "dq_meets_rule", "pef_dqr", "pef_dqr_level",
    "verified_share", "rule_id", "rule_version", "rule_sha256", "factor_set_id", "factor_set_version",
    "factor_set_sha256", "result_sha256", "valid_from", "valid_until", "filed_at",
)
LABELS = ("label.svg", "label.png")


def public_entry(record: dict, out: Path) -> dict:
    """A record's public fields, with its labels copied under ``out/labels/`` (paths relative to ``out``)."""
    entry = {k: record.get(k) for k in PUBLIC_FIELDS}
    entry["illustrative"] = bool(entry["illustrative"])
    files = record.get("files") or {}
    for name in LABELS:
        src = files.get(name)
        key = name.replace(".", "_")
        entry[key] = None
        if src and Path(src).is_file():
            rel = f"labels/{record['label_id']}-v{record['version']}{Path(name).suffix}"
            atomic_write_bytes(out / rel, Path(src).read_bytes())
            entry[key] = rel
    return entry


def data_js(entries: list[dict], generated_at: str) -> str:
    """The script that embeds the records (JSON is valid JavaScript; ``</`` escaped so no string closes the tag)."""
    payload = json.dumps({"generated_at": generated_at, "records": entries}, ensure_ascii=False, indent=1,
                         allow_nan=False).replace("</", "<\\/")
    return f"window.PCF_CATALOGUE = {payload};\n"


def write_site(records: list[dict], out: str | Path, *, generated_at: str) -> Path:
    """Write the site into ``out`` (created; labels of records no longer public are removed); returns index.html."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "labels", ignore_errors=True)
    entries = [public_entry(r, out) for r in records]
    for name in PAGES:
        atomic_write_bytes(out / name, (ASSETS / name).read_bytes())
    atomic_write_text(out / "data.js", data_js(entries, generated_at))
    return out / "index.html"
