"""The only layer that talks to Brightway (bw2data, bw2calc, bw2io).

- ``setup_project`` builds the shared, read-only template project offline: biosphere3 and the IPCC 2021
  methods from data shipped in bw2io, the workbench's own flows and indicators (fossil / biogenic /
  land use, biogenic CO2 counted +1/-1), and one background database per factor-set version.
- ``run_project`` gives one run a private, writable copy of that project (nothing shared is written).
- ``write_foreground`` and ``calculate`` write an enterprise's foreground and run the LCA.

bw2data reads ``BRIGHTWAY2_DIR`` when it is imported, so nothing here imports it at module import time.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import zipfile
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from methodology.core.contributions import Contributions
from methodology.core.foreground import Foreground
from methodology.core.matrix import Matrices, first_tier_contributions
from methodology.errors import ProjectNotReadyError
from methodology.gases import FLOWS, PCF_BIOSPHERE, Gas
from methodology.schema.factors import FactorSet

PROJECT = "pcf-workbench"
SETUP_VERSION = "1"  # bump when what setup_project writes changes
IPCC = ("IPCC 2021", "climate change", "global warming potential (GWP100)")
INDICATORS = {
    "fossil": ("PCF Workbench", "IPCC 2021 GWP100", "fossil"),
    "biogenic": ("PCF Workbench", "IPCC 2021 GWP100", "biogenic emissions and removals"),
    "land_use": ("PCF Workbench", "IPCC 2021 GWP100", "land use change"),
}
IPCC_SUBCATEGORY = {"fossil": "climate change: fossil", "biogenic": "climate change: biogenic",
                    "land_use": "climate change: land use"}


def brightway_dir() -> Path:
    """Where Brightway keeps its projects: ``BRIGHTWAY2_DIR`` or Brightway's own platform default."""
    env = os.environ.get("BRIGHTWAY2_DIR")
    if env:
        return Path(env).absolute()
    from platformdirs import PlatformDirs

    return Path(PlatformDirs("Brightway3", "pylca").user_data_dir)


def skip_slow_optional_imports() -> None:
    """Keep jsonschema from importing its optional ``rfc3987_syntax`` (1.7 s per import, measured).

    bw_processing imports jsonschema, whose format module then builds a Lark grammar for the "iri"
    formats at import time when rfc3987_syntax is installed (Jupyter's event schemas pull it in).
    Those formats are only checked with an explicit FormatChecker, which bw_processing never passes,
    so validation is unchanged. Only applied where Brightway is used and if not imported already.
    """
    import sys

    sys.modules.setdefault("rfc3987_syntax", None)


def _bw():
    skip_slow_optional_imports()
    import bw2data as bd

    return bd


def background_db_name(fs: FactorSet) -> str:
    return f"background {fs.id} {fs.version}"


# ---------------------------------------------------------------------------------------------
# set-up (shared template project; run once, single process)
# ---------------------------------------------------------------------------------------------
def setup_project(fs: FactorSet, *, force: bool = False, log=print) -> dict:
    """Build (or check) the template project for a factor set. Idempotent; offline."""
    os.environ.setdefault("BRIGHTWAY2_DIR", str(_ensure_dir(brightway_dir())))
    bd = _bw()
    bd.projects.set_current(PROJECT)
    meta = bd.projects.dataset.data.get("pcf_workbench", {})
    if force or meta.get("setup_version") != SETUP_VERSION or "biosphere3" not in bd.databases:
        log(f"Building biosphere and methods in project '{PROJECT}' at {bd.projects.dir}")
        _install_biosphere_and_methods(bd)
        bd.projects.dataset.data["pcf_workbench"] = {"setup_version": SETUP_VERSION}
        bd.projects.dataset.save()
    name = background_db_name(fs)
    have = bd.databases.get(name, {}).get("factor_set_sha256")
    if force or have != fs.sha256:
        log(f"Writing background database '{name}' ({len(fs.factors)} factors)")
        _write_background(bd, fs)
    return {"project": PROJECT, "dir": str(bd.projects.dir), "background": name}


def _ensure_dir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def _install_biosphere_and_methods(bd) -> None:
    import bw2io

    if "biosphere3" not in bd.databases:
        bw2io.create_default_biosphere3()
    _write_pcf_biosphere(bd)
    ipcc = _ipcc_methods_from_bw2io()
    for name, cfs in ipcc.items():
        m = bd.Method(name)
        if not m.registered:
            m.register(unit="kg CO2-Eq", description="IPCC 2021 (AR6), from bw2io's ecoinvent 3.9 LCIA data")
        m.write(cfs)
    for key, name in INDICATORS.items():
        cfs = list(ipcc[(IPCC[0], IPCC_SUBCATEGORY[key], IPCC[2])])
        cfs += _own_characterisation(bd, key)
        m = bd.Method(name)
        if not m.registered:
            m.register(unit="kg CO2-Eq", description=f"PCF Workbench indicator: {key} (ISO 14067 7.2)")
        m.write(cfs)


def _ipcc_methods_from_bw2io() -> dict[tuple, list]:
    """The IPCC 2021 GWP100 methods from bw2io's shipped LCIA data, with the list->tuple fix.

    ``bw2io.create_default_lcia_methods`` crashes with bw2data 4.8 because the shipped JSON holds
    flow identifiers as lists; converting them to tuples is all that is needed.
    """
    import bw2io

    path = Path(bw2io.__file__).parent / "data" / "lcia" / "lcia_39_ecoinvent.zip"
    with zipfile.ZipFile(path) as z:
        data = json.load(z.open("data.json"))
    out = {}
    for m in data:
        name = tuple(m["name"])
        if name[0] == "IPCC 2021" and name[2] == IPCC[2]:
            out[name] = [(tuple(e["input"]), e["amount"]) for e in m["exchanges"]]
    return out


_FLOW_KEYS: dict = {}


def _flow_key(bd, gas: Gas) -> tuple[str, str]:
    """(database, code) of a gas's elementary flow; looked up once per process."""
    db, name, categories = FLOWS[gas]
    if db == PCF_BIOSPHERE:
        return (db, gas.value)
    if gas not in _FLOW_KEYS:
        from bw2data.backends import ActivityDataset as AD

        hits = [r for r in AD.select().where((AD.database == db) & (AD.name == name))
                if tuple(r.data.get("categories", ())) == categories]
        if len(hits) != 1:
            raise ProjectNotReadyError(f"biosphere flow {name} {categories} found {len(hits)} times in {db}")
        _FLOW_KEYS[gas] = (db, hits[0].code)
    return _FLOW_KEYS[gas]


def _write_pcf_biosphere(bd) -> None:
    data = {}
    for gas, (db, name, categories) in FLOWS.items():
        if db == PCF_BIOSPHERE:
            data[(db, gas.value)] = {"name": name, "categories": categories, "unit": "kilogram",
                                     "type": "emission"}
    bd.Database(PCF_BIOSPHERE).write(data)


def _own_characterisation(bd, key: str) -> list:
    if key == "fossil":
        return [(_flow_key(bd, Gas.co2e_fossil), 1.0)]
    if key == "biogenic":
        # ISO 14067: biogenic emissions and removals reported separately: +1 emitted, -1 taken up
        return [(_flow_key(bd, Gas.co2_biogenic), 1.0), (_flow_key(bd, Gas.co2_uptake), -1.0),
                (_flow_key(bd, Gas.co2e_biogenic), 1.0)]
    return []


def _write_background(bd, fs: FactorSet) -> None:
    name = background_db_name(fs)
    flow = {g: _flow_key(bd, g) for g in Gas}
    data = {}
    for f in fs.factors:
        exchanges = [{"input": (name, f.id), "amount": 1.0, "type": "production"}]
        exchanges += [{"input": flow[g], "amount": kg, "type": "biosphere"}
                      for g, kg in f.emissions_kg().items() if kg != 0]
        data[(name, f.id)] = {
            "name": f.name, "unit": f.reference_unit, "location": f.geography,
            "reference product": f.name, "type": "process", "exchanges": exchanges,
            "comment": f"{f.status.value}; period {f.period}" + (f"; {f.note}" if f.note else ""),
            "category": f.category.value,
        }
    db = bd.Database(name)
    db.register(factor_set_id=fs.id, factor_set_version=fs.version, factor_set_sha256=fs.sha256,
                description=f"Background from factor set {fs.id} {fs.version}")
    db.write(data)
    bd.databases[name]["factor_set_sha256"] = fs.sha256
    bd.databases.flush()


def check_ready(fs: FactorSet) -> None:
    """Raise ProjectNotReadyError unless the template project holds what ``fs`` needs."""
    base = brightway_dir()
    if not (base / "projects.db").is_file():
        raise ProjectNotReadyError(
            f"No Brightway projects at {base} (BRIGHTWAY2_DIR). Run `pcf setup` first."
        )
    bd = _bw()
    if PROJECT not in bd.projects:
        raise ProjectNotReadyError(f"Brightway project '{PROJECT}' is missing at {base}. Run `pcf setup`.")
    bd.projects.set_current(PROJECT, update=False)
    name = background_db_name(fs)
    missing = [d for d in ("biosphere3", PCF_BIOSPHERE, name) if d not in bd.databases]
    if missing or any(not bd.Method(m).registered for m in INDICATORS.values()):
        raise ProjectNotReadyError(
            f"Project '{PROJECT}' at {base} is incomplete (missing {missing or 'methods'}). Run `pcf setup`."
        )
    if len(bd.Database(name)) == 0 or bd.databases[name].get("factor_set_sha256") != fs.sha256:
        raise ProjectNotReadyError(
            f"Background '{name}' does not match {fs.path} (edited since set-up?). Run `pcf setup`."
        )


# ---------------------------------------------------------------------------------------------
# per run: a private copy, the foreground, the LCA
# ---------------------------------------------------------------------------------------------
@contextmanager
def _old_objects_frozen():
    """Leave the objects that already exist out of the garbage collections bw2data forces.

    bw2data calls ``gc.collect()`` each time it points one of its SQLite databases at a new file (four
    times per project switch, so that a closed connection releases its file at once). In a kernel that
    has imported pandas and matplotlib each full collection takes about 0.1 s (measured), and most of a
    run's Brightway time went there. ``gc.freeze()`` moves the existing objects out of the collector's
    reach for the duration; connections are still closed explicitly by bw2data, and ``gc.unfreeze()``
    makes everything collectable again afterwards.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def run_project(workdir: str | Path, fs: FactorSet, *, keep: bool = False):
    """A private writable copy of the template project for one run; removed afterwards."""
    template_base = brightway_dir()
    os.environ["BRIGHTWAY2_DIR"] = str(template_base)
    bd = _bw()
    with _old_objects_frozen():
        check_ready(fs)
        src_dir = bd.projects.dir
        private = Path(workdir).absolute() / "brightway"
        if private.exists():
            shutil.rmtree(private)
        private.mkdir(parents=True)
        shutil.copy2(template_base / "projects.db", private / "projects.db")
        shutil.copytree(src_dir, private / src_dir.name)
        bd.projects.change_base_directories(private, project_name=PROJECT, update=False)
        try:
            yield bd
        finally:
            bd.projects.change_base_directories(template_base, project_name=PROJECT, update=False)
            if not keep:
                shutil.rmtree(private, ignore_errors=True)


def foreground_db_name(fg: Foreground) -> str:
    return f"foreground {fg.enterprise} {fg.product}"


def write_foreground(bd, fg: Foreground, fs: FactorSet) -> str:
    """Write the foreground as Brightway activities built from plain values (never copied DBs)."""
    name = foreground_db_name(fg)
    bg = background_db_name(fs)
    flow = {g: _flow_key(bd, g) for g in Gas}
    data = {}
    for pid, p in fg.processes.items():
        exchanges = [{"input": (name, pid), "amount": p.output, "type": "production"}]
        for e in p.exchanges:
            if e.kind == "biosphere":
                exchanges.append({"input": flow[Gas(e.target)], "amount": e.amount, "type": "biosphere",
                                  "comment": e.label})
            else:
                db = name if e.linked_to == "foreground" else bg
                exchanges.append({"input": (db, e.target), "amount": e.amount, "type": "technosphere",
                                  "comment": f"{e.label} [{e.origin.value}]"})
        data[(name, pid)] = {"name": p.name, "unit": p.unit, "location": "CN", "type": "process",
                             "reference product": p.product, "exchanges": exchanges,
                             "stage": p.stage, "allocation_factor": p.allocation_factor}
    if name in bd.databases:
        del bd.databases[name]
    bd.Database(name).write(data)
    return name


@dataclass(frozen=True)
class Calculation:
    """What Brightway computed for one declared unit."""

    scores: Mapping[str, float]  # bw2calc's LCIA score per indicator
    contributions: Contributions  # first-tier contributions from Brightway's own matrices and supply array
    cfs: Mapping[str, Mapping[str, float]]  # characterisation factor of each gas in the installed methods


def calculate(bd, fg: Foreground, fs: FactorSet) -> Calculation:
    """LCA of one declared unit; contributions from Brightway's own matrices."""
    import bw2calc as bc

    name = foreground_db_name(fg)
    final = bd.get_node(database=name, code=fg.final_process)
    fu, data_objs, remap = bd.prepare_lca_inputs({final: fg.demand}, method=INDICATORS["fossil"])
    lca = bc.LCA(fu, data_objs=data_objs, remapping_dicts=remap)
    lca.lci()
    scores, cfs = {}, {}
    for key, method in INDICATORS.items():
        lca.switch_method(method)
        lca.lcia()
        scores[key] = float(lca.score)
        cfs[key] = _cfs_by_gas(bd, method)
    m = _matrices_from_lca(bd, lca, fg, fs)
    return Calculation(scores, first_tier_contributions(m, fg, np.asarray(lca.supply_array)), cfs)


def _cfs_by_gas(bd, method) -> dict[str, float]:
    """Characterisation factor of each workbench gas in an installed method."""
    table = {}
    for k, v in bd.Method(method).load():
        table[tuple(k) if isinstance(k, list) else k] = v
    nodes = _nodes([k for k in table if isinstance(k, int)])
    table.update({nodes[k]: v for k, v in list(table.items()) if isinstance(k, int)})
    return {gas.value: float(table.get(_flow_key(bd, gas), 0.0)) for gas in Gas}


def _nodes(ids) -> dict[int, tuple[str, str]]:
    """node id -> (database, code), in one query instead of one per node."""
    from bw2data.backends import ActivityDataset as AD

    ids = list(ids)
    return {r.id: (r.database, r.code)
            for r in AD.select(AD.id, AD.database, AD.code).where(AD.id.in_(ids))}


def _matrices_from_lca(bd, lca, fg: Foreground, fs: FactorSet) -> Matrices:
    name, bg = foreground_db_name(fg), background_db_name(fs)
    act_index = lca.dicts.activity  # node id -> column
    nodes = _nodes(act_index.keys())
    acts: list[tuple[str, str]] = [("other", "")] * len(act_index)
    for node_id, col in act_index.items():
        db, code = nodes[node_id]
        kind = "foreground" if db == name else ("background" if db == bg else "other")
        acts[col] = (kind, code)
    gas_of = {_flow_key(bd, g): g for g in Gas}
    flow_nodes = _nodes(lca.dicts.biosphere.keys())
    B = lca.biosphere_matrix.tocsr()
    rows, flows = [], []
    for node_id, row in sorted(lca.dicts.biosphere.items(), key=lambda x: x[1]):
        gas = gas_of.get(flow_nodes[node_id])
        if gas is not None:
            rows.append(row)
            flows.append(gas)
        elif B[row].nnz and abs(B[row]).sum() > 0:
            raise ProjectNotReadyError(f"inventory holds flow {flow_nodes[node_id]}, not a workbench gas")
    demand = np.asarray(lca.demand_array).ravel()
    return Matrices(lca.technosphere_matrix.tocsc(), B[rows].tocsc(), acts, flows, demand)
