"""YAML with bounds: aliases that expand without end ("billion laughs"), aliases that contain
themselves, and nesting deeper than any real file are refused before anything is built.

PyYAML composes an alias as a second reference to the same node, so a 1 kB document of nested
aliases is a small graph that becomes 10^9 values once converted (4.3 GB in ``nesyflow validate``
before this guard), and a 100,000-level document overflows Python's recursion. Both the workflow
loader and the pack tests read YAML through :func:`load_bounded` / :func:`compose_bounded`.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["MAX_DEPTH", "MAX_VALUES", "YamlLimitError", "compose_bounded", "load_bounded"]

MAX_VALUES = 100_000
"""Most values (scalars, lists, mappings, counted after alias expansion) a document may hold."""
MAX_DEPTH = 64
"""Deepest nesting of lists and mappings a document may have."""


class YamlLimitError(ValueError):
    """A document past a bound; ``mark`` (a ``yaml.Mark``, or None) is where it was noticed."""

    def __init__(self, message: str, mark: yaml.Mark | None = None) -> None:
        super().__init__(message)
        self.mark = mark


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_node(root: yaml.Node) -> None:
    """Raise :class:`YamlLimitError` when ``root`` expands past the bounds or contains itself.

    Iterative (no recursion), and each distinct node is sized once, so the check is linear in the
    size of the *composed* graph whatever it expands to.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size = 1 + sum(sizes[id(c)] for c in _children(node))
            if size > MAX_VALUES:
                raise YamlLimitError(
                    f"the document expands to more than {MAX_VALUES:,} values through its aliases "
                    "(aliases of aliases, a 'billion laughs'); refused",
                    node.start_mark,
                )
            sizes[key] = size
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise YamlLimitError("an alias refers to a node that contains it", node.start_mark)
        if depth > MAX_DEPTH:
            raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep", node.start_mark)
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node))


def compose_bounded(loader: yaml.SafeLoader) -> yaml.Node | None:
    """The loader's single document as a node graph, checked by :func:`check_node`."""
    try:
        root = loader.get_single_node()
    except RecursionError:
        raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep") from None
    if root is not None:
        check_node(root)
    return root


def load_bounded(text: str) -> Any:
    """``yaml.safe_load`` of one document, refusing what :func:`check_node` refuses."""
    loader = yaml.SafeLoader(text)
    try:
        root = compose_bounded(loader)
        return None if root is None else loader.construct_document(root)
    finally:
        loader.dispose()
