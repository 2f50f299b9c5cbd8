"""The routing rules file is edited by people: mistakes must be reported precisely."""

from decimal import Decimal
from pathlib import Path

import pytest

from tradelane import settings
from tradelane.routing.rules import RulesError, load_rules, parse_rules


def test_shipped_default_rules_load():
    rules = load_rules(settings.REPO_ROOT / "config" / "routing_rules.yml")
    assert [r.strategy for r in rules.rules] == ["nearest_in_stock"]
    assert len(rules.version) == 12


def test_conditions_parse_exact_amounts_and_codes():
    rules = parse_rules(
        """
        rules:
          - name: big-us
            when: {destination_countries: [us], min_total: "100.00"}
            strategy: first_in_stock
            warehouses: [lax, szx]
        """
    )
    rule = rules.rules[0]
    assert rule.warehouses == ("LAX", "SZX")
    assert rule.when.matches("US", "shopify", Decimal("100.00"))
    assert not rule.when.matches("US", "shopify", Decimal("99.99"))
    assert not rule.when.matches("DE", "shopify", Decimal("500"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", "not valid YAML"),
        ("rules: []", "empty"),
        ("rules:\n  - {name: a, strategy: teleport}", "strategy 'teleport'"),
        ("rules:\n  - {name: a, when: {country: [US]}}", "unknown `when` keys"),
        ("rules:\n  - {name: a}\n  - {name: a}", "repeated: a"),
        ("rules:\n  - {name: a, when: {min_total: 10.5}}", "quoted string"),
    ],
)
def test_mistakes_are_reported_with_where_and_why(text, message):
    with pytest.raises(RulesError, match=message):
        parse_rules(text)


def test_missing_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(RulesError, match="cannot read routing rules"):
        load_rules(tmp_path / "nope.yml")
