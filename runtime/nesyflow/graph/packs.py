"""Resolve the rule packs a node names: a folder, relative to the workflow file.

The logic layer's :func:`nesyflow.logic.load_pack` validates a pack completely; a workflow that names
a broken pack is itself broken, so the pack's own problems (with their places in the pack's files) are
reported along with the workflow's. Should the logic layer not be importable, a folder with a
``pack.toml`` is accepted and the engine loads it later.
"""

from __future__ import annotations

from pathlib import Path

from nesyflow.errors import Problem, ProblemsError
from nesyflow.graph._hints import did_you_mean
from nesyflow.graph.model import PackRef

__all__ = ["load_pack_ref"]


def load_pack_ref(text: str, base: Path) -> tuple[PackRef | None, str | None, list[Problem]]:
    """``(ref, None, [])`` for a good pack; ``(None, why, pack_problems)`` for a missing or broken
    one, ``why`` being a sentence for the workflow's author."""
    folder = (base / text).resolve()
    if not folder.is_dir():
        siblings = (
            [p.name for p in folder.parent.iterdir() if p.is_dir()]
            if folder.parent.is_dir()
            else []
        )
        return (
            None,
            f"rule pack folder {folder} does not exist{did_you_mean(folder.name, siblings)}",
            [],
        )
    if not (folder / "pack.toml").is_file():
        return None, f"{folder} is not a rule pack (no pack.toml)", []
    try:
        from nesyflow.logic import load_pack
    except ImportError:
        return PackRef(path=folder, text=text), None, []
    try:
        pack = load_pack(folder)
    except ProblemsError as exc:
        why = f"rule pack {text} does not load ({len(exc.problems)} problem(s), listed with it)"
        return None, why, list(exc.problems)
    return PackRef(path=folder, text=text, pack=pack), None, []
