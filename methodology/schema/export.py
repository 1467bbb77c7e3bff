"""Export JSON Schemas of the file formats, for editors (committee members validate as they type).

``MODELS`` are the input formats defined here; ``study.SCHEMAS`` adds result.json (``core.result``), which this
layer does not import. ``pcf schema`` writes them all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from methodology.schema.factors import FactorSet
from methodology.schema.parameters import ParameterFile
from methodology.schema.rules import Rule

MODELS = {"rule.schema.json": Rule, "factorset.schema.json": FactorSet,
          "parameters.schema.json": ParameterFile}


def schema_texts(models: Mapping[str, type[BaseModel]] = MODELS) -> dict[str, str]:
    return {name: json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"
            for name, model in models.items()}


def export_schemas(out_dir: str | Path, models: Mapping[str, type[BaseModel]] = MODELS) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in schema_texts(models).items():
        (out / name).write_text(text, encoding="utf-8")
        paths.append(out / name)
    return paths
