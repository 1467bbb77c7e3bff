"""The only layer that talks to Brightway (bw2data, bw2calc, bw2io).

- ``setup_project`` builds the shared, read-only template project of one factor set offline: biosphere3
  and the IPCC 2021 methods from data shipped in bw2io, the workbench's own flows and indicators (fossil /
  biogenic / land use, biogenic CO2 counted +1/-1), and the factor set's background database. There is one
  such project per factor-set content (id, version and sha256, ``project_name``): built once, marked
  complete only when fully written, never modified afterwards. An interrupted build leaves a project that
  is not marked complete (so never used); the next set-up removes and rebuilds it.
- ``run_project`` gives one run a private, writable copy of that project (nothing shared is written).
- An OS file lock in the Brightway folder (``LOCK_FILE``) is held exclusively while a project is built and
  shared while one is checked or copied, so that concurrent set-ups and runs never see a half-written one.
- ``write_foreground`` and ``calculate`` write an enterprise's foreground and run the LCA.

bw2data reads ``BRIGHTWAY2_DIR`` when it is imported, so nothing here imports it at module import time.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import sqlite3
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

PROJECT = "pcf-workbench"  # prefix of every template project's name (``project_name``)
SETUP_VERSION = "2"  # bump when what setup_project writes changes: a new name, so a new project
LOCK_FILE = ".pcf-workbench.lock"  # in the Brightway folder: exclusive while building, shared while copying
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


def usable_brightway_dir(*, create: bool) -> Path:
    """The Brightway folder, checked (and created with ``create``): ``ProjectNotReadyError`` saying why not."""
    base = brightway_dir()
    where = f"Brightway folder {base} (BRIGHTWAY2_DIR)" if os.environ.get("BRIGHTWAY2_DIR") else \
        f"Brightway folder {base}"
    if base.exists() and not base.is_dir():
        raise ProjectNotReadyError(f"{where}: found a file, not a folder; expected a folder (or set BRIGHTWAY2_DIR)")
    if create:
        try:
            base.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectNotReadyError(f"{where} cannot be created: {exc.strerror or exc}") from None
    if base.is_dir() and not os.access(base, os.R_OK | os.W_OK | os.X_OK):
        raise ProjectNotReadyError(f"{where} cannot be written by this user; expected a writable folder")
    return base


@contextmanager
def project_lock(base: Path, *, exclusive: bool):
    """``fcntl.flock`` on ``LOCK_FILE`` in the Brightway folder; released when the block ends or the process dies."""
    try:
        import fcntl
    except ImportError:  # not on Windows: no lock
        yield
        return
    try:
        fd = os.open(base / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        try:  # a folder this user may only read: a shared lock needs only to read the lock file
            fd = None if exclusive else os.open(base / LOCK_FILE, os.O_RDONLY)
        except OSError:
            fd = None
        if fd is None:
            raise ProjectNotReadyError(f"Brightway folder {base}: cannot open its lock file {LOCK_FILE}: "
                                       f"{exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def _readable_projects(base: Path):
    """Brightway's own SQLite or file errors (a corrupt ``projects.db``, ...) as ``ProjectNotReadyError``."""
    import peewee

    try:
        yield
    except (sqlite3.Error, peewee.PeeweeException, OSError) as exc:
        raise ProjectNotReadyError(f"Brightway folder {base} cannot be used ({type(exc).__name__}: {exc}); "
                                   f"expected the projects `pcf setup` builds (move the folder away, then run "
                                   f"`pcf setup`)") from None


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


def project_name(fs: FactorSet) -> str:
    """The template project of one factor-set content: id, version and the first 12 digits of its sha256."""
    return f"{PROJECT} s{SETUP_VERSION} {fs.id} {fs.version} {fs.sha256[:12]}"


def _marker(fs: FactorSet) -> dict:
    return {"setup_version": SETUP_VERSION, "factor_set_id": fs.id, "factor_set_version": fs.version,
            "factor_set_sha256": fs.sha256, "complete": True}


def _state(bd, fs: FactorSet) -> str:
    """'complete', 'incomplete' (an interrupted build: never used) or 'absent'."""
    name = project_name(fs)
    if name not in bd.projects:
        return "absent"
    from bw2data.project import ProjectDataset

    data = ProjectDataset.get(ProjectDataset.name == name).data or {}
    return "complete" if data.get("pcf_workbench") == _marker(fs) else "incomplete"


# ---------------------------------------------------------------------------------------------
# set-up (one template project per factor-set content; built once under the lock, never modified)
# ---------------------------------------------------------------------------------------------
def setup_project(fs: FactorSet, *, force: bool = False, log=print) -> dict:
    """Build (or find) the template project of a factor set's content. Idempotent; offline; safe to run in
    several processes at once. ``force`` rebuilds it (the same content, so runs are not disturbed)."""
    base = usable_brightway_dir(create=True)
    os.environ["BRIGHTWAY2_DIR"] = str(base)
    name = project_name(fs)
    with _readable_projects(base):
        if not force:
            # the first import of bw2data in a new folder creates projects.db: one process at a time (two doing it
            # at once failed one of them with a locked or half-made database, seen once on a loaded machine)
            with project_lock(base, exclusive=not (base / "projects.db").is_file()):
                if _state(_bw(), fs) == "complete":
                    return _info(_bw(), fs)
        with project_lock(base, exclusive=True):
            bd = _bw()
            state = _state(bd, fs)
            if state == "complete" and not force:  # another process built it while we waited
                return _info(bd, fs)
            if state != "absent":
                log(f"Removing {'an incomplete' if state == 'incomplete' else 'the'} project '{name}' to rebuild it")
                _delete_project(bd, name)
            _build(bd, fs, log)
            return _info(bd, fs)


def _info(bd, fs: FactorSet) -> dict:
    name = project_name(fs)
    return {"project": name, "dir": str(_project_dir(bd, name)), "background": background_db_name(fs)}


def _project_dir(bd, name: str) -> Path:
    from bw2data.project import ProjectDataset

    return bd.projects._project_dir(ProjectDataset.get(ProjectDataset.name == name))


def _delete_project(bd, name: str) -> None:
    """Remove a project and its folder (only ever an incomplete one, or one rebuilt with ``force``)."""
    folder = _project_dir(bd, name)
    if bd.projects.current == name:
        bd.projects.set_current("default", update=False)
    from bw2data.project import ProjectDataset

    ProjectDataset.delete().where(ProjectDataset.name == name).execute()
    shutil.rmtree(folder, ignore_errors=True)


def _build(bd, fs: FactorSet, log) -> None:
    """Write the whole project, then mark it complete: the marker is the last thing written."""
    name = project_name(fs)
    bd.projects.set_current(name)
    log(f"Building Brightway project '{name}' at {bd.projects.dir}: biosphere, methods, background "
        f"'{background_db_name(fs)}' ({len(fs.factors)} factors)")
    _install_biosphere_and_methods(bd)
    _write_background(bd, fs)
    bd.projects.dataset.data["pcf_workbench"] = _marker(fs)
    bd.projects.dataset.save()


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


def _factor_activities(bd, name: str, factors) -> dict:
    """Brightway activities of factors: each makes 1 reference unit and emits its cradle-to-gate gases."""
    flow = {g: _flow_key(bd, g) for g in Gas}
    data = {}
    for f in factors:
        exchanges = [{"input": (name, f.id), "amount": 1.0, "type": "production"}]
        exchanges += [{"input": flow[g], "amount": kg, "type": "biosphere"}
                      for g, kg in f.emissions_kg().items() if kg != 0]
        data[(name, f.id)] = {
            "name": f.name, "unit": f.reference_unit, "location": f.geography,
            "reference product": f.name, "type": "process", "exchanges": exchanges,
            "comment": f"{f.status.value}; period {f.period}" + (f"; {f.note}" if f.note else ""),
            "category": f.category.value,
        }
    return data


def _write_background(bd, fs: FactorSet) -> None:
    name = background_db_name(fs)
    added = set(fs.added)
    data = _factor_activities(bd, name, [f for f in fs.factors if f.id not in added])
    db = bd.Database(name)
    db.register(factor_set_id=fs.id, factor_set_version=fs.version, factor_set_sha256=fs.sha256,
                description=f"Background from factor set {fs.id} {fs.version}")
    db.write(data)
    bd.databases[name]["factor_set_sha256"] = fs.sha256
    bd.databases.flush()


def check_ready(fs: FactorSet) -> None:
    """Raise ProjectNotReadyError unless the template project of ``fs``'s content is complete.

    Call it holding ``project_lock`` (shared) when the project is then used."""
    base = usable_brightway_dir(create=False)
    if not (base / "projects.db").is_file():
        raise ProjectNotReadyError(
            f"No Brightway projects at {base} (BRIGHTWAY2_DIR). Run `pcf setup` first."
        )
    with _readable_projects(base):
        bd = _bw()
        name = project_name(fs)
        state = _state(bd, fs)
        if state == "incomplete":
            raise ProjectNotReadyError(f"Brightway project '{name}' at {base} is incomplete (its set-up was "
                                       f"interrupted). Run `pcf setup`.")
        if state == "absent":
            others = sorted(p.name for p in bd.projects if p.name.startswith(f"{PROJECT} s{SETUP_VERSION} "
                                                                              f"{fs.id} {fs.version} "))
            hint = (f"; there is one for other contents of {fs.id} {fs.version} ({', '.join(others)}): was "
                    f"{fs.path} edited since set-up?") if others else ""
            raise ProjectNotReadyError(f"No Brightway project for factor set {fs.id} {fs.version} (sha256 "
                                       f"{fs.sha256[:12]}, {fs.path}) at {base}{hint}. Run `pcf setup`.")


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
    """A private writable copy of the template project for one run; removed afterwards.

    The copy is taken holding the project lock (shared): a set-up in another process never writes while a
    project is copied, and the template itself is never written."""
    template_base = brightway_dir()
    os.environ["BRIGHTWAY2_DIR"] = str(template_base)
    name = project_name(fs)
    with _old_objects_frozen():
        private = Path(workdir).absolute() / "brightway"
        with project_lock(usable_brightway_dir(create=False), exclusive=False):
            with _readable_projects(template_base):
                check_ready(fs)
                bd = _bw()
                src_dir = _project_dir(bd, name)
            if private.exists():
                shutil.rmtree(private)
            private.mkdir(parents=True)
            shutil.copy2(template_base / "projects.db", private / "projects.db")
            shutil.copytree(src_dir, private / src_dir.name)
        bd.projects.change_base_directories(private, project_name=name, update=False)
        if keep:  # the kept folder lists only its own project (the copied projects.db lists every template)
            from bw2data.project import ProjectDataset

            ProjectDataset.delete().where(ProjectDataset.name.not_in([name, "default"])).execute()
        try:
            yield bd
        finally:
            with project_lock(template_base, exclusive=False):  # the template exists and is complete
                bd.projects.change_base_directories(template_base, project_name=name, update=False)
            if not keep:
                shutil.rmtree(private, ignore_errors=True)


def foreground_db_name(fg: Foreground) -> str:
    return f"foreground {fg.enterprise} {fg.product}"


def supplier_db_name(fg: Foreground) -> str:
    return f"supplier values {fg.enterprise} {fg.product}"


def _lognormal(amount: float, sigma: float | None) -> dict:
    """Brightway's (stats_arrays) lognormal uncertainty fields of an exchange, median ``amount``."""
    if not sigma or not amount:
        return {}
    return {"uncertainty type": 2, "loc": float(np.log(abs(amount))), "scale": float(sigma), "negative": amount < 0}


def write_foreground(bd, fg: Foreground, fs: FactorSet,
                     uncertainty: Mapping[tuple[str, str], float] | None = None) -> str:
    """Write the foreground as Brightway activities built from plain values (never copied DBs). The enterprise's
    supplier values (factors the study added to the file's set) go into a database of their own in the run's
    private project: the template's background is never written. ``uncertainty``: (process id, exchange label)
    -> sigma of a lognormal around the exchange's amount, for Brightway's own Monte Carlo (the benchmark)."""
    sig = uncertainty or {}
    name = foreground_db_name(fg)
    bg = background_db_name(fs)
    added = set(fs.added)
    if added:
        sdb = supplier_db_name(fg)
        if sdb in bd.databases:
            del bd.databases[sdb]
        bd.Database(sdb).write(_factor_activities(bd, sdb, [f for f in fs.factors if f.id in added]))
    flow = {g: _flow_key(bd, g) for g in Gas}
    data = {}
    for pid, p in fg.processes.items():
        exchanges = [{"input": (name, pid), "amount": p.output, "type": "production"}]
        for e in p.exchanges:
            u = _lognormal(e.amount, sig.get((pid, e.label)))
            if e.kind == "biosphere":
                exchanges.append({"input": flow[Gas(e.target)], "amount": e.amount, "type": "biosphere",
                                  "comment": e.label, **u})
            else:
                db = name if e.linked_to == "foreground" else (supplier_db_name(fg) if e.target in added else bg)
                exchanges.append({"input": (db, e.target), "amount": e.amount, "type": "technosphere",
                                  "comment": f"{e.label} [{e.origin.value}]", **u})
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


def monte_carlo_scores(bd, fg: Foreground, iterations: int, seed: int) -> np.ndarray:
    """Brightway's own Monte Carlo of the footprint (``bw2calc.LCA(..., use_distributions=True)`` iterated) on the
    foreground as written, with the uncertainty of its exchanges: the fossil GWP100 score of each iteration."""
    import bw2calc as bc

    final = bd.get_node(database=foreground_db_name(fg), code=fg.final_process)
    fu, data_objs, remap = bd.prepare_lca_inputs({final: fg.demand}, method=INDICATORS["fossil"])
    lca = bc.LCA(fu, data_objs=data_objs, remapping_dicts=remap, use_distributions=True, seed_override=seed)
    lca.lci()
    lca.lcia()
    out = np.empty(iterations)
    for i in range(iterations):
        next(lca)
        out[i] = lca.score
    return out


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
    name, bg = foreground_db_name(fg), (background_db_name(fs), supplier_db_name(fg))
    act_index = lca.dicts.activity  # node id -> column
    nodes = _nodes(act_index.keys())
    acts: list[tuple[str, str]] = [("other", "")] * len(act_index)
    for node_id, col in act_index.items():
        db, code = nodes[node_id]
        kind = "foreground" if db == name else ("background" if db in bg else "other")
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
