"""PayPal ``transaction_details`` sections rendered column-wise, for the transactions a page
asks for.

Why: the Transaction Search API returns up to 500 entries a page, each with up to seven
sections chosen per request (``fields``). Every section of a batch of transactions is rendered
here as JSON text in vectorized passes (``jsonfrag``); a page then only splices the requested
sections of its rows together (``entries``). ``api_paypal`` renders a page's transactions and
the next ones of the walk this way and caches them (``render_cache``), versioned by ``facts``:
the transaction's row and every fact of other tables its sections show. Amounts that must be
converted between currencies (rare: a payer pays in the order's presentment currency) go
through ``convert_minor``'s exact Decimal rounding in Python, for those rows only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable

import polars as pl

from ingestion.sandbox.jsonfrag import Maybe, Raw, money, obj, scale_of, truthy
from ingestion.sandbox.stripe_ledger import LedgerView

SECTIONS = (
    "transaction_info",
    "payer_info",
    "shipping_info",
    "cart_info",
    "store_info",
    "auction_info",
    "incentive_info",
)
# Sections the sandbox has nothing for: always ``{}``.
_EMPTY_SECTIONS = ("store_info", "auction_info", "incentive_info")
# The sections ``sections`` renders (columns ``_s_<section>``), in ``SECTIONS``' order.
RENDERED = tuple(s for s in SECTIONS if s not in _EMPTY_SECTIONS)
# What each section of an entry is keyed by in its JSON.
_KEYS = {section: f'"{section}":'.encode() for section in SECTIONS}
# The order columns ``sections`` shows (with the transaction's own row, the customer's columns
# and the order's lines, what ``facts`` hashes).
_ORDER_COLUMNS = (
    "name",
    "external_order_id",
    "presentment_currency",
    "fx_rate_to_presentment",
    "total_shipping_minor",
    "total_shipping_presentment_minor",
    "customer_id",
    "currency",
)
_CUSTOMER_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "country_code",
    "address1",
    "address2",
    "city",
    "province_code",
    "postal_code",
)
# The merchant account's own PayPal id (payer of payouts, payee of payments).
MERCHANT_ACCOUNT_ID = "3TLSANDBOXMRC"
# PayPal's event codes: checkout payment, merchant-initiated refund (payouts: api_paypal).
EVENT_PAYMENT, EVENT_REFUND = "T0006", "T1107"

Converter = Callable[[int, float, str, str], int]


def account_id(value: object) -> str:
    """A 13-character PayPal account id derived from a ledger id."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    n = int.from_bytes(hashlib.blake2b(f"payer:{value}".encode(), digest_size=10).digest(), "big")
    chars = []
    for _ in range(13):
        n, r = divmod(n, len(alphabet))
        chars.append(alphabet[r])
    return "".join(chars)


def _convert_where(
    frame: pl.DataFrame,
    native_ok: pl.Expr,
    native: pl.Expr,
    columns: tuple[str, str, str, str],
    alias: str,
    convert: Converter,
) -> pl.DataFrame:
    """Column ``alias``: ``native`` where ``native_ok``, else ``convert(amount or 0, rate or 1,
    from or to, to)`` of ``columns`` = (amount, rate, from currency, to currency)."""
    indexed = frame.with_row_index("_i").with_columns(_ok=native_ok.fill_null(False))
    need = indexed.filter(~pl.col("_ok"))
    values = [
        convert(int(a or 0), r or 1.0, f or t, t)
        for a, r, f, t in need.select(*columns).iter_rows()
    ]
    converted = pl.DataFrame({"_i": need["_i"], "_converted": pl.Series(values, dtype=pl.Int64)})
    return (
        indexed.join(converted, on="_i", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("_ok")).then(native).otherwise(pl.col("_converted")).alias(alias)
        )
        .drop("_i", "_ok", "_converted")
    )


def _amount(minor: pl.Expr, currency: str) -> Raw:
    return Raw(
        obj(
            [
                ("currency_code", pl.col(currency)),
                ("value", money(minor, pl.col(f"_scale_{currency}"))),
            ]
        )
    )


def _name_parts() -> pl.Expr:
    """``" ".join(p for p in (first, last) if p)``."""
    parts = [pl.when(truthy(pl.col(c))).then(pl.col(c)) for c in ("c_first_name", "c_last_name")]
    return pl.concat_str(parts, separator=" ", ignore_nulls=True)


def sections(
    view: LedgerView,
    rows: pl.DataFrame,
    accounts: Callable[[pl.Series], pl.DataFrame],
    convert: Converter,
) -> pl.DataFrame:
    """``rows`` (``transaction_rows``) with one JSON column per section, ``_s_<section>``.

    ``accounts`` maps customer ids to PayPal account ids (``_id`` -> ``_account``)."""
    orders = view("orders").select(
        "order_id",
        "name",
        "external_order_id",
        "presentment_currency",
        "fx_rate_to_presentment",
        "total_shipping_minor",
        "total_shipping_presentment_minor",
        _o_customer="customer_id",
        _o_currency="currency",
        _order=pl.lit(True),
    )
    customers = view("customers").select(
        "customer_id",
        *[pl.col(c).alias(f"c_{c}") for c in _CUSTOMER_COLUMNS],
        _customer=pl.lit(True),
    )
    frame = (
        rows.join(orders, on="order_id", how="left", maintain_order="left")
        .join(
            customers,
            left_on="_o_customer",
            right_on="customer_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            pl.col("_order").fill_null(False),
            pl.col("_customer").fill_null(False),
            _fee_ccy=pl.coalesce("fee_currency", "currency"),
        )
    )
    frame = frame.join(
        accounts(frame.filter(pl.col("_customer"))["_o_customer"]),
        left_on="_o_customer",
        right_on="_id",
        how="left",
        maintain_order="left",
    )
    currencies = set(frame["currency"].unique().to_list()) | set(
        frame["_fee_ccy"].unique().to_list()
    )
    frame = frame.with_columns(
        _scale_currency=scale_of(pl.col("currency"), currencies),
        _scale__fee_ccy=scale_of(pl.col("_fee_ccy"), currencies),
    )
    frame = _convert_where(
        frame,
        pl.col("total_shipping_presentment_minor").is_not_null()
        & (pl.col("presentment_currency") == pl.col("currency")),
        pl.col("total_shipping_presentment_minor"),
        ("total_shipping_minor", "fx_rate_to_presentment", "_o_currency", "currency"),
        "_shipping",
        convert,
    )
    is_payment = pl.col("event_code") == EVENT_PAYMENT
    has_order = pl.col("_order")
    has_customer = pl.col("_customer") & has_order
    name = (
        pl.when(truthy(pl.col("name")))
        .then(pl.col("name"))
        .otherwise(pl.col("order_id").cast(pl.String))
    )
    when_order = lambda value: Maybe(has_order, value)  # noqa: E731
    zero = pl.lit(0, pl.Int64)
    info = obj(
        [
            (
                "paypal_account_id",
                pl.when(has_customer)
                .then(pl.col("_account"))
                .otherwise(pl.lit(MERCHANT_ACCOUNT_ID)),
            ),
            ("transaction_id", pl.col("transaction_id")),
            ("transaction_event_code", pl.col("event_code")),
            (
                "transaction_initiation_date",
                pl.col("initiated_at").dt.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            ),
            (
                "transaction_updated_date",
                pl.col("initiated_at").dt.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            ),
            ("transaction_amount", _amount(pl.col("amount_minor"), "currency")),
            ("fee_amount", _amount(pl.col("fee_minor"), "_fee_ccy")),
            ("transaction_status", pl.col("status")),
            (
                "protection_eligibility",
                pl.when(is_payment).then(pl.lit("01")).otherwise(pl.lit("02")),
            ),
            (
                "paypal_reference_id",
                Maybe(pl.col("reference_id").is_not_null(), pl.col("reference_id")),
            ),
            ("paypal_reference_id_type", Maybe(pl.col("reference_id").is_not_null(), "TXN")),
            ("insurance_amount", when_order(_amount(zero, "currency"))),
            (
                "shipping_amount",
                when_order(
                    _amount(pl.when(is_payment).then(pl.col("_shipping")).otherwise(0), "currency")
                ),
            ),
            ("shipping_discount_amount", when_order(_amount(zero, "currency"))),
            (
                "transaction_subject",
                pl.when(has_order)
                .then(pl.concat_str([pl.lit("Tradelane order "), name]))
                .otherwise(pl.lit("Withdrawal to bank account")),
            ),
            (
                "transaction_note",
                when_order(
                    pl.when(pl.col("event_code") == EVENT_REFUND)
                    .then(pl.lit("Refund for returned items"))
                    .otherwise(pl.concat_str([pl.lit("Thank you for your order "), name]))
                ),
            ),
            ("invoice_id", when_order(name.str.strip_chars_start("#"))),
            (
                "custom_field",
                when_order(
                    pl.when(truthy(pl.col("external_order_id")))
                    .then(pl.col("external_order_id"))
                    .otherwise(pl.col("order_id").cast(pl.String))
                ),
            ),
        ]
    )
    full_name = _name_parts()
    payer = obj(
        [
            ("account_id", pl.col("_account")),
            ("email_address", pl.col("c_email")),
            ("address_status", "Y"),
            ("payer_status", "Y"),
            (
                "payer_name",
                Raw(
                    obj(
                        [
                            ("given_name", pl.col("c_first_name")),
                            ("surname", pl.col("c_last_name")),
                            ("alternate_full_name", full_name),
                        ]
                    )
                ),
            ),
            ("country_code", pl.col("c_country_code")),
        ]
    )
    address_fields = [
        ("line1", "c_address1"),
        ("line2", "c_address2"),
        ("city", "c_city"),
        ("state", "c_province_code"),
        ("country_code", "c_country_code"),
        ("postal_code", "c_postal_code"),
    ]
    shipping = obj(
        [
            ("name", full_name),
            (
                "address",
                Raw(
                    obj([(k, Maybe(pl.col(c).is_not_null(), pl.col(c))) for k, c in address_fields])
                ),
            ),
        ]
    )
    frame = frame.join(
        _carts(view, frame.filter(has_order & is_payment), convert),
        on="transaction_id",
        how="left",
        maintain_order="left",
    )
    return frame.with_columns(
        _s_transaction_info=info,
        _s_payer_info=pl.when(has_customer).then(payer).otherwise(pl.lit("{}")),
        _s_shipping_info=pl.when(has_customer & is_payment).then(shipping).otherwise(pl.lit("{}")),
        _s_cart_info=pl.col("_cart").fill_null("{}"),
    ).drop("_cart")


def _carts(view: LedgerView, payments: pl.DataFrame, convert: Converter) -> pl.DataFrame:
    """``cart_info`` JSON per payment transaction (``transaction_id``, ``_cart``): one item
    per order line, in the payment's currency, and a negative ``Discount`` item when the
    order had one."""
    lines = (
        view("order_lines")
        .join(
            payments.select(
                "transaction_id",
                "order_id",
                "currency",
                "presentment_currency",
                "fx_rate_to_presentment",
                "_o_currency",
                "_scale_currency",
                _invoice=pl.when(truthy(pl.col("name")))
                .then(pl.col("name"))
                .otherwise(pl.col("order_id").cast(pl.String)),
            ),
            on="order_id",
            how="inner",
            suffix="_pay",
        )
        .join(
            view("products").select("sku", "title", "variant_title"),
            on="sku",
            how="left",
        )
        .sort("transaction_id", "line_id")
    )
    for column in ("unit_price", "tax", "discount"):
        lines = _convert_line(lines, column, convert)
    currency = pl.col("currency_pay")
    scale = pl.col("_scale_currency")

    def amount(minor: pl.Expr) -> Raw:
        return Raw(obj([("currency_code", currency), ("value", money(minor, scale))]))

    unit, tax, qty = pl.col("_unit_price"), pl.col("_tax"), pl.col("quantity")
    item = obj(
        [
            ("item_code", pl.col("sku")),
            (
                "item_name",
                pl.when(truthy(pl.col("title"))).then(pl.col("title")).otherwise(pl.col("sku")),
            ),
            (
                "item_description",
                pl.when(truthy(pl.col("variant_title")))
                .then(pl.col("variant_title"))
                .when(truthy(pl.col("title")))
                .then(pl.col("title"))
                .otherwise(pl.lit("")),
            ),
            ("item_quantity", qty.cast(pl.String)),
            ("item_unit_price", amount(unit)),
            ("item_amount", amount(unit * qty)),
            (
                "tax_amounts",
                Raw(pl.concat_str([pl.lit('[{"tax_amount":'), amount(tax).expr, pl.lit("}]")])),
            ),
            ("total_item_amount", amount(unit * qty + tax)),
            ("invoice_number", pl.col("_invoice")),
        ]
    )
    per_payment = (
        lines.with_columns(_item=item)
        .group_by("transaction_id", maintain_order=True)
        .agg(
            _items=pl.col("_item").str.join(","),
            _discount=pl.col("_discount").sum(),
            currency_pay=pl.col("currency_pay").first(),
            _scale_currency=pl.col("_scale_currency").first(),
            _invoice=pl.col("_invoice").first(),
        )
    )
    minus = -pl.col("_discount")
    discount_item = obj(
        [
            ("item_name", "Discount"),
            ("item_quantity", "1"),
            ("item_unit_price", amount(minus)),
            ("item_amount", amount(minus)),
            ("total_item_amount", amount(minus)),
            ("invoice_number", pl.col("_invoice")),
        ]
    )
    items = (
        pl.when(pl.col("_discount") != 0)
        .then(pl.concat_str([pl.col("_items"), discount_item], separator=","))
        .otherwise(pl.col("_items"))
    )
    carts = per_payment.select(
        "transaction_id",
        _cart=pl.concat_str([pl.lit('{"item_details":['), items, pl.lit("]}")]),
    )
    # A payment whose order has no lines still shows an empty cart.
    return (
        payments.select("transaction_id")
        .join(carts, on="transaction_id", how="left")
        .with_columns(pl.col("_cart").fill_null('{"item_details":[]}'))
    )


def _convert_line(lines: pl.DataFrame, column: str, convert: Converter) -> pl.DataFrame:
    """``_<column>``: a line amount in the payment's currency (the ledger's presentment amount
    when the buyer paid in the presentment currency, else converted from the shop currency at
    the order's rate)."""
    native = pl.col(f"{column}_presentment_minor")
    frame = lines.with_columns(_line_currency=pl.coalesce("currency", "_o_currency"))
    return _convert_where(
        frame,
        native.is_not_null() & (pl.col("presentment_currency_pay") == pl.col("currency_pay")),
        native,
        (f"{column}_minor", "fx_rate_to_presentment", "_line_currency", "currency_pay"),
        f"_{column}",
        convert,
    ).drop("_line_currency")


def facts(view: LedgerView, rows: pl.DataFrame) -> pl.DataFrame:
    """One row per transaction of ``rows`` (``transaction_rows``), in their order: the row
    itself, its order's and customer's columns that ``sections`` shows and a digest of its
    order's lines, so that equal facts render equal JSON (``render_cache.versioned``)."""
    orders = view("orders").select("order_id", *[pl.col(c).alias(f"o_{c}") for c in _ORDER_COLUMNS])
    customers = view("customers").select(
        pl.col("customer_id").alias("o_customer_id"),
        *[pl.col(c).alias(f"c_{c}") for c in _CUSTOMER_COLUMNS],
    )
    lines = (
        view("order_lines")
        .join(rows.select("order_id").drop_nulls().unique(), on="order_id", how="semi")
        .select("order_id", _line=pl.struct(pl.all()).hash(seed=7))
        .group_by("order_id")
        .agg(pl.col("_line").sum().alias("_lines"))  # order-free; wraps around
    )
    return (
        rows.join(orders, on="order_id", how="left", maintain_order="left")
        .join(customers, on="o_customer_id", how="left", maintain_order="left")
        .join(lines, on="order_id", how="left", maintain_order="left")
    )


def rendered_sections(frame: pl.DataFrame) -> list[tuple[bytes, ...]]:
    """Each row's ``RENDERED`` sections (rows of ``sections``), as JSON bytes."""
    columns = [pl.col(f"_s_{section}").cast(pl.Binary) for section in RENDERED]
    return list(frame.select(columns).iter_rows())


def entries(rendered: Iterable[tuple[bytes, ...]], wanted: Collection[str]) -> list[bytes]:
    """``transaction_details`` entries with the ``wanted`` sections, in PayPal's order, from
    each entry's ``RENDERED`` sections: one bytes template per page, filled per entry (a page
    of 500 cached entries is then about 1 ms of Python)."""
    shown = [s for s in SECTIONS if s in wanted]
    parts = [_KEYS[s] + (b"%b" if s in RENDERED else b"{}") for s in shown]
    template = b"{" + b",".join(parts) + b"}"
    picks = [RENDERED.index(s) for s in shown if s in RENDERED]
    if picks == list(range(len(RENDERED))):
        return [template % sections for sections in rendered]
    return [template % tuple(sections[i] for i in picks) for sections in rendered]


def page_details(page: pl.DataFrame, wanted: Collection[str]) -> list[bytes]:
    """The ``transaction_details`` entries of rows of ``sections`` with the ``wanted``
    sections."""
    return entries(rendered_sections(page), wanted)
