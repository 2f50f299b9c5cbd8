"""The overview page shows an operator the right numbers from the published copy."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

import pandas as pd
from streamlit.testing.v1 import AppTest

if TYPE_CHECKING:
    from conftest import PublishedFixture


def metric_values(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def table_with_column(at: AppTest, column: str) -> pd.DataFrame:
    """The one dataframe on the page that has ``column`` (tables are found by what they show)."""
    matches = [frame.value for frame in at.dataframe if column in frame.value.columns]
    assert len(matches) == 1, f"expected one table with a {column!r} column, got {len(matches)}"
    return matches[0]


def test_order_and_shipping_counts_match_the_published_rows(
    published: PublishedFixture, run_app: Callable[[], AppTest]
) -> None:
    at = run_app()

    assert not at.exception
    metrics = metric_values(at)
    assert metrics["Orders"] == str(len(published.orders))
    awaiting = sum(order["is_awaiting_shipment"] for order in published.orders)
    assert metrics["Awaiting shipment"] == str(awaiting) == "3"
    assert metrics["Cannot be routed"] == "1"


def test_revenue_is_shown_per_currency_from_exact_decimal_sums(
    published: PublishedFixture, run_app: Callable[[], AppTest]
) -> None:
    at = run_app()

    metrics = metric_values(at)
    revenue = {label: value for label, value in metrics.items() if label.startswith("Revenue")}
    # USD: 1234.5050 + 0.1000 + 0.2000 = 1234.8050, rounded half-up once to cents. Through float
    # (1234.805 is 1234.80499...) or half-even rounding it would read 1,234.80. The cancelled
    # 999.99 is left out, and EUR is never added to USD.
    assert revenue == {"Revenue (EUR)": "65.09", "Revenue (USD)": "1,234.81"}
    expected_usd = sum(
        (
            o["total_amount"]
            for o in published.orders
            if o["currency_code"] == "USD" and not o["is_cancelled"]
        ),
        Decimal(0),
    )
    assert expected_usd == Decimal("1234.8050")


def test_revenue_by_country_lists_each_destination_in_its_currency(
    published: PublishedFixture, run_app: Callable[[], AppTest]
) -> None:
    at = run_app()

    by_country = table_with_column(at, "Country")
    rows = set(by_country[["Country", "Currency", "Orders", "Revenue"]].itertuples(index=False))
    assert rows == {
        ("United States", "USD", 2, "1,234.71"),
        ("Canada", "USD", 1, "0.10"),
        ("Germany", "EUR", 2, "65.09"),
    }


def test_unroutable_order_is_listed_first_with_its_reason(
    published: PublishedFixture, run_app: Callable[[], AppTest]
) -> None:
    at = run_app()

    (unroutable,) = published.unroutable
    routing = table_with_column(at, "Reason")
    assert list(routing["Order"]) == [unroutable["order_name"], "#1001", "#2001"]
    first = routing.iloc[0]
    assert first["Status"] == "Cannot route"
    assert first["Reason"] == unroutable["reason"]
    assert pd.isna(first["Warehouse"])
    assert first["Destination"] == "Germany"


def test_sidebar_names_the_published_copy_shown(
    published: PublishedFixture, run_app: Callable[[], AppTest]
) -> None:
    at = run_app()

    (current,) = [p for p in published.published_dir.iterdir() if p.suffix == ".duckdb"]
    sidebar_text = " ".join(caption.value for caption in at.sidebar.caption)
    assert current.name in sidebar_text
    assert "UTC" in sidebar_text


def test_a_new_publish_is_shown_without_restarting(
    published: PublishedFixture, run_app: Callable[[], AppTest]
) -> None:
    at = run_app()
    assert metric_values(at)["Orders"] == "6"

    new_copy = published.add_order_and_republish(
        "eu-store", 2003, country="FR", currency="EUR", total="10.0000", day=7
    )
    at.run()

    assert not at.exception
    metrics = metric_values(at)
    assert metrics["Orders"] == "7"
    assert metrics["Revenue (EUR)"] == "75.09"
    assert new_copy.name in " ".join(caption.value for caption in at.sidebar.caption)


def test_nothing_published_tells_the_user_how_to_publish(
    nothing_published: object, run_app: Callable[[], AppTest]
) -> None:
    at = run_app()

    assert not at.exception
    (info,) = at.info
    assert "make demo" in info.value
    assert "tradelane run" in info.value
    assert not at.metric
    assert "No published copy" in " ".join(caption.value for caption in at.sidebar.caption)
