"""``cbam.csv`` and ``cbam.xlsx``: the CBAM figures of a result (``core.cbam``) as the lines an operator carries into
the Communication Template for installations (the good's CN code and category, the attributed direct and
indirect emissions, the precursors, the specific embedded emissions per tonne of good), with the reconciliation
to the PCF and the boundary notes. Written by every run whose product is a CBAM good (``standards/cbam``);
nothing for the others.

One table, columns ``section``, ``item``, ``value``, ``unit``, ``basis``, ``note``: emission lines give t CO2e per
t of good (the template's unit); CSV in UTF-8 with a byte-order mark (as results.csv), the workbook the same table
(sheet ``cbam``) and the notes (sheet ``boundary notes``).
"""

from __future__ import annotations

from pathlib import Path

from methodology.core.cbam import CbamFigures, GridFactors, Line, embedded_emissions
from methodology.schema.cbam import GoodsFile, default_goods

FILES = ("cbam.csv", "cbam.xlsx")
COLUMNS = ["section", "item", "value", "unit", "basis", "note"]
PER_T = "t CO2e/t good"


def figures_of(result: dict, goods: GoodsFile | None = None, *, grid: GridFactors | None = None
               ) -> CbamFigures | None:
    """The CBAM figures of a result (its JSON form), None when its product is no CBAM good."""
    from methodology.schema.methods import gwp_indicators

    goods = goods or default_goods()
    family = (result.get("product_family") or {}).get("id")
    good = goods.good(result["provenance"]["rule_set"]["id"], result["product"]["id"], family)
    if good is None:
        return None
    tables = gwp_indicators()
    gwp = {gas: cf for table in tables.values() for gas, cf in table.items()}
    return embedded_emissions(result, good, goods.categories[good.category], gwp=gwp, notes=goods.notes,
                              grid=grid if grid is not None else grid_factors(result, goods))


def rows(result: dict, fig: CbamFigures) -> list[dict]:
    """The table's rows (module docstring)."""
    g, c, t = fig.good, fig.category, fig.tonnes_per_unit
    ident = [("enterprise", result["enterprise"]["name"]), ("illustrative", result["enterprise"]["illustrative"]),
             ("product", result["product"]["name"]), ("CN code", g.cn_code), ("CN description", g.description),
             ("CN code verified", ("yes: " if g.cn_check.verified else "no: ") + g.cn_check.source),
             ("Annex I entry (Regulation (EU) 2023/956)", f"{g.annex_i.code} {g.annex_i.title}"
              + (f", except {', '.join(g.annex_i.excluding)}" if g.annex_i.excluding else "")),
             ("aggregated goods category", c.name), ("sector", c.sector),
             ("relevant precursors", ", ".join(c.precursors) or "none"),
             ("relevant precursors read", ("yes: " if c.precursors_check.verified else "no: ")
              + c.precursors_check.source),
             ("gases counted", ", ".join(x.value for x in c.gases)),
             ("indirect emissions in the CBAM obligation", c.indirect_in_obligation),
             ("reporting period", f"{result['reference_period']['start']} to {result['reference_period']['end']}"),
             ("activity level", f"{t:g} t of good per declared unit"),
             ("monitoring rules", "Implementing Regulation (EU) 2025/2547 Annex II and III (definitive period); "
                                  "Implementing Regulation (EU) 2023/1773 (transitional period)")]
    out = [dict(section="good", item=k, value=v, unit="", basis="", note="") for k, v in ident]

    def emission(x: Line) -> dict:
        return dict(section=x.section, item=x.item, value=x.kg_co2e / 1000 / t, unit=PER_T, basis=x.basis,
                    note=x.note)

    out += [emission(x) for x in fig.direct + fig.indirect]
    out += [dict(section="indirect", item="electricity consumed (grid)", value=x.quantity / 1000 / t,
                 unit="MWh/t good", basis=x.basis, note="") for x in fig.indirect if x.quantity is not None]
    out += [emission(x) for x in fig.precursors]
    direct = sum(x.kg_co2e for x in fig.direct) / 1000 / t
    out += [dict(section="specific", item=k, value=v, unit=PER_T, basis=b, note="") for k, v, b in (
        ("attributed direct emissions of the good's processes", direct, "sum of section direct"),
        ("embedded emissions of precursors", fig.see_direct - direct, "sum of section precursors"),
        ("specific direct embedded emissions (SEE direct)", fig.see_direct, "direct + precursors"),
        ("specific indirect embedded emissions (SEE indirect)", fig.see_indirect, "sum of section indirect"),
        ("specific total embedded emissions", fig.see_total, "SEE direct + SEE indirect"))]
    pcf = result["gwp100_kg_co2e"]["total"] / 1000 / t
    out.append(dict(section="reconciliation", item="cradle-to-gate PCF (ISO 14067)", value=pcf, unit=PER_T,
                    basis="gwp100_kg_co2e.total of result.json", note="= CBAM total + the lines below"))
    out += [emission(x) for x in fig.reconciliation]
    out += [dict(section="boundary notes", item=str(i), value="", unit="", basis=n, note="")
            for i, n in enumerate(fig.notes, 1)]
    return out


def grid_factors(result: dict, goods: GoodsFile | None = None) -> GridFactors:
    """kg CO2e per kWh of the result's grid factor and of the CO2 factor CBAM takes (the goods file's
    ``grid_electricity``), both from the result's factor set when the file still holds the content the result used;
    values it cannot find stay None (grid electricity then keeps the PCF's value, and says so)."""
    from methodology.errors import MethodologyError
    from methodology.schema.factors import load_factor_set
    from methodology.schema.methods import gwp_indicators

    goods = goods or default_goods()
    choice = goods.cbam.grid_electricity
    ref = result["provenance"]["factor_set"]
    try:
        fs = load_factor_set(ref["path"])
    except (MethodologyError, OSError):
        return GridFactors(None, choice.factor, None, choice.basis)
    if fs.sha256 != ref["sha256"]:
        return GridFactors(None, choice.factor, None, choice.basis)
    fossil = gwp_indicators()["fossil"]

    def per_kwh(fid: str) -> float | None:
        f = next((f for f in fs.factors if f.id == fid), None)
        if f is None or str(f.reference_unit) != "kWh":
            return None
        return sum(e.value * fossil.get(e.gas.value, 1.0) for e in f.emissions)

    return GridFactors(per_kwh(result["electricity_factor"]), choice.factor, per_kwh(choice.factor), choice.basis)


def write(result: dict, out_dir: str | Path) -> list[Path]:
    """``cbam.csv`` and ``cbam.xlsx`` in ``out_dir`` when the product is a CBAM good (each written atomically); for
    another product, none (and none left from an earlier result)."""
    import pandas as pd

    fig = figures_of(result)
    return _write(None if fig is None else pd.DataFrame(rows(result, fig), columns=COLUMNS), Path(out_dir))


def write_batch(results: list[dict], out_dir: str | Path) -> list[Path]:
    """One ``cbam.csv`` / ``cbam.xlsx`` for a batch without run folders (``pcf batch --compute-only``): the rows of
    each result whose product is a CBAM good, after its ``enterprise_id``, ``product_id`` and ``parameter_file``;
    none when no result is a CBAM good."""
    import pandas as pd

    out, tables = Path(out_dir), []
    for r in results:
        fig = figures_of(r)
        if fig is not None:
            df = pd.DataFrame(rows(r, fig), columns=COLUMNS)
            df.insert(0, "parameter_file", r["provenance"]["parameter_file"]["path"])
            df.insert(0, "product_id", r["product"]["id"])
            df.insert(0, "enterprise_id", r["enterprise"]["id"])
            tables.append(df)
    return _write(pd.concat(tables, ignore_index=True) if tables else None, out)


def _write(df, out: Path) -> list[Path]:
    """The table as cbam.csv and cbam.xlsx, each atomically; None: remove those an earlier result left."""
    from methodology.outputs.files import atomic_write_bytes

    if df is None:
        for name in FILES:
            (out / name).unlink(missing_ok=True)
        return []
    atomic_write_bytes(out / "cbam.csv", df.to_csv(index=False).encode("utf-8-sig"))
    atomic_write_bytes(out / "cbam.xlsx", _xlsx(df))
    return [out / name for name in FILES]


def _xlsx(df) -> bytes:
    import io

    import openpyxl.utils
    import pandas as pd

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        df.to_excel(xw, sheet_name="cbam", index=False)
        keys = [c for c in df.columns if c not in COLUMNS]  # enterprise and product in a batch's table
        notes = df[df.section == "boundary notes"][[*keys, "item", "basis"]].rename(columns={"basis": "note"})
        notes.to_excel(xw, sheet_name="boundary notes", index=False)
        ws = xw.sheets["cbam"]
        ws.freeze_panes = ws.cell(row=2, column=len(keys) + 3)
        ws.auto_filter.ref = ws.dimensions
        for i, width in enumerate([28] * len(keys) + [16, 60, 14, 16, 70, 70]):
            ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width = width
        for cell in ws[openpyxl.utils.get_column_letter(len(keys) + 3)][1:]:
            if isinstance(cell.value, float):
                cell.number_format = "0.0000"
        xw.sheets["boundary notes"].column_dimensions[openpyxl.utils.get_column_letter(len(keys) + 2)].width = 140
    return buf.getvalue()
