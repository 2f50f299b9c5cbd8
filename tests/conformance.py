"""Fixture conformance: the sandbox must serve a superset of each official API example.

For every (field path, JSON type) in the examples, the served payloads must carry the path and,
for each non-null type, that type somewhere; and no path the examples type may be served with a
different non-null type (an int where Shopify sends a float is a retyping). List items share the
path ``a[]``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

_JSON_TYPES = {
    type(None): "null",
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    dict: "object",
    list: "array",
}


def json_paths(value: Any, path: str, out: dict[str, set[str]]) -> None:
    """Every (path, JSON type) in ``value``, added to ``out``."""
    out[path].add(_JSON_TYPES[type(value)])
    if isinstance(value, dict):
        for key, item in value.items():
            json_paths(item, f"{path}.{key}" if path else key, out)
    elif isinstance(value, list):
        for item in value:
            json_paths(item, f"{path}[]", out)


def conformance_gaps(
    examples: Iterable[Any], served: Iterable[Any], exempt: frozenset[str] = frozenset()
) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, set[str]]]]:
    """(missing paths, missing non-null types, retyped paths) of ``served`` against the
    official ``examples``; paths starting with an ``exempt`` prefix are not required."""
    expected: dict[str, set[str]] = defaultdict(set)
    for record in examples:
        json_paths(record, "", expected)
    got: dict[str, set[str]] = defaultdict(set)
    for record in served:
        json_paths(record, "", got)
    wanted = {p: t for p, t in expected.items() if not any(p.startswith(e) for e in exempt)}
    missing = sorted(p for p in wanted if p not in got)
    missing_types = sorted(
        (p, t)
        for p, types in wanted.items()
        for t in types - {"null"}
        if p in got and t not in got[p]
    )
    retyped = sorted(
        (p, got[p] - wanted[p] - {"null"})
        for p in wanted
        if wanted[p] - {"null"} and got[p] - wanted[p] - {"null"}
    )
    return missing, missing_types, retyped


def assert_conformant(
    examples: Iterable[Any], served: Iterable[Any], exempt: frozenset[str] = frozenset()
) -> None:
    missing, missing_types, retyped = conformance_gaps(examples, served, exempt)
    assert not missing, f"paths never served: {missing}"
    assert not missing_types, f"types never served: {missing_types}"
    assert not retyped, f"retyped paths: {retyped}"
