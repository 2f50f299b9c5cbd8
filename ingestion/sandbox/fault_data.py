"""Data faults on list pages: records repeated across pages, and malformed records.

Why: real APIs serve the odd record twice (offset pagination shifting under inserts) and the odd
record broken (floats for money, ids that went through a double, impossible dates). A connector
must dedupe on primary keys and quarantine what it cannot load, with a reason, instead of
failing the run or loading garbage. Both faults are pure functions of (seed, api, entity, record
id), so the same record is broken the same way on every page and retry, and
``malformed_records`` lists exactly the broken ones for the ledger without serving anything.

How renderers use it: render a page as dicts, then return
``page_faults(request, api, entity, records, id_field, previous=...)``. Register how a record
looks (which fields are money, timestamps, ...) with ``register_shape`` unless ``SHAPES``
already has it, and list every id the entity can serve in ``SERVED_IDS``: the ledger's
``malformed_records`` (``world_malformed_records``, set on the world by
``with_malformed_records`` when a ``SandboxState`` or ``tradelane sandbox generate --faults``
picks a profile) is drawn over those ids. A list whose records embed lists of records
(Shopify's orders carry their refunds and fulfillments) names them in ``EMBEDDED``: those are
faulted as lists of their own, under their own (api, entity). With the ``none`` profile this
costs one dictionary lookup per page.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from ingestion.sandbox.faults import FaultProfile, FaultRun, draw

if TYPE_CHECKING:
    from ingestion.sandbox.world import World

log = logging.getLogger(__name__)

Record = dict[str, Any]
IdField = str | Sequence[str]
PreviousPage = Sequence[Record] | Callable[[], Sequence[Record]] | None

MALFORMED_KINDS = (
    "money_as_float",
    "missing_id",
    "bad_timestamp",
    "id_as_string_float",
    "negative_quantity",
    "unknown_currency",
    "truncated_object",
    "wrong_type",
)
LEDGER_SCHEMA = {"api": pl.String, "entity": pl.String, "record_id": pl.String, "kind": pl.String}
# Every id an entity can ever serve, from the world up to its horizon (see ``SERVED_IDS``).
IdExtractor = Callable[["World"], Iterable[Any]]


@dataclass(frozen=True)
class RecordShape:
    """Where one entity's records keep fields of each role, as dotted paths (``a.b``; an
    integer segment indexes a list: ``line_items.0.quantity``). The first path present in a
    record is the one corrupted; when none is, the first is created, so a record the ledger
    lists as malformed is always visibly so. A role left empty rules its kind out."""

    int_id: bool = False  # numeric ids (id_as_string_float applies)
    money: tuple[str, ...] = ()  # amounts: decimal strings or integer minor units
    timestamps: tuple[str, ...] = ()
    quantities: tuple[str, ...] = ()  # counts that are never negative
    currencies: tuple[str, ...] = ()
    required: tuple[str, ...] = ()  # removed together by truncated_object
    objects: tuple[str, ...] = ()  # nested objects, served as a string by wrong_type

    def kinds(self) -> tuple[str, ...]:
        """Malformed kinds that make sense for this entity, in ``MALFORMED_KINDS`` order."""
        allowed = {
            "money_as_float": bool(self.money),
            "missing_id": True,
            "bad_timestamp": bool(self.timestamps),
            "id_as_string_float": self.int_id,
            "negative_quantity": bool(self.quantities),
            "unknown_currency": bool(self.currencies),
            "truncated_object": True,
            "wrong_type": bool(self.objects),
        }
        return tuple(kind for kind in MALFORMED_KINDS if allowed[kind])


# (api, entity) -> shape. ``api`` is the sandbox module's family (shopify, amazon, stripe,
# paypal, aftership, shopify_finance, wms); ``entity`` the resource as the API names it. Paths
# follow the real APIs' payloads; renderers whose payloads differ re-register.
SHAPES: dict[tuple[str, str], RecordShape] = {
    ("shopify", "orders"): RecordShape(
        int_id=True,
        money=("total_price", "subtotal_price", "total_tax", "line_items.0.price"),
        timestamps=("created_at", "updated_at", "processed_at"),
        quantities=("line_items.0.quantity",),
        currencies=("currency", "presentment_currency"),
        required=("created_at", "currency", "line_items", "total_price", "subtotal_price"),
        objects=("customer", "shipping_address", "billing_address", "total_price_set"),
    ),
    # An order's refunds and fulfillments: served on their per-order lists
    # (``shopify_finance``) and embedded in each order of orders.json (``shopify``, see
    # ``EMBEDDED``), each copy faulted as a list of its own.
    **{
        (api, "refunds"): RecordShape(
            int_id=True,
            money=("transactions.0.amount",),
            timestamps=("created_at", "processed_at"),
            quantities=("refund_line_items.0.quantity",),
            currencies=("transactions.0.currency",),
            required=("created_at", "refund_line_items", "transactions"),
            objects=("total_duties_set",),
        )
        for api in ("shopify", "shopify_finance")
    },
    **{
        (api, "fulfillments"): RecordShape(
            int_id=True,
            money=("line_items.0.price",),
            timestamps=("created_at", "updated_at"),
            quantities=("line_items.0.quantity",),
            required=("status", "line_items", "tracking_number"),
            objects=("receipt",),
        )
        for api in ("shopify", "shopify_finance")
    },
    ("shopify_finance", "payouts"): RecordShape(
        int_id=True,
        money=("amount",),
        timestamps=("date",),
        currencies=("currency",),
        required=("amount", "currency", "status", "date"),
        objects=("summary",),
    ),
    ("shopify_finance", "balance_transactions"): RecordShape(
        int_id=True,
        money=("amount", "fee", "net"),
        timestamps=("processed_at",),
        currencies=("currency",),
        required=("amount", "fee", "net", "currency", "type"),
    ),
    # Order transactions in a GraphQL bulk result (``api_shopify_graphql``): gid ids, money in
    # ``amountSet``; keyed by the numeric id, as the REST list of the same transactions is.
    ("shopify_graphql", "transactions"): RecordShape(
        money=("amountSet.presentmentMoney.amount", "amountSet.shopMoney.amount"),
        timestamps=("createdAt", "processedAt"),
        currencies=("amountSet.presentmentMoney.currencyCode",),
        required=("kind", "status", "amountSet", "createdAt"),
        objects=("amountSet", "paymentDetails"),
    ),
    ("amazon", "orders"): RecordShape(
        money=("OrderTotal.Amount",),
        timestamps=("PurchaseDate", "LastUpdateDate"),
        quantities=("NumberOfItemsShipped", "NumberOfItemsUnshipped"),
        currencies=("OrderTotal.CurrencyCode",),
        required=("PurchaseDate", "OrderStatus", "OrderTotal", "MarketplaceId"),
        objects=("OrderTotal", "ShippingAddress"),
    ),
    ("amazon", "order_items"): RecordShape(
        money=("ItemPrice.Amount", "ItemTax.Amount"),
        quantities=("QuantityOrdered", "QuantityShipped"),
        currencies=("ItemPrice.CurrencyCode",),
        required=("SellerSKU", "QuantityOrdered", "ItemPrice"),
        objects=("ItemPrice", "ItemTax"),
    ),
    # Rows of the All Orders report (api_amazon_reports): flat text cells, no nested object, so
    # "wrong_type" writes a JSON object where an amount belongs.
    ("amazon", "order_report"): RecordShape(
        money=("item-price", "item-tax", "shipping-price"),
        timestamps=("last-updated-date", "purchase-date"),
        quantities=("quantity",),
        currencies=("currency",),
        required=("purchase-date", "last-updated-date", "quantity"),
        objects=("item-price",),
    ),
    ("stripe", "charges"): RecordShape(
        money=("amount", "amount_captured", "amount_refunded"),
        timestamps=("created",),
        currencies=("currency",),
        required=("amount", "currency", "created", "status"),
        objects=("billing_details", "outcome"),
    ),
    ("stripe", "balance_transactions"): RecordShape(
        money=("amount", "fee", "net"),
        timestamps=("created", "available_on"),
        currencies=("currency",),
        required=("amount", "fee", "net", "currency", "type"),
    ),
    ("stripe", "refunds"): RecordShape(
        money=("amount",),
        timestamps=("created",),
        currencies=("currency",),
        required=("amount", "currency", "charge", "status"),
    ),
    ("stripe", "disputes"): RecordShape(
        money=("amount",),
        timestamps=("created",),
        currencies=("currency",),
        required=("amount", "currency", "charge", "reason", "status"),
        objects=("evidence_details",),
    ),
    ("stripe", "payouts"): RecordShape(
        money=("amount",),
        timestamps=("created", "arrival_date"),
        currencies=("currency",),
        required=("amount", "currency", "status"),
    ),
    ("paypal", "transactions"): RecordShape(
        money=("transaction_info.transaction_amount.value", "transaction_info.fee_amount.value"),
        timestamps=("transaction_info.transaction_initiation_date",),
        currencies=("transaction_info.transaction_amount.currency_code",),
        required=("transaction_info.transaction_amount", "transaction_info.transaction_status"),
        objects=("transaction_info", "payer_info"),
    ),
    ("aftership", "trackings"): RecordShape(
        timestamps=("created_at", "updated_at", "checkpoints.0.checkpoint_time"),
        required=("tracking_number", "slug", "tag", "checkpoints"),
        objects=("checkpoints.0",),
    ),
    ("wms", "items"): RecordShape(
        money=("unit_cost",),
        currencies=("cost_currency",),
        required=("name", "hs_code", "unit_cost", "cost_currency"),
    ),
    ("wms", "inventory"): RecordShape(
        timestamps=("updated_at",),
        # Negative on_hand/available can be a real oversell; negative reserved never is.
        quantities=("reserved",),
        required=("on_hand", "reserved", "available", "updated_at"),
    ),
}
_ID_ONLY = RecordShape()
# (api, entity) of a list -> {field of its records holding a list of records: the entity that
# list is faulted as}. Shopify embeds each order's refunds and fulfillments in the order, and
# serves them again per order (``shopify_finance``): each copy is corrupted on its own draw and
# listed under its own (api, entity), so a connector reading either copy meets malformed ones.
EMBEDDED: dict[tuple[str, str], dict[str, str]] = {
    ("shopify", "orders"): {"refunds": "refunds", "fulfillments": "fulfillments"},
}


def _where(table: str, column: str, condition: pl.Expr) -> IdExtractor:
    """Ids from one ledger column, for the rows ``condition`` keeps."""
    return lambda world: getattr(world, table).filter(condition)[column]


def _amazon_item_ids(world: World) -> pl.Series:
    amazon = world.orders.filter(pl.col("channel_id").str.starts_with("amazon"))["order_id"]
    lines = world.order_lines.filter(pl.col("order_id").is_in(amazon.implode()))
    # amazon_render.order_item_id, vectorized: the line id's last 14 digits, zero-padded.
    return (lines["line_id"] % 10**14).cast(pl.String).str.zfill(14)


def _amazon_report_ids(world: World) -> list[tuple[str, str]]:
    """(amazon-order-id, sku) of every item row the All Orders report can serve."""
    orders = world.orders.filter(pl.col("channel_id").str.starts_with("amazon"))
    rows = world.order_lines.join(
        orders.select("order_id", "external_order_id"), on="order_id", how="inner"
    )
    return list(zip(rows["external_order_id"], rows["sku"], strict=True))


def _shopify_finance_time_ordered(kind: str) -> IdExtractor:
    """Ids of Shopify Payments lists, made by ``shopify_finance_objects`` from the ledger rows
    and their creation second (stable as the clock moves)."""

    def extract(world: World) -> pl.Series:
        from ingestion.sandbox import shopify_finance_objects as sfo

        if kind == "payouts":
            rows = world.payouts.filter(pl.col("provider") == "stripe")
            return sfo.payout_ids(rows["payout_id"], rows["created_at"])
        if kind == "disputes":
            shopify = sfo.shopify_orders(world.orders)["order_id"].implode()
            rows = world.disputes.filter(
                pl.col("dispute_id").str.starts_with("dp_") & pl.col("order_id").is_in(shopify)
            )
            return sfo.dispute_ids(rows["dispute_id"], rows["created_at"])
        rows = world.balance_transactions.filter(pl.col("provider") == "stripe")
        return sfo.balance_transaction_ids(rows["balance_transaction_id"], rows["created_at"])

    return extract


def _shopify_per_order(world: World) -> dict[str, pl.Series]:
    """Ids of the per-order Shopify lists, as ``shopify_finance_objects`` renders them for
    every Shopify order by the horizon (a vectorized mirror of its renderers; the sandbox test
    walking every list checks the two agree):

    - transactions: the authorization of each order, the capture of a paid one (its ledger
      ``payment_transaction_id``, else one derived from the order) or the void of one cancelled
      unpaid, and one transaction per refund (its ``transaction_id``, else derived);
    - refunds and fulfillments: the ledger's ``refund_id`` (a chargeback is a dispute on
      Shopify, never a refund) and ``shipment_id``, on their per-order lists and embedded in
      each order alike;
    - fulfillment events: one per tracking event of each shipment (``event_id``).
    """
    from ingestion.sandbox import shopify_finance_objects as sfo

    orders = sfo.shopify_orders(world.orders)
    ids = orders["order_id"].implode()
    paid = pl.col("order_id").is_in(world.payments["order_id"].implode())
    capture = pl.coalesce("payment_transaction_id", pl.col("order_id") + sfo._CAPTURE * 10**16)
    void = pl.col("order_id") + sfo._VOID * 10**16
    refunds = world.refunds.filter(pl.col("order_id").is_in(ids), pl.col("kind") != "chargeback")
    shipments = world.shipments.filter(pl.col("order_id").is_in(ids))
    events = world.tracking_events.join(
        shipments.select("tracking_number", "shipment_id"), on="tracking_number", how="inner"
    )
    transactions = pl.concat(
        [
            orders.select(id=sfo._AUTHORIZATION_BASE + (pl.col("order_id") - sfo.ID_FLOOR)),
            orders.filter(paid).select(id=capture),
            orders.filter(~paid & pl.col("cancelled_at").is_not_null()).select(id=void),
            refunds.select(
                id=pl.coalesce("transaction_id", pl.col("refund_id") + sfo._REFUND_TXN * 10**16)
            ),
        ]
    )["id"]
    return {
        "transactions": transactions,
        "refunds": refunds["refund_id"],
        "fulfillments": shipments["shipment_id"],
        "fulfillment_events": events.select(
            sfo._EVENT_BASE + (pl.col("shipment_id") - sfo.ID_FLOOR) * 100 + pl.col("seq")
        ).to_series(),
    }


# (api, entity) -> every id it serves, as ``page_faults``' ``id_field`` holds it in the served
# records. Kept next to ``SHAPES``: an entity that is faulted must be listed here too, or the
# ledger would not list its malformed records (a test checks both against a live server).
SERVED_IDS: dict[tuple[str, str], IdExtractor] = {
    ("shopify", "orders"): _where("orders", "order_id", pl.col("channel_id") == "shopify"),
    ("amazon", "orders"): _where(
        "orders", "external_order_id", pl.col("channel_id").str.starts_with("amazon")
    ),
    ("amazon", "order_items"): _amazon_item_ids,
    ("amazon", "order_report"): _amazon_report_ids,
    ("stripe", "charges"): _where("payments", "payment_id", pl.col("provider") == "stripe"),
    ("stripe", "refunds"): _where(
        "payment_refunds", "payment_refund_id", pl.col("payment_refund_id").str.starts_with("re_")
    ),
    ("stripe", "disputes"): _where(
        "disputes", "dispute_id", pl.col("dispute_id").str.starts_with("dp_")
    ),
    ("stripe", "payouts"): _where("payouts", "payout_id", pl.col("provider") == "stripe"),
    ("stripe", "balance_transactions"): _where(
        "balance_transactions", "balance_transaction_id", pl.col("provider") == "stripe"
    ),
    # PayPal lists payments, their refunds and withdrawals (``api_paypal.transaction_rows``).
    ("paypal", "transactions"): lambda world: pl.concat(
        [
            world.payments.filter(pl.col("provider") == "paypal")["payment_id"],
            world.payment_refunds.join(
                world.payments.filter(pl.col("provider") == "paypal"), on="payment_id", how="semi"
            )["payment_refund_id"],
            world.payouts.filter(pl.col("provider") == "paypal")["payout_id"],
        ]
    ),
    ("aftership", "trackings"): _where("shipments", "tracking_number", pl.lit(True)),
    ("easypost", "shipments"): _where("shipping_labels", "label_id", pl.lit(True)),
    ("wms", "items"): _where("products", "sku", pl.lit(True)),
    ("wms", "inventory"): lambda world: zip(
        world.inventory["warehouse_code"], world.inventory["sku"], strict=True
    ),
    **{
        ("shopify_finance", entity): lambda world, entity=entity: _shopify_per_order(world)[entity]
        for entity in ("transactions", "refunds", "fulfillments", "fulfillment_events")
    },
    **{
        ("shopify", entity): lambda world, entity=entity: _shopify_per_order(world)[entity]
        for entity in ("refunds", "fulfillments")
    },
    ("shopify_graphql", "transactions"): lambda world: _shopify_per_order(world)["transactions"],
    ("shopify_finance", "payouts"): _shopify_finance_time_ordered("payouts"),
    ("shopify_finance", "disputes"): _shopify_finance_time_ordered("disputes"),
    ("shopify_finance", "balance_transactions"): _shopify_finance_time_ordered(
        "balance_transactions"
    ),
}


def world_malformed_records(world: World, profile: FaultProfile) -> pl.DataFrame:
    """The ledger's ``malformed_records`` for ``world`` served under ``profile``: every record
    of every faulted entity that is served corrupted, sorted by (api, entity, record_id).
    Empty (and free) for a profile without malformed records."""
    if profile.malformed_share <= 0:
        return pl.DataFrame(schema=LEDGER_SCHEMA)
    # Renderers register their shapes at import: a kind drawn before that would differ.
    from ingestion.sandbox import api_easypost, api_shopify_finance  # noqa: F401

    frames = [
        malformed_records(profile, world.seed, api, entity, extract(world))
        for (api, entity), extract in SERVED_IDS.items()
    ]
    return pl.concat(frames).sort("api", "entity", "record_id")


def with_malformed_records(world: World, profile: FaultProfile) -> World:
    """``world`` with its ``malformed_records`` listing what ``profile`` corrupts, and the
    profile recorded in its parameters (and so in the ledger's manifest). Returns ``world``
    itself when it already lists that profile's records."""
    import dataclasses

    recorded = (world.parameters.get("faults", "none"), world.parameters.get("malformed_share", 0))
    if recorded == (profile.name, profile.malformed_share):
        return world
    return dataclasses.replace(
        world,
        malformed_records=world_malformed_records(world, profile),
        parameters={
            **world.parameters,
            "faults": profile.name,
            "malformed_share": profile.malformed_share,
        },
    )


_warned: set[tuple[str, str]] = set()


def register_shape(api: str, entity: str, shape: RecordShape) -> None:
    """Declare (or replace) how ``api``'s ``entity`` records look; call at import time of the
    renderer module, before any page is served or ledger written."""
    SHAPES[(api, entity)] = shape


def shape_of(api: str, entity: str) -> RecordShape:
    """The registered shape; an unregistered entity can only lose its id or be truncated."""
    shape = SHAPES.get((api, entity))
    if shape is None:
        if (api, entity) not in _warned:
            _warned.add((api, entity))
            log.warning("no RecordShape for (%r, %r): only id-level faults apply", api, entity)
        return _ID_ONLY
    return shape


def canonical_id(value: Any) -> str:
    """A record id as the ledger stores it: the id as text; composite keys joined by ``:``."""
    if isinstance(value, tuple | list):
        return ":".join(str(v) for v in value)
    return str(value)


def malformed_kind(
    profile: FaultProfile, seed: int, api: str, entity: str, record_id: Any
) -> str | None:
    """The kind of corruption record ``record_id`` is served with, or None when served clean."""
    if profile.malformed_share <= 0:
        return None
    rid = canonical_id(record_id)
    if draw(seed, "malformed", api, entity, rid) >= profile.malformed_share:
        return None
    kinds = shape_of(api, entity).kinds()
    return kinds[int(draw(seed, "malformed-kind", api, entity, rid) * len(kinds))]


def malformed_records(
    profile: FaultProfile, seed: int, api: str, entity: str, record_ids: Iterable[Any]
) -> pl.DataFrame:
    """Ledger table ``malformed_records`` for these ids: (api, entity, record_id, kind) of every
    record served corrupted, sorted by record_id. Pass every id the entity can ever serve (the
    world up to its horizon): whether a record is malformed does not depend on the clock."""
    rows: list[tuple[str, str, str, str]] = []
    if profile.malformed_share > 0:
        ids = record_ids.to_list() if isinstance(record_ids, pl.Series) else record_ids
        for record_id in ids:
            kind = malformed_kind(profile, seed, api, entity, record_id)
            if kind is not None:
                rows.append((api, entity, canonical_id(record_id), kind))
    rows.sort(key=lambda row: row[2])
    return pl.DataFrame(rows, schema=LEDGER_SCHEMA, orient="row")


# --- Corruption ------------------------------------------------------------------------------

_Path = tuple[str | int, ...]
_MISSING = object()


def _parse(path: str) -> _Path:
    return tuple(int(p) if p.isdigit() else p for p in path.split("."))


def _get(record: Any, path: _Path) -> Any:
    node = record
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return _MISSING
            node = node[step]
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return _MISSING
    return node


def _copy(node: Any) -> Any:
    return dict(node) if isinstance(node, dict) else list(node) if isinstance(node, list) else node


def _set(record: Record, path: _Path, value: Any, *, delete: bool = False) -> None:
    """Set (or delete) ``path`` in ``record``, copying every container on the way so that the
    renderer's objects, which may be shared or cached, stay untouched. Missing containers are
    created."""
    node: Any = record
    for i, step in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(step, int):
            while len(node) <= step:
                node.append({})
            child = node[step]
        else:
            child = node.get(step)
        if not isinstance(child, dict | list):
            child = [] if isinstance(nxt, int) else {}
        child = _copy(child)
        node[step] = child
        node = child
    last = path[-1]
    if delete:
        if isinstance(last, int):
            if isinstance(node, list) and last < len(node):
                del node[last]
        else:
            node.pop(last, None)
    elif isinstance(last, int):
        while len(node) <= last:
            node.append(None)
        node[last] = value
    else:
        node[last] = value


def _target(
    record: Record, paths: tuple[str, ...], want: Callable[[Any], bool]
) -> tuple[_Path, Any]:
    """The first path whose value ``want`` accepts, else the first path (to be created)."""
    for path in paths:
        parsed = _parse(path)
        value = _get(record, parsed)
        if value is not _MISSING and want(value):
            return parsed, value
    return _parse(paths[0]), _MISSING


def _float_of(value: Any) -> float:
    """A float that is *almost* the amount, as when a decimal goes through binary floating
    point: 19.99 -> 19.990000000000002, 1999 -> 1999.0000000000002."""
    try:
        base = float(value)
    except (TypeError, ValueError):
        base = 0.1 + 0.2  # 0.30000000000000004
    return math.nextafter(base, math.inf)


_BAD_TIMESTAMPS = (
    "2026-13-45T25:61:00",
    "2026-02-30T24:00:00Z",
    "0000-00-00 00:00:00",
    "31/12/2026",
)


def corrupt(
    record: Record, kind: str, shape: RecordShape, id_paths: Sequence[str], variant: float
) -> Record:
    """A corrupted copy of ``record`` (never mutated). ``variant`` in [0, 1) picks among the
    forms a kind can take (which bad timestamp, ...), so the result is stable per record."""
    out = dict(record)
    if kind == "money_as_float":
        path, value = _target(out, shape.money, lambda v: isinstance(v, str | int | float))
        _set(out, path, _float_of(None if value is _MISSING else value))
    elif kind == "missing_id":
        for id_path in id_paths:
            _set(out, _parse(id_path), None, delete=True)
    elif kind == "bad_timestamp":
        path, _ = _target(out, shape.timestamps, lambda v: v is not None)
        _set(out, path, _BAD_TIMESTAMPS[int(variant * len(_BAD_TIMESTAMPS))])
    elif kind == "id_as_string_float":
        path = _parse(id_paths[0])
        value = _get(out, path)
        number = float(value) if isinstance(value, int | float) else 9007199254740993.0
        _set(out, path, f"{number:.15e}".replace("e+", "e"))
    elif kind == "negative_quantity":
        path, value = _target(out, shape.quantities, lambda v: isinstance(v, int))
        _set(out, path, -abs(value) if isinstance(value, int) and value else -1)
    elif kind == "unknown_currency":
        path, _ = _target(out, shape.currencies, lambda v: v is not None)
        _set(out, path, "XXX1")
    elif kind == "truncated_object":
        present = [_parse(p) for p in shape.required if _get(out, _parse(p)) is not _MISSING]
        if present:
            for path in present:
                _set(out, path, None, delete=True)
        else:
            # Nothing required was served (a field projection): keep only the id.
            keep = {_parse(p)[0] for p in id_paths}
            out = {k: v for k, v in out.items() if k in keep}
    elif kind == "wrong_type":
        path, value = _target(out, shape.objects, lambda v: isinstance(v, dict))
        # Stringified JSON where an object belongs: a double-encoding bug, seen in the wild.
        _set(out, path, "[object Object]" if value is _MISSING else orjson.dumps(value).decode())
    else:
        raise ValueError(f"unknown malformed kind {kind!r}")
    return out


# --- Pages -----------------------------------------------------------------------------------


def _id_of(record: Record, id_paths: Sequence[str]) -> Any:
    values = [_get(record, _parse(p)) for p in id_paths]
    if any(v is _MISSING or v is None for v in values):
        return None
    return values[0] if len(values) == 1 else tuple(values)


def _id_paths(id_field: IdField) -> tuple[str, ...]:
    return (id_field,) if isinstance(id_field, str) else tuple(id_field)


def _apply(
    profile: FaultProfile,
    seed: int,
    api: str,
    entity: str,
    records: list[Record],
    previous_page: PreviousPage,
    id_field: IdField,
) -> tuple[list[Record], int, int]:
    """``(page, duplicated, malformed)``: the faulted page and what was injected."""
    if not profile.has_data_faults or not records:
        return records, 0, 0
    embedded = EMBEDDED.get((api, entity))
    nested_malformed = 0
    if embedded and profile.malformed_share > 0:
        records, nested_malformed = _embedded_faults(profile, seed, api, embedded, records)
        if previous_page is not None:
            unfaulted = previous_page
            previous_page = lambda: _embedded_faults(  # noqa: E731
                profile,
                seed,
                api,
                embedded,
                list(unfaulted() if callable(unfaulted) else unfaulted),
            )[0]
    id_paths = _id_paths(id_field)
    out, duplicated = records, 0
    first_id = _id_of(records[0], id_paths)
    if (
        profile.duplicate_share > 0
        and previous_page is not None
        and first_id is not None
        and draw(seed, "duplicate", api, entity, canonical_id(first_id)) < profile.duplicate_share
    ):
        previous = previous_page() if callable(previous_page) else previous_page
        if previous:
            out, duplicated = [previous[-1], *records], 1
    malformed = 0
    if profile.malformed_share > 0:
        shape = shape_of(api, entity)
        faulted = []
        for record in out:
            record_id = _id_of(record, id_paths)
            kind = (
                None if record_id is None else malformed_kind(profile, seed, api, entity, record_id)
            )
            if kind is not None:
                variant = draw(seed, "malformed-variant", api, entity, canonical_id(record_id))
                record = corrupt(record, kind, shape, id_paths, variant)
                malformed += 1
            faulted.append(record)
        out = faulted
    return out, duplicated, malformed + nested_malformed


def _embedded_faults(
    profile: FaultProfile, seed: int, api: str, embedded: dict[str, str], records: list[Record]
) -> tuple[list[Record], int]:
    """``records`` with the lists they embed (``EMBEDDED``) malformed as lists of their own,
    and how many embedded records were corrupted. Records are never mutated."""
    out, malformed = [], 0
    for record in records:
        changed: Record | None = None
        for field, entity in embedded.items():
            items = record.get(field) if isinstance(record, dict) else None
            if not isinstance(items, list) or not items:
                continue
            faulted, _, count = _apply(profile, seed, api, entity, items, None, "id")
            if count:
                changed = dict(record) if changed is None else changed
                changed[field] = faulted
                malformed += count
        out.append(record if changed is None else changed)
    return out, malformed


def apply_page_faults(
    profile: FaultProfile,
    seed: int,
    api: str,
    entity: str,
    records: list[Record],
    previous_page: PreviousPage,
    id_field: IdField,
) -> list[Record]:
    """The page as served under ``profile``: possibly the previous page's last record repeated
    first (decided by this page's first id, so a retried page is the same page), and records
    whose id hashes under ``malformed_share`` corrupted (see ``corrupt``). ``previous_page`` is
    the page before this one in the client's walk (or a callable rendering it only if needed;
    only its last record is used); pass None for a first page or a backwards walk. ``id_field``
    names the primary key (a dotted path, or several for a composite key). Records are never
    mutated; with the ``none`` profile the same list comes back."""
    return _apply(profile, seed, api, entity, records, previous_page, id_field)[0]


def page_faults(
    request: Any,
    api: str,
    entity: str,
    records: list[Record],
    id_field: IdField,
    previous: PreviousPage = None,
) -> list[Record]:
    """``apply_page_faults`` with the server's profile and seed (from the request the fault
    middleware saw), counting what it injected for ``GET /_sandbox/faults``. What every list
    endpoint returns instead of its rendered page."""
    run = FaultRun.from_scope(request.scope)
    if run is None or not run.profile.has_data_faults:
        return records
    page, duplicated, malformed = _apply(
        run.profile, run.seed, api, entity, records, previous, id_field
    )
    run.count("duplicated", duplicated)
    run.count("malformed", malformed)
    return page


def row_at(frame: pl.DataFrame, keys: Sequence[str], values: Sequence[Any]) -> pl.DataFrame:
    """The row of ``frame`` whose ``keys`` equal ``values``: with keyset pagination, the last
    record of the previous page is the row at the cursor's key."""
    return frame.filter(*[pl.col(k) == v for k, v in zip(keys, values, strict=True)])
