"""Excel data-collection workbooks (issue 12): their layout, and reading a filled one back.

One workbook per rule and route: a front sheet ``enterprise`` (one row per header field of a parameter file),
one sheet per process of the route (one row per input, output and process parameter the rule declares) and a
hidden sheet ``_ids`` naming the rule, the route and the process of each sheet. The ids the importer relies on
(the field of each front row, the flow key of each process row, the column ids in row 2) are in hidden, locked
cells. ``read`` turns a filled workbook into the mapping of a parameter file and the cell each field came from;
structural problems (a sheet renamed or missing, merged cells, a row missing, text in a number cell) are listed
with their cell, every one of them, and leave out only the fields they concern, so that the rest is validated in
the same pass. Validation is the parameter file's own (``schema.parameters``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from methodology.errors import Problem
from methodology.schema.rules import FlowKind, FlowSpec, Rule
from methodology.units import conversion_factor, convertible

FORMAT = "pcf-workbook 2"  # written in _ids!A1: the layout version the importer reads (2: uncertainty, supplier
# footprint and price cells)
FRONT, META = "enterprise", "_ids"
TITLE_ROW, ID_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 3, 4
YES, NO = ("yes", "是", "true"), ("no", "否", "false")
DQ = ("technological", "temporal", "geographical", "completeness", "reliability")
XLSX = (".xlsx", ".xlsm", ".xltx", ".xltm")  # what openpyxl opens (Office Open XML spreadsheets)


def is_workbook(path) -> bool:
    """Whether a file given where a parameter file is expected is a data-collection workbook (by its extension):
    it is then read by ``execution.workbooks``, everything else as a YAML parameter file."""
    return str(path).lower().endswith(XLSX)

# front sheet: (field path, Chinese label, English label, guidance)
FRONT_FIELDS = [
    ("enterprise.id", "企业标识", "Enterprise id", "lower-case words joined by hyphens, e.g. sd-steel-works-a"),
    ("enterprise.name", "企业名称", "Enterprise name", "as registered"),
    ("enterprise.province", "省份", "Province", "English or Chinese name, e.g. Shandong / 山东"),
    ("enterprise.grid_region", "电网区域", "Grid region", "only where the province lies in two grid regions"),
    ("enterprise.illustrative", "示例数据", "Illustrative", "yes: fictional or illustrative data; no: real data"),
    ("enterprise.description", "描述", "Description", "optional"),
    ("product", "产品", "Product", "the declared product (list)"),
    ("product_family", "产品类别", "Product family", "only when the rule lists families for the product"),
    ("route", "生产路线", "Route", "fixed by the template"),
    ("rule_set.id", "规则", "Rule set", "fixed by the template"),
    ("rule_set.version", "规则版本", "Rule version", "fixed by the template"),
    ("reference_period.start", "核算期开始", "Reference period start", "a date"),
    ("reference_period.end", "核算期结束", "Reference period end", "a date"),
    ("electricity_factor", "电力排放因子", "Electricity factor", "optional: one the rule allows; empty: the rule's"),
] + [(f"default_data_quality.{k}", f"默认数据质量: {zh}", f"Default data quality: {k}", "1 (best) to 5 (worst)")
     for k, zh in zip(DQ, ("技术", "时间", "地理", "完整性", "可靠性"), strict=True)]
FIXED = {"route", "rule_set.id", "rule_set.version"}
COMPONENT_UNITS = ("%", "1")  # a component's content: per cent or a plain fraction


def route_products(rule: Rule, route: str) -> list:
    """The rule's declared products whose final process is on ``route``."""
    r = rule.route(route)
    finals = set(r.processes + r.optional_processes)
    return [p for p in rule.products if p.final_process in finals]


def front_fields(rule: Rule, route: str, prices=()) -> list[tuple[str, str, str, str]]:
    """The front sheet's rows: the header fields, then value, unit and source of each declared component (nutrient,
    active substance ...) of the route's products, empty where the rule's content is to be used, then the prices
    (``price_fields``; ``prices``: ids of a pre-filled file's prices the route does not offer)."""
    out, seen = list(FRONT_FIELDS), set()
    for product in route_products(rule, route):
        for c in product.components:
            if c.id in seen:
                continue
            seen.add(c.id)
            given = (f"empty: the rule's {c.content.value:g} {c.content.unit or ''}".rstrip() if c.content
                     else "required for products with this component: the rule gives none (it varies by grade)")
            out += [(f"components.{c.id}.value", f"成分含量: {c.name}", f"Component content: {c.name}",
                     f"mass fraction in the product; {given}"),
                    (f"components.{c.id}.unit", f"成分含量单位: {c.name}", f"Component unit: {c.name}",
                     "% or 1 (a plain fraction)"),
                    (f"components.{c.id}.source", f"成分含量来源: {c.name}", f"Component source: {c.name}",
                     "the declared grade, analysis or standard the content comes from")]
    return out + price_fields(rule, route, prices)


def priced(rule: Rule, route: str) -> list[str]:
    """The products and co-products whose price an enterprise may give (``prices``): the outputs of the route's
    processes that make more than one, among which economic allocation shares the burden by revenue."""
    out: list[str] = []
    for pid in route_processes(rule, route):
        made = [f.product or f.coproduct for f in rule.process_by_id[pid].outputs
                if f.kind in (FlowKind.product, FlowKind.coproduct)]
        if len(made) > 1:
            out += [i for i in made if i not in out]
    return out


def price_fields(rule: Rule, route: str, extra=()) -> list[tuple[str, str, str, str]]:
    """Front rows of the prices (CNY per unit) of ``priced`` products and co-products, and of ``extra`` ids."""
    out = []
    for i in dict.fromkeys([*priced(rule, route), *extra]):
        spec = rule.coproduct_by_id.get(i) or rule.product_by_id.get(i)
        name, unit = (spec.name, spec.unit) if spec is not None else (i, "unit")
        default = spec.price if i in rule.coproduct_by_id else rule.allocation.product_prices.get(i)
        given = f"empty: the rule's {default:g}" if default is not None else "the rule gives none"
        out.append((f"prices.{i}", f"价格: {name} (元/{unit})", f"Price: {name} (CNY/{unit})",
                    f"CNY per {unit}, for allocation by revenue (economic); {given}"))
    return out


# process sheets: (column id, Chinese header, English header); transport columns per mode are added per rule
_HEAD = [("key", "标识", "id"), ("direction", "类型", "kind"), ("name", "名称", "name"), ("value", "数值", "value"),
         ("unit", "单位", "unit"), ("rule_unit", "规则单位", "rule unit"),
         ("plausible", "合理范围(每单位产品)", "plausible range (per unit of product)"),
         ("required", "必填", "required"), ("guidance", "说明", "guidance"), ("source", "数据来源", "source"),
         ("primary", "初级数据", "primary data"), ("basis", "获取方式", "basis"), ("year", "数据年份", "year"),
         ("region", "数据地域", "region")]
_DQ_COLS = [(f"dq_{k}", f"数据质量: {k}", f"data quality: {k}") for k in DQ]
_TAIL = [(f"{p}{s}", f"{zh}{szh}", f"{en}{sen}")
         for p, zh, en in (("carbon_content", "实测含碳量", "measured carbon content"),
                           ("net_calorific_value", "实测低位发热量", "measured net calorific value"))
         for s, szh, sen in (("", "", ""), ("_unit", " 单位", " unit"), ("_source", " 来源", " source"))]
_TAIL += [("uncertainty_gsd2", "不确定度 GSD² (对数正态)", "uncertainty GSD² (lognormal)"),
          ("uncertainty_source", "不确定度 来源", "uncertainty source"),
          ("supplier_footprint", "供应商碳足迹 (kg CO2e/单位)", "supplier footprint (kg CO2e per unit)"),
          ("supplier_footprint_unit", "供应商碳足迹 单位", "supplier footprint unit"),
          ("supplier_footprint_source", "供应商碳足迹 来源", "supplier footprint source"),
          ("supplier_footprint_verified", "供应商碳足迹 已核查", "supplier footprint verified"),
          ("supplier_footprint_note", "供应商碳足迹 备注", "supplier footprint note"),
          ("note", "备注", "note")]
INPUT_COLUMNS = {"value", "unit", "source", "primary", "basis", "year", "region", "note"}
NUMBER_COLUMNS = {"value", "year", "carbon_content", "net_calorific_value", "uncertainty_gsd2", "supplier_footprint"}
# the parts of a flow's value held by several cells: {field: {its sub-field: column id}}
NESTED = {"carbon_content": {"value": "carbon_content", "unit": "carbon_content_unit",
                             "source": "carbon_content_source"},
          "net_calorific_value": {"value": "net_calorific_value", "unit": "net_calorific_value_unit",
                                  "source": "net_calorific_value_source"},
          "uncertainty": {"gsd2": "uncertainty_gsd2", "source": "uncertainty_source"},
          "supplier_footprint": {"value": "supplier_footprint", "unit": "supplier_footprint_unit",
                                 "source": "supplier_footprint_source", "verified": "supplier_footprint_verified",
                                 "note": "supplier_footprint_note"}}
BASES, REGIONS = ("measured", "calculated", "estimated", "default"), ("site", "province", "country", "abroad",
                                                                        "unknown")
# units a template offers where they convert to the rule's unit (Chinese statistical units included)
UNIT_CHOICES = ("t", "kg", "kt", "Mt", "万t", "kWh", "MWh", "GWh", "万kWh", "亿kWh", "GJ", "MJ", "TJ", "tce",
                "万tce", "kgce", "m3", "Nm3", "kNm3", "MNm3", "万m3", "万Nm3", "t/t", "kg/t", "GJ/t", "percent", "1")


def columns(rule: Rule) -> list[tuple[str, str, str]]:
    """The columns of every process sheet of ``rule``'s workbooks, in order."""
    transport = [(f"transport_{m.id}", f"运输距离 {m.id} (km)", f"transport {m.id} (km)") for m in rule.transport_modes]
    return _HEAD + _DQ_COLS + transport + _TAIL


def letter(i: int) -> str:
    """Excel column letter of the 0-based column ``i``."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def units_for(unit: str, extra: str | None = None) -> list[str]:
    """The units offered for a value in the rule's ``unit``: the rule's first, the convertible choices, ``extra``."""
    out = [unit] + [u for u in UNIT_CHOICES if u != unit and convertible(u, unit)]
    if extra and extra not in out:
        out.append(extra)
    return out


def km_by_mode(legs) -> dict[str, float]:
    """A flow's transport legs as km per mode: one cell per mode holds them (the t*km the rule computes are the
    same whether the legs of a mode are given one by one or summed)."""
    km: dict[str, float] = {}
    for leg in legs:
        km[leg.mode] = km.get(leg.mode, 0.0) + leg.distance * conversion_factor(leg.unit, "km")
    return km


def sheet_title(pid: str) -> str:
    return pid[:31]  # Excel's limit on sheet names


def route_processes(rule: Rule, route: str) -> list[str]:
    r = rule.route(route)
    return [p.id for p in rule.processes if p.id in r.processes + r.optional_processes]


def rows_of(rule: Rule, pid: str) -> list[tuple[str, FlowSpec | object]]:
    """(row key, spec) of a process sheet: flows by their key, then ``parameter:<name>`` per process parameter."""
    spec = rule.process_by_id[pid]
    return [(f.key, f) for f in spec.flows()] + [(f"parameter:{p.name}", p) for p in spec.parameters]


@dataclass
class Read:
    """What a workbook says: the parameter file's mapping, the cell of each field, the structural problems, and the
    fields they left out (``refused``: a validation problem at or under one of them is not reported again)."""

    raw: dict = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)  # field path -> 'sheet'!A1
    problems: list[Problem] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    unlinked: set[str] = field(default_factory=set)  # inputs of a product whose maker's data were all refused

    def cell_of(self, fld: str) -> str | None:
        """The cell of a field path, or of the nearest enclosing field that has one."""
        best = None
        for path in self.cells:
            if _under(fld, path) and (best is None or len(path) > len(best)):
                best = path
        return self.cells.get(best) if best else None

    def refused_at(self, fld: str) -> bool:
        """Whether a validation problem at ``fld`` follows from a refused cell: ``fld`` is a refused field or lies
        under one, or is an input whose maker was refused whole ('no process makes it' would follow from that)."""
        return fld in self.unlinked or any(_under(fld, r) for r in self.refused)


def _under(fld: str, path: str) -> bool:
    return fld == path or fld.startswith((path + ".", path + "["))


def ref(ws, row: int, col: int) -> str:
    return f"'{ws.title}'!{letter(col)}{row}"


def meta(wb, file: str) -> tuple[dict[str, str], list[Problem]]:
    """The ``_ids`` sheet: {'format', 'rule_set.id', 'rule_set.version', 'route', 'sheet:<title>': process id}."""
    if META not in wb.sheetnames:
        return {}, [Problem(file, f"sheet '{META}'", "nothing (the hidden id sheet is gone)",
                            "a workbook made by pcf template (its hidden sheet _ids names the rule and route)")]
    ws = wb[META]
    out = {str(a.value): str(b.value) for a, b in ws.iter_rows(min_row=1, max_col=2) if a.value is not None}
    if out.get("format") != FORMAT:
        return out, [Problem(file, f"'{META}'!B1", repr(out.get("format")), f"{FORMAT!r} (made by pcf template)")]
    return out, []


def _group(path: str) -> str:
    """The entry a front field belongs to as validation reports it: a component's value, unit and source are one."""
    parts = path.split(".")
    return ".".join(parts[:2]) if parts[0] == "components" else path


def _column_group(c: str) -> str:
    """The field of a flow a refused number cell leaves out: the value (the whole entry), the pedigree scores, the
    transport legs, the stated uncertainty, or the cell's own field."""
    if c.startswith("dq_"):
        return "data_quality"
    if c.startswith("transport_"):
        return "transport"
    return "uncertainty" if c == "uncertainty_gsd2" else c


class Reader:
    """Reads one filled workbook against its rule and route (see the module docstring). A cell that cannot be read
    is a problem and leaves its field out (``Read.refused``); everything else is read, for validation to check."""

    def __init__(self, wb, rule: Rule, ids: dict[str, str], file: str):
        self.wb, self.rule, self.ids, self.file, self.out = wb, rule, ids, file, Read()
        self.cols = [c[0] for c in columns(rule)]
        self.merged: dict[str, set[int]] = {}  # sheet title -> rows with merged cells

    def problem(self, where: str, found: str, expected: str, refuse: str | None = None) -> None:
        self.out.problems.append(Problem(self.file, where, found, expected))
        if refuse is not None:
            self.out.refused.add(refuse)

    def read(self) -> Read:
        for ws in self.wb.worksheets:
            for rng in ws.merged_cells.ranges:
                self.problem(f"'{ws.title}'!{rng.coord}", "merged cells", "no merged cells (unmerge them)")
                self.merged.setdefault(ws.title, set()).update(range(rng.min_row, rng.max_row + 1))
        expected = {FRONT} | {t.removeprefix("sheet:") for t in self.ids if t.startswith("sheet:")} | {META}
        for title in self.wb.sheetnames:
            if title not in expected:
                self.problem(f"sheet '{title}'", "a sheet not in the template (renamed?)",
                             f"only the template's sheets: {sorted(expected - {META})}")
        self.front()
        self.out.raw["processes"], self.out.raw["parameters"] = {}, {}
        for key, pid in self.ids.items():
            if key.startswith("sheet:"):
                self.process(key.removeprefix("sheet:"), pid)
        if not self.out.raw["parameters"]:
            del self.out.raw["parameters"]
        self._unlinked()
        return self.out

    def _unlinked(self) -> None:
        pids = route_processes(self.rule, self.ids.get("route", ""))
        made = {o.product for pid in pids if f"processes.{pid}" in self.out.refused
                for o in self.rule.process_by_id[pid].products}
        self.out.unlinked |= {f"processes.{pid}.{f.key}" for pid in pids for f in self.rule.process_by_id[pid].inputs
                              if f.kind is FlowKind.intermediate and f.product in made}

    def _sheet(self, title: str):
        if title in self.wb.sheetnames:
            return self.wb[title]
        self.problem(f"sheet '{title}'", "nothing (renamed or deleted)", f"the template's sheet '{title}'")
        return None

    def front(self) -> None:
        fields = {path: en for path, _zh, en, _g in front_fields(self.rule, self.ids.get("route", ""))}
        for path in FIXED:  # the template's: the rest is checked against them
            _put(self.out.raw, path.split("."), self.ids.get(path))
        ws = self._sheet(FRONT)
        if ws is None:
            self.out.refused.update(path.split(".")[0] for path in fields if path not in FIXED)
            return
        rows = {ws.cell(r, 1).value: r for r in range(FIRST_ROW, ws.max_row + 1) if ws.cell(r, 1).value}
        fields |= {k: k for k in rows if isinstance(k, str) and k.startswith("prices.") and k not in fields}
        for path, en in fields.items():
            if path not in rows:
                self.problem(f"'{FRONT}'!A (field {path})", "no row", f"the template's row for {en}", _group(path))
            else:
                self.front_row(ws, path, rows[path])

    def front_row(self, ws, path: str, r: int) -> None:
        self.out.cells[path] = ref(ws, r, 2)
        parts = path.split(".")
        for i in range(1, len(parts)):  # a group's first cell (enterprise, components.k2o ...)
            self.out.cells.setdefault(".".join(parts[:i]), ref(ws, r, 2))
        value = ws.cell(r, 3).value
        if path in FIXED:
            if str(value) != self.ids.get(path):
                self.problem(ref(ws, r, 2), repr(value), f"{self.ids.get(path)!r} (fixed by the template)")
            return
        if r in self.merged.get(ws.title, ()):
            self.out.refused.add(_group(path))
            return
        value = self._front_value(path, value, ws, r)
        if value is not None:
            _put(self.out.raw, path.split("."), value)

    def _front_value(self, path: str, value, ws, r: int):
        if isinstance(value, str):
            value = value.strip() or None
        if value is None:
            return None
        if path == "enterprise.illustrative":
            return _yes_no(value, lambda: self.problem(ref(ws, r, 2), repr(value), "yes or no (是 / 否)", path))
        if path.startswith("reference_period."):
            return _date(value)
        if path.startswith("default_data_quality.") and isinstance(value, float) and value.is_integer():
            return int(value)
        if path.startswith("components.") and path.endswith((".unit", ".source")):
            return str(value)
        return str(value) if path in ("rule_set.version", "enterprise.name", "enterprise.province") else value

    def process(self, title: str, pid: str) -> None:
        ws = self._sheet(title)
        here = {f"processes.{pid}", f"parameters.{pid}"}
        if ws is None:
            self.out.refused |= here
            return
        self.out.cells[f"processes.{pid}"] = ref(ws, TITLE_ROW, 1)
        found = [ws.cell(ID_ROW, c + 1).value for c in range(len(self.cols))]
        if found != self.cols:
            bad = next(i for i, (a, b) in enumerate(zip(found, self.cols, strict=True)) if a != b)
            self.problem(ref(ws, ID_ROW, bad), repr(found[bad]), f"column id {self.cols[bad]!r}: the template's "
                         "columns in their order (a column was inserted, deleted or moved)")
            self.out.refused |= here
            return
        rows = {ws.cell(r, 1).value: r for r in range(FIRST_ROW, ws.max_row + 1) if ws.cell(r, 1).value}
        flows, params = self._entries(ws, pid, rows)
        known = {k for k, _ in rows_of(self.rule, pid)}
        for key, r in rows.items():
            if key not in known:
                self.problem(ref(ws, r, 0), repr(key), f"one of the template's rows {sorted(known)}")
        if flows:
            self.out.raw["processes"][pid] = flows
        elif any(x.startswith(f"processes.{pid}.") for x in self.out.refused):
            self.out.refused.add(f"processes.{pid}")  # every row given was refused: not 'no activity data'
        if params:
            self.out.raw["parameters"][pid] = params

    def _entries(self, ws, pid: str, rows: dict) -> tuple[dict, dict]:
        """The flows and parameters of a process sheet, each row read (or reported) on its own."""
        flows, params = {}, {}
        for key, spec in rows_of(self.rule, pid):
            is_flow = isinstance(spec, FlowSpec)
            name = key.removeprefix("parameter:")
            where = f"processes.{pid}.{key}" if is_flow else f"parameters.{pid}.{name}"
            if key not in rows:
                self.problem(f"'{ws.title}'!A (row of {key})", "no row (deleted?)",
                             f"the template's row for {spec.name if is_flow else key}", where)
                continue
            entry = self.row(ws, rows[key], where, is_flow)
            if entry is not None:
                (flows if is_flow else params)[name] = entry
        return flows, params

    def row(self, ws, r: int, where: str, is_flow: bool) -> dict | None:
        cells = {c: ws.cell(r, i + 1).value for i, c in enumerate(self.cols)}
        cells = {c: (v.strip() or None) if isinstance(v, str) else v for c, v in cells.items()}
        for i, c in enumerate(self.cols):
            self.out.cells[f"{where}.{c}"] = ref(ws, r, i)
        self.out.cells[where] = ref(ws, r, self.cols.index("value"))
        if r in self.merged.get(ws.title, ()):
            self.out.refused.add(where)
            return None
        if cells["value"] is None:
            given = [c for c in INPUT_COLUMNS - {"value", "unit"} if cells[c] is not None]
            if given:
                self.problem(ref(ws, r, self.cols.index("value")), f"nothing (but {', '.join(sorted(given))} given)",
                             "the value, or nothing in the row", where)
            return None
        bad = self._numbers(ws, r, cells, is_flow)
        if "value" in bad:
            self.out.refused.add(where)
            return None
        self.out.refused.update(f"{where}.{g}" for g in bad)
        return self._flow(cells, where, bad) if is_flow else _param(cells)

    def _numbers(self, ws, r: int, cells: dict, is_flow: bool) -> set[str]:
        """The fields whose number cells hold text (each reported with its cell)."""
        bad = set()
        for c in sorted(NUMBER_COLUMNS | {c for c in self.cols if c.startswith(("dq_", "transport_"))}):
            v = cells[c]
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                if not (c == "value" and not is_flow and isinstance(v, str)):  # a choice parameter's value
                    self.problem(ref(ws, r, self.cols.index(c)), f"text {v!r}" if isinstance(v, str) else repr(v),
                                 "a number (no text, no thousands separators)")
                    bad.add(_column_group(c))
        return bad

    def _flow(self, cells: dict, where: str, bad: set[str]) -> dict:
        out = {"value": cells["value"], "unit": _text(cells["unit"]), "source": cells["source"]}
        out = {k: v for k, v in out.items() if v is not None}
        if cells["primary"] is not None:
            self._yes_no_cell(cells["primary"], where, "primary", out)
        for c in ("basis", "region", "note"):
            if cells[c] is not None:
                out[c] = cells[c]
        if cells["year"] is not None and "year" not in bad:
            out["year"] = _whole(cells["year"])
        scores = {k: _whole(cells[f"dq_{k}"]) for k in DQ if cells[f"dq_{k}"] is not None}
        for k in DQ:
            self.out.cells[f"{where}.data_quality.{k}"] = self.out.cells[f"{where}.dq_{k}"]
        if scores and "data_quality" not in bad:
            out["data_quality"] = scores
        if "transport" not in bad:
            self._transport(cells, where, out)
        self._nested(cells, where, out, bad)
        return out

    def _yes_no_cell(self, value, where: str, sub: str, out: dict) -> None:
        """``out[sub]``: a yes/no cell's value, or a problem with its cell (and the field left out)."""
        cell = self.out.cells[f"{where}.{sub.replace('.', '_')}"]
        yes = _yes_no(value, lambda: self.problem(cell, repr(value), "yes or no (是 / 否)", f"{where}.{sub}"))
        if yes is not None:
            out[sub.rsplit(".", 1)[-1]] = yes

    def _transport(self, cells: dict, where: str, out: dict) -> None:
        legs = [{"mode": c.removeprefix("transport_"), "distance": cells[c]} for c in self.cols
                if c.startswith("transport_") and cells[c] is not None]
        for i, leg in enumerate(legs):
            self.out.cells[f"{where}.transport[{i}]"] = self.out.cells[f"{where}.transport_{leg['mode']}"]
        if legs:
            out["transport"] = legs
            self.out.cells[f"{where}.transport"] = self.out.cells[f"{where}.transport_{legs[0]['mode']}"]

    def _nested(self, cells: dict, where: str, out: dict, bad: set[str]) -> None:
        """Measured carbon content and net calorific value, the stated uncertainty and the supplier's footprint,
        each a mapping of its cells when any but the unit is given (``NESTED``)."""
        for group, parts in NESTED.items():
            for sub, col in parts.items():
                self.out.cells[f"{where}.{group}.{sub}"] = self.out.cells[f"{where}.{col}"]
            self.out.cells[f"{where}.{group}"] = self.out.cells[f"{where}.{next(iter(parts.values()))}"]
            given = {sub: cells[col] for sub, col in parts.items() if cells[col] is not None}
            if group in bad or not set(given) - {"unit"}:
                continue
            if "unit" in given:
                given["unit"] = str(given["unit"])
            if "verified" in given:
                verified = given.pop("verified")
                self._yes_no_cell(verified, where, f"{group}.verified", given)
            out[group] = given


def _param(cells: dict) -> dict:
    out = {"value": cells["value"], "unit": _text(cells["unit"]) or "", "source": cells["source"],
           "note": cells["note"]}
    return {k: v for k, v in out.items() if v is not None}


def _text(v):
    return None if v is None else str(v)


def _whole(v):
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _yes_no(value, bad):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    bad()
    return None


def _date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value  # the schema reports it as not a date
    return value


def _put(raw: dict, path: list[str], value) -> None:
    for k in path[:-1]:
        raw = raw.setdefault(k, {})
    raw[path[-1]] = value
