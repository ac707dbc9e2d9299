"""Lookup tables a rule pack owns (``rules/<pack>/data/<name>.csv``): knowledge lives with the
rules (city → tier, keyword → category), not in a prompt."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from nesyflow.errors import Location, Problem, ProblemsError

__all__ = ["Table", "load_table"]


@dataclass(frozen=True)
class Table:
    """Rows of a CSV file with a header; ``path`` and each row's line number for provenance."""

    name: str
    path: Path
    columns: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]  # (line number, row)

    def column(self, name: str) -> list[str]:
        return [row[name] for _, row in self.rows]


def load_table(data_dir: Path, name: str, columns: tuple[str, ...]) -> Table:
    """Load ``data_dir/name.csv``; every problem (no file, a missing column, an empty cell) is a
    :class:`ProblemsError` naming the file and line, never a silent empty table."""
    path = Path(data_dir) / f"{name}.csv"
    if not path.is_file():
        raise ProblemsError(
            f"lookup table '{name}'",
            [Problem(Location(str(path)), "table_missing", f"lookup table '{name}' not found")],
        )
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = tuple(c.strip() for c in next(reader, ()))
        problems = [
            Problem(
                Location(str(path), 1),
                "table_column",
                f"lookup table '{name}' has no column '{c}' (has: {', '.join(header)})",
            )
            for c in columns
            if c not in header
        ]
        needed = [header.index(c) for c in columns if c in header]
        rows: list[tuple[int, dict[str, str]]] = []
        for cells in reader:
            if not cells:
                continue  # a blank line
            line = reader.line_num
            cells = [c.strip() for c in cells] + [""] * (len(header) - len(cells))
            if any(not cells[i] for i in needed):
                problems.append(
                    Problem(
                        Location(str(path), line),
                        "table_cell",
                        f"lookup table '{name}': an empty cell in {', '.join(columns)}",
                    )
                )
                continue
            rows.append((line, dict(zip(header, cells, strict=False))))
    if problems:
        raise ProblemsError(f"lookup table '{name}'", problems)
    if not rows:
        raise ProblemsError(
            f"lookup table '{name}'",
            [Problem(Location(str(path)), "table_empty", f"lookup table '{name}' has no rows")],
        )
    return Table(name=name, path=path, columns=header, rows=tuple(rows))
