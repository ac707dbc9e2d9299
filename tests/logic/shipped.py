"""The packs the product ships (``rules/*`` and ``agents/*/step``) and their own test cases, loaded
once for the tests that prove a guarantee on them rather than on a toy pack."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nesyflow.logic import load_pack
from nesyflow.logic.pack import Pack

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    [*(ROOT / "rules").glob("*/pack.toml"), *(ROOT / "agents").glob("*/step/pack.toml")]
)
PACK_DIRS = [p.parent for p in SHIPPED]
PACK_IDS = [str(p.relative_to(ROOT)) for p in PACK_DIRS]


@dataclass(frozen=True)
class Case:
    name: str
    input: Any
    context: Any


@functools.cache
def pack(folder: Path) -> Pack:
    return load_pack(folder)


@functools.cache
def cases(folder: Path) -> tuple[Case, ...]:
    """Every case of the pack's ``tests/*.yaml`` whose input and context fit the pack's schemas."""
    loaded = pack(folder)
    out = []
    for file in sorted((folder / "tests").glob("*.y*ml")):
        for raw in yaml.safe_load(file.read_text(encoding="utf-8"))["cases"]:
            data = loaded.input_model.model_validate(raw["input"])
            context = raw.get("context")
            if context is not None:
                assert loaded.context_model is not None
                context = loaded.context_model.model_validate(context)
            out.append(Case(f"{file.name}: {raw.get('name')}", data, context))
    return tuple(out)
