"""The import graph follows the layers: lower layers never import higher ones, and library code
never imports the CLI or the console."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "runtime" / "nesyflow"

# Each package may import only packages of a strictly lower rank (and itself).
RANK = {
    "errors": 0,
    "_imports": 0.5,
    "telemetry": 0.5,
    "roles": 0.5,
    "schema": 1,
    "logic": 2,
    "llm": 3,
    "graph": 3,
    "store": 3,
    "extract": 3.5,
    "engine": 4,
    "auth": 4,
    "review": 5,
    "replay": 5,
    "govern": 5.5,
    "insight": 6,
    "cli": 9,
}


def _imports(file: Path) -> set[str]:
    tree = ast.parse(file.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nesyflow."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("nesyflow."):
                    found.add(alias.name.split(".")[1])
    return found


def test_no_module_imports_a_higher_layer():
    wrong = []
    for file in sorted(PACKAGE.rglob("*.py")):
        rel = file.relative_to(PACKAGE)
        layer = rel.parts[0].removesuffix(".py")
        if layer not in RANK:
            continue
        for target in _imports(file):
            if target == layer or target not in RANK:
                continue
            if RANK[target] >= RANK[layer]:
                wrong.append(f"{rel} imports nesyflow.{target}")
    assert wrong == []


def test_every_package_has_a_rank():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert packages <= set(RANK), packages - set(RANK)
