"""Loading and validating the routing rules file.

The file is user-edited, so every mistake gets a message naming the rule and the field, and the
file's content hash becomes the ``rules_version`` recorded beside each decision: a decision can
always be traced to the exact rules that made it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

STRATEGIES = ("nearest_in_stock", "first_in_stock")
_WHEN_KEYS = {"destination_countries", "channels", "min_total", "max_total"}
_RULE_KEYS = {"name", "description", "when", "strategy", "warehouses"}


class RulesError(ValueError):
    """The rules file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Condition:
    destination_countries: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None

    def matches(self, country: str | None, channel: str, total: Decimal) -> bool:
        if self.destination_countries is not None and country not in self.destination_countries:
            return False
        if self.channels is not None and channel not in self.channels:
            return False
        if self.min_total is not None and total < self.min_total:
            return False
        return self.max_total is None or total <= self.max_total


@dataclass(frozen=True)
class Rule:
    name: str
    strategy: str
    when: Condition = field(default_factory=Condition)
    warehouses: tuple[str, ...] | None = None
    description: str = ""


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    version: str


def load_rules(path: Path) -> RuleSet:
    """Read and validate ``path``; raises ``RulesError`` with a precise message."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise RulesError(f"cannot read routing rules {path}: {exc}") from exc
    return parse_rules(text, source=str(path))


def parse_rules(text: str, source: str = "<rules>") -> RuleSet:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise RulesError(f"{source}: expected a mapping with a `rules:` list")
    if not document["rules"]:
        raise RulesError(f"{source}: `rules:` is empty; every order would be held")
    rules = tuple(_parse_rule(raw, i, source) for i, raw in enumerate(document["rules"]))
    names = [r.name for r in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RulesError(f"{source}: rule names must be unique; repeated: {', '.join(duplicates)}")
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    return RuleSet(rules=rules, version=version)


def _parse_rule(raw: Any, index: int, source: str) -> Rule:
    where = f"{source}: rule #{index + 1}"
    if not isinstance(raw, dict):
        raise RulesError(f"{where}: expected a mapping")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise RulesError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_RULE_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise RulesError(f"{where}: `name` is required")
    where = f"{source}: rule {name!r}"
    strategy = raw.get("strategy", "nearest_in_stock")
    if strategy not in STRATEGIES:
        raise RulesError(f"{where}: strategy {strategy!r} is not one of {', '.join(STRATEGIES)}")
    warehouses = raw.get("warehouses")
    if warehouses is not None and (
        not isinstance(warehouses, list) or not all(isinstance(w, str) for w in warehouses)
    ):
        raise RulesError(f"{where}: `warehouses` must be a list of warehouse codes")
    return Rule(
        name=name,
        strategy=strategy,
        when=_parse_condition(raw.get("when") or {}, where),
        warehouses=tuple(w.upper() for w in warehouses) if warehouses else None,
        description=str(raw.get("description", "")),
    )


def _parse_condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, dict):
        raise RulesError(f"{where}: `when` must be a mapping")
    unknown = set(raw) - _WHEN_KEYS
    if unknown:
        raise RulesError(
            f"{where}: unknown `when` keys {sorted(unknown)}; allowed: {sorted(_WHEN_KEYS)}"
        )
    return Condition(
        destination_countries=_code_set(raw.get("destination_countries"), where, upper=True),
        channels=_code_set(raw.get("channels"), where, upper=False),
        min_total=_amount(raw.get("min_total"), "min_total", where),
        max_total=_amount(raw.get("max_total"), "max_total", where),
    )


def _code_set(value: Any, where: str, upper: bool) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RulesError(f"{where}: expected a list of codes, got {value!r}")
    return frozenset(v.upper() if upper else v for v in value)


def _amount(value: Any, key: str, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        raise RulesError(f'{where}: write `{key}` as a quoted string ("{value}") to keep it exact')
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise RulesError(f"{where}: `{key}` {value!r} is not an amount") from exc
