"""YAML that remembers where every key and value is written.

PyYAML's composer keeps a mark (line, column) on every node, but ``safe_load`` throws them away.
Here the node tree is converted by hand into dicts and lists that keep the marks, so any problem
found later can name ``file:line:col``. Duplicate keys, which ``safe_load`` silently overwrites (a
copy-pasted node id), are reported. Documents past the bounds of :mod:`nesyflow._yamlguard` (alias
bombs, self-containing aliases, absurd nesting) are refused with their place, before conversion.
"""

from __future__ import annotations

from typing import Any

import yaml

from nesyflow._yamlguard import YamlLimitError, compose_bounded
from nesyflow.errors import Location, Problem

__all__ = ["MDict", "MList", "parse_yaml"]


class MDict(dict):
    """A mapping with the place of itself, of each key and of each value."""

    mark: Location
    key_marks: dict[Any, Location]
    value_marks: dict[Any, Location]


class MList(list):
    """A sequence with the place of itself and of each item."""

    mark: Location
    item_marks: list[Location]


def _loc(file: str, mark: yaml.Mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


def parse_yaml(text: str, file: str) -> tuple[Any, list[Problem]]:
    """Parse one YAML document into :class:`MDict` / :class:`MList` / scalars.

    Returns the value and the problems found (syntax errors, duplicate keys); the value is ``None``
    when the text does not parse.
    """
    problems: list[Problem] = []
    loader = yaml.SafeLoader(text)
    try:
        root = compose_bounded(loader)
        if root is None:
            return None, problems
        return _convert(loader, root, file, problems), problems
    except YamlLimitError as exc:
        where = _loc(file, exc.mark) if exc.mark else Location(file)
        problems.append(Problem(where, "yaml_limit", str(exc)))
        return None, problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _loc(file, mark) if mark else Location(file)
        problems.append(Problem(where, "yaml_syntax", f"{exc.problem or exc}"))
        return None, problems
    except yaml.YAMLError as exc:
        problems.append(Problem(Location(file), "yaml_syntax", str(exc)))
        return None, problems
    finally:
        loader.dispose()


def _convert(loader: yaml.SafeLoader, node: yaml.Node, file: str, problems: list[Problem]) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # YAML merge keys (<<: *base)
        out = MDict()
        out.mark = _loc(file, node.start_mark)
        out.key_marks, out.value_marks = {}, {}
        for key_node, value_node in node.value:
            key = _convert(loader, key_node, file, problems)
            if isinstance(key, list | dict):
                problems.append(
                    Problem(_loc(file, key_node.start_mark), "yaml_key", "a key must be a scalar")
                )
                continue
            if key in out:
                problems.append(
                    Problem(
                        _loc(file, key_node.start_mark),
                        "duplicate_key",
                        f"'{key}' is given twice (first at line {out.key_marks[key].line})",
                    )
                )
                continue
            out[key] = _convert(loader, value_node, file, problems)
            out.key_marks[key] = _loc(file, key_node.start_mark)
            out.value_marks[key] = _loc(file, value_node.start_mark)
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = MList(_convert(loader, item, file, problems) for item in node.value)
        seq.mark = _loc(file, node.start_mark)
        seq.item_marks = [_loc(file, item.start_mark) for item in node.value]
        return seq
    return loader.construct_object(node, deep=True)
