"""The Excel data-collection workbook of a rule and route (``pcf template``), optionally pre-filled from a parameter
file. Layout in ``schema.workbook``: a front sheet for the enterprise, one sheet per process of the route, a hidden
id sheet; ids in hidden locked cells, data validation where Excel offers it, bilingual headers (中文 / English);
the rule's names as the rule writes them."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from methodology.schema import workbook as W
from methodology.schema.parameters import ParameterFile
from methodology.schema.rules import FlowSpec, Rule

BOLD, INPUT = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")  # input cells in light yellow
OPEN = Protection(locked=False)


def _list(values) -> DataValidation:
    return DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)


def _validate(ws, dv: DataValidation, cell: str) -> None:
    ws.add_data_validation(dv)
    dv.add(cell)


def _decimal() -> DataValidation:
    return DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                          error="a number >= 0 / 请填写大于等于0的数字", showErrorMessage=True)


def _whole(lo: int, hi: int) -> DataValidation:
    return DataValidation(type="whole", operator="between", formula1=str(lo), formula2=str(hi), allow_blank=True,
                          showErrorMessage=True)


def _open(cell, value=None) -> None:
    if value is not None:
        cell.value = value
    cell.protection, cell.fill = OPEN, INPUT


def _protect(ws) -> None:
    ws.protection.sheet = True
    ws.protection.formatColumns = ws.protection.formatRows = False  # widths and heights may still change
    ws.column_dimensions["A"].hidden = True
    ws.row_dimensions[W.ID_ROW].hidden = True
    ws.freeze_panes = ws.cell(W.FIRST_ROW, 4)


def _front(wb, rule: Rule, route: str, pf: ParameterFile | None) -> None:
    ws = wb.active
    ws.title = W.FRONT
    ws.cell(W.TITLE_ROW, 2, f"企业信息 Enterprise — {rule.rule_set.title} ({rule.id} {rule.version}), "
                            f"route {route}").font = BOLD
    for c, (cid, head) in enumerate((("field", "字段 field"), ("label", "项目 item"), ("value", "填写 value"),
                                     ("guidance", "说明 guidance")), start=1):
        ws.cell(W.ID_ROW, c, cid)
        ws.cell(W.HEADER_ROW, c, head).font = BOLD
    products = W.route_products(rule, route)
    given = _front_values(pf, rule, route)
    for r, (path, zh, en, guide) in enumerate(W.front_fields(rule, route, pf.prices if pf else ()),
                                              start=W.FIRST_ROW):
        ws.cell(r, 1, path)
        ws.cell(r, 2, f"{zh} / {en}")
        ws.cell(r, 4, guide)
        cell = ws.cell(r, 3, given.get(path))
        if path in W.FIXED:
            continue
        _open(cell)
        dv = _front_validation(path, rule, products)
        if dv is not None:
            _validate(ws, dv, cell.coordinate)
        if path.startswith("reference_period."):
            cell.number_format = "yyyy-mm-dd"
    for col, width in zip("BCD", (34, 40, 60), strict=True):
        ws.column_dimensions[col].width = width
    _protect(ws)


def _front_validation(path: str, rule: Rule, products: list) -> DataValidation | None:
    """Excel's check of a front-sheet cell: lists of the rule's products, families, factors; dates; scores."""
    fams = [f.id for p in products for f in p.families]
    lists = {"product": [p.id for p in products], "product_family": fams or None,
             "enterprise.illustrative": ["yes", "no", "是", "否"],
             "electricity_factor": rule.electricity.allowed_factors or None}
    if lists.get(path):
        return _list(lists[path])
    if path.startswith("reference_period."):
        return DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True)
    if path.startswith("default_data_quality."):
        return _whole(1, 5)
    if path.startswith("prices."):
        return _decimal()
    if path.startswith("components."):
        return _decimal() if path.endswith(".value") else _list(W.COMPONENT_UNITS) if path.endswith(".unit") else None
    return None


def _front_values(pf: ParameterFile | None, rule: Rule, route: str) -> dict:
    out = {"route": route, "rule_set.id": rule.id, "rule_set.version": rule.version}
    if pf is None:
        return out
    e = pf.enterprise
    out.update({"enterprise.id": e.id, "enterprise.name": e.name, "enterprise.province": e.province,
                "enterprise.grid_region": e.grid_region, "enterprise.illustrative": "yes" if e.illustrative else "no",
                "enterprise.description": e.description, "product": pf.product, "product_family": pf.product_family,
                "reference_period.start": pf.reference_period.start, "reference_period.end": pf.reference_period.end,
                "electricity_factor": pf.electricity_factor})
    out.update({f"default_data_quality.{k}": getattr(pf.default_data_quality, k) for k in W.DQ})
    out.update({f"prices.{k}": v for k, v in pf.prices.items()})
    for cid, c in pf.components.items():
        out.update({f"components.{cid}.value": c.value, f"components.{cid}.unit": c.unit or "1",
                    f"components.{cid}.source": c.source})
    return out


def _plausible(f: FlowSpec) -> str:
    p = f.plausible
    return "" if p is None else f"{p.min:g} – {p.max:g} {p.unit}"


def _guidance(f: FlowSpec) -> str:
    parts = [f.kind.value.replace("_", " ")]
    if f.primary_data_mandatory:
        parts.append("primary data mandatory / 必须为初级数据")
    if f.transport:
        parts.append("inbound transport km per mode / 可填运输距离")
    if f.measured:
        parts.append("may be measured: " + ", ".join(m.value for m in f.measured))
    if f.note:
        parts.append(f.note)
    return "; ".join(parts)


class _Sheet:
    """One process sheet being written."""

    def __init__(self, ws, rule: Rule):
        self.ws, self.rule = ws, rule
        self.cols = [c[0] for c in W.columns(rule)]

    def col(self, cid: str) -> int:
        return self.cols.index(cid) + 1

    def cell(self, r: int, cid: str):
        return self.ws.cell(r, self.col(cid))

    def header(self, spec) -> None:
        ws = self.ws
        ws.cell(W.TITLE_ROW, 1, spec.id)
        ws.cell(W.TITLE_ROW, 2, f"工序 Process: {spec.name} ({spec.id})").font = BOLD
        for c, (cid, zh, en) in enumerate(W.columns(self.rule), start=1):
            ws.cell(W.ID_ROW, c, cid)
            head = ws.cell(W.HEADER_ROW, c, f"{zh}\n{en}")
            head.font, head.alignment = BOLD, Alignment(wrap_text=True, vertical="top")
            ws.column_dimensions[W.letter(c - 1)].width = {"name": 30, "guidance": 40, "source": 36}.get(cid, 13)

    def flow(self, r: int, f: FlowSpec, pid: str, given) -> None:
        is_input = any(x is f for x in self.rule.process_by_id[pid].inputs)
        fixed = {"key": f.key, "direction": "输入 input" if is_input else "输出 output", "name": f.name,
                 "rule_unit": f.unit, "plausible": _plausible(f), "required": "是 yes" if f.required else "否 no",
                 "guidance": _guidance(f)}
        for cid, v in fixed.items():
            self.cell(r, cid).value = v
        for cid in ("value", "unit", "source", "primary", "basis", "year", "region", "note"):
            _open(self.cell(r, cid))
        ws = self.ws
        _validate(ws, _decimal(), self.cell(r, "value").coordinate)
        _validate(ws, _list(W.units_for(f.unit, given.unit if given else None)), self.cell(r, "unit").coordinate)
        _validate(ws, _list(["yes", "no", "是", "否"]), self.cell(r, "primary").coordinate)
        _validate(ws, _list(W.BASES), self.cell(r, "basis").coordinate)
        _validate(ws, _list(W.REGIONS), self.cell(r, "region").coordinate)
        _validate(ws, _whole(1900, 2100), self.cell(r, "year").coordinate)
        for k in W.DQ:
            _open(self.cell(r, f"dq_{k}"))
            _validate(ws, _whole(1, 5), self.cell(r, f"dq_{k}").coordinate)
        if f.transport:
            for m in self.rule.transport_modes:
                _open(self.cell(r, f"transport_{m.id}"))
                _validate(ws, _decimal(), self.cell(r, f"transport_{m.id}").coordinate)
        self.nested(r, f, given)
        self.cell(r, "unit").value = f.unit
        if given is not None:
            self.fill_flow(r, given)

    def nested(self, r: int, f: FlowSpec, given) -> None:
        """The cells of the measured properties and the supplier footprint the rule lets the flow have, and of a
        stated uncertainty (any flow may state one instead of its pedigree's)."""
        ws, allowed = self.ws, {m.value for m in f.measured} | {"uncertainty"}
        for group, parts in W.NESTED.items():
            if group not in allowed:
                continue
            for col in parts.values():
                _open(self.cell(r, col))
            if group != "uncertainty":
                _validate(ws, _decimal(), self.cell(r, next(iter(parts.values()))).coordinate)
        if "supplier_footprint" in allowed:
            extra = given.supplier_footprint.unit if given is not None and given.supplier_footprint else None
            units = [f"kg/{f.unit}", f"t/{f.unit}"] + [f"kg/{u}" for u in W.units_for(f.unit)[1:3]]
            _validate(ws, _list(units + ([extra] if extra and extra not in units else [])),
                      self.cell(r, "supplier_footprint_unit").coordinate)
            _validate(ws, _list(["yes", "no", "是", "否"]), self.cell(r, "supplier_footprint_verified").coordinate)
        _validate(ws, DataValidation(type="decimal", operator="between", formula1="1.000001", formula2="100",
                                     allow_blank=True, showErrorMessage=True,
                                     error="GSD² > 1 and <= 100 / 几何标准差的平方, 大于1"),
                  self.cell(r, "uncertainty_gsd2").coordinate)

    def fill_flow(self, r: int, v) -> None:
        for cid in ("value", "unit", "source", "basis", "year", "region", "note"):
            x = getattr(v, cid)
            self.cell(r, cid).value = x.value if hasattr(x, "value") and not isinstance(x, float) else x
        if "primary" in v.model_fields_set:
            self.cell(r, "primary").value = "yes" if v.primary else "no"
        if v.data_quality is not None:
            for k in W.DQ:
                self.cell(r, f"dq_{k}").value = getattr(v.data_quality, k)
        for mode, d in W.km_by_mode(v.transport).items():
            if f"transport_{mode}" in self.cols:
                self.cell(r, f"transport_{mode}").value = d
        for group, parts in W.NESTED.items():
            m = getattr(v, group)
            if m is None:
                continue
            for sub, col in parts.items():
                x = getattr(m, sub)
                self.cell(r, col).value = ("yes" if x else "no") if isinstance(x, bool) else x

    def parameter(self, r: int, p, given) -> None:
        rng = f"{p.min:g} – {p.max:g} {p.unit}" if p.min is not None and p.max is not None else ""
        default = f"; default {p.default.value} ({p.default.source})" if p.default is not None else ""
        fixed = {"key": f"parameter:{p.name}", "direction": "参数 parameter", "name": p.name,
                 "rule_unit": p.unit or ("choice" if p.is_choice else "1"), "plausible": rng,
                 "required": "是 yes" if p.required else "否 no", "guidance": p.description + default}
        for cid, v in fixed.items():
            self.cell(r, cid).value = v
        for cid in ("value", "unit", "source", "note"):
            _open(self.cell(r, cid))
        value = self.cell(r, "value").coordinate
        if p.is_choice:
            _validate(self.ws, _list(p.choices), value)
        else:
            _validate(self.ws, DataValidation(type="decimal", operator="between", formula1=str(p.min or 0),
                                              formula2=str(p.max if p.max is not None else 1e15), allow_blank=True),
                      value)
            _validate(self.ws, _list(W.units_for(p.unit, given.unit if given else None)),
                      self.cell(r, "unit").coordinate)
            self.cell(r, "unit").value = p.unit
        if given is not None:
            self.cell(r, "value").value, self.cell(r, "source").value = given.value, given.source
            self.cell(r, "unit").value, self.cell(r, "note").value = given.unit or None, given.note


def _process(wb, rule: Rule, route: str, pid: str, pf: ParameterFile | None) -> None:
    spec = rule.process_by_id[pid]
    ws = wb.create_sheet(W.sheet_title(pid))
    s = _Sheet(ws, rule)
    s.header(spec)
    flows = pf.processes.get(pid, {}) if pf else {}
    params = pf.parameters.get(pid, {}) if pf else {}
    required = pid in rule.route(route).processes
    ws.cell(W.TITLE_ROW, 4, "必需工序 required process" if required else
            "可选工序 optional process: leave it empty if the site has none / 无此工序则留空")
    for r, (key, f) in enumerate(W.rows_of(rule, pid), start=W.FIRST_ROW):
        if isinstance(f, FlowSpec):
            s.flow(r, f, pid, flows.get(key))
        else:
            s.parameter(r, f, params.get(f.name))
    _protect(ws)


def template(rule: Rule, route: str, pf: ParameterFile | None = None) -> bytes:
    """The workbook (xlsx bytes) of ``rule`` and ``route``; pre-filled from ``pf`` when given."""
    wb = Workbook()
    _front(wb, rule, route, pf)
    pids = W.route_processes(rule, route)
    for pid in pids:
        _process(wb, rule, route, pid, pf)
    ids = wb.create_sheet(W.META)
    rows = [("format", W.FORMAT), ("rule_set.id", rule.id), ("rule_set.version", rule.version), ("route", route)]
    rows += [(f"sheet:{W.sheet_title(pid)}", pid) for pid in pids]
    for r, (k, v) in enumerate(rows, start=1):
        ids.cell(r, 1, k)
        ids.cell(r, 2, v)
    ids.sheet_state = "hidden"
    ids.protection.sheet = True
    wb.security = WorkbookProtection(lockStructure=True)  # no sheet renamed, moved or deleted in Excel
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
