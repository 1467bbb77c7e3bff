"""Illustrative enterprises generated from shipped parameter files, for benchmarks and tests.

Each copy scales every annual activity value of the source by a factor (intensities per tonne, and so
the footprint, stay the same) and gets its own enterprise id. The files say they are generated and
illustrative: they describe no real enterprise.
"""

from __future__ import annotations

from pathlib import Path

HEADER = ("# ILLUSTRATIVE, GENERATED PARAMETER FILE: a fictional enterprise made by scaling the activity data\n"
          "# of {src} by {k:.4g}. Not the data of any real company and not published figures.\n")


def scaled_copy(data: dict, k: float, new_id: str) -> dict:
    """The parameter data with every process value multiplied by ``k`` (units and sources unchanged)."""
    import copy

    out = copy.deepcopy(data)
    out["enterprise"]["id"] = new_id
    out["enterprise"]["name"] = f"{data['enterprise']['name']} - generated x{k:.4g}"
    out["enterprise"]["illustrative"] = True
    for values in out["processes"].values():
        for v in values.values():
            v["value"] = float(v["value"]) * k
    return out


def generate(sources: list[Path], n: int, out_dir: str | Path, *, spread: float = 0.5) -> list[Path]:
    """Write ``n`` generated files cycling over ``sources``, scale factors spread over [1-spread, 1+spread]."""
    import yaml

    from methodology.errors import ParameterFileError
    from methodology.schema.loading import read_yaml

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    loaded = [(Path(s), read_yaml(s, ParameterFileError)) for s in sources]
    paths = []
    for i in range(n):
        src, data = loaded[i % len(loaded)]
        k = 1.0 - spread + 2 * spread * ((i * 0.618034) % 1.0)  # deterministic, well spread
        new_id = f"gen-{i:04d}-{data['enterprise']['id']}"
        path = out_dir / f"{new_id}.yaml"
        text = HEADER.format(src=src.name, k=k) + yaml.safe_dump(scaled_copy(data, k, new_id), sort_keys=False,
                                                                  allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
