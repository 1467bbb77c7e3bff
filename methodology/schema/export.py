"""Export JSON Schemas of the file formats, for editors (committee members validate as they type)."""

from __future__ import annotations

import json
from pathlib import Path

from methodology.schema.factors import FactorSet
from methodology.schema.parameters import ParameterFile
from methodology.schema.rules import Rule

MODELS = {"rule.schema.json": Rule, "factorset.schema.json": FactorSet,
          "parameters.schema.json": ParameterFile}


def schema_texts() -> dict[str, str]:
    return {name: json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"
            for name, model in MODELS.items()}


def export_schemas(out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in schema_texts().items():
        (out / name).write_text(text, encoding="utf-8")
        paths.append(out / name)
    return paths
