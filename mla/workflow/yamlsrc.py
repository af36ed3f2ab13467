"""YAML reading that keeps line numbers, so every definition error can name its line.

Mappings become :class:`LineMap` (a dict that knows its own line, each key's line and any
duplicate keys, which plain PyYAML silently overwrites); sequences become :class:`LineList`.
Only PyYAML's safe constructors are used: a definition cannot instantiate Python objects.
"""

from __future__ import annotations

from typing import Any

import yaml


class LineMap(dict[str, Any]):
    line: int
    key_lines: dict[str, int]
    duplicates: list[tuple[str, int]]

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.key_lines = {}
        self.duplicates = []

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    line: int


# libyaml's parser, where PyYAML was built with it (its wheels are): ten times faster than
# the pure-Python one on the workflow files, with the same nodes and line marks.
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    result = LineMap(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        # Non-string keys (e.g. `1:` or `yes:`) are kept as text: the schema never wants them,
        # so they surface as "unknown key" with their line.
        key = key if isinstance(key, str) else str(key)
        if key in result:
            result.duplicates.append((key, line))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


class SyntaxProblem(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def parse(text: str) -> Any:
    """The document in ``text``; raises :class:`SyntaxProblem` with a 1-based line."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return_reason = f"YAML syntax error: {exc.problem or exc.context}"
        raise SyntaxProblem(line, return_reason) from None
    except yaml.YAMLError as exc:
        raise SyntaxProblem(1, f"YAML error: {exc}") from None
