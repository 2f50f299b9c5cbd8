"""Stripe objects -> typed Arrow tables, exactly.

Stripe sends amounts as integers in the currency's smallest unit and currencies in lower case.
Each amount is kept exactly as sent (``*_minor`` int64) beside the upper-case ISO code, and also
as ``decimal(18,4)`` major units computed with the currency's exponent (``currencies``), so SQL
can sum money without knowing that JPY has no cents. ``created`` and the other unix-second
fields become UTC timestamps. A record that cannot be read exactly (an amount sent as a float,
an unknown currency, a missing id...) goes to the quarantine with the reason, and the page
loads without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa

from ingestion.common.parsing import (
    MONEY_TYPE,
    UTC_TIMESTAMP_TYPE,
    BadValue,
    money,
    nested_object,
    optional_bool,
    optional_str,
    required_str,
)
from ingestion.common.quarantine import Quarantine
from ingestion.stripe.currencies import stripe_minor_units

SOURCE = "stripe"
_INT64 = (-(2**63), 2**63)
# Unix seconds from 1970 to the year 9999: anything else is not a Stripe timestamp.
_MAX_UNIX_S = 253_402_300_799


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    """Every table is keyed on Stripe's string ``id``, which is never null."""
    return pa.schema([pa.field("id", pa.string(), nullable=False), *fields])


BALANCE_TRANSACTIONS_SCHEMA = _schema(
    ("created_at", UTC_TIMESTAMP_TYPE),
    ("available_on", UTC_TIMESTAMP_TYPE),
    ("type", pa.string()),
    ("reporting_category", pa.string()),
    ("status", pa.string()),
    ("balance_type", pa.string()),
    ("source_id", pa.string()),
    ("description", pa.string()),
    ("currency", pa.string()),
    ("amount_minor", pa.int64()),
    ("fee_minor", pa.int64()),
    ("net_minor", pa.int64()),
    ("amount", MONEY_TYPE),
    ("fee", MONEY_TYPE),
    ("net", MONEY_TYPE),
    # A JSON number in Stripe's API (the rate used to convert into the balance currency); the
    # amounts above are already converted, so nothing here is computed from it.
    ("exchange_rate", pa.float64()),
    ("fee_details", pa.string()),
)

CHARGES_SCHEMA = _schema(
    ("created_at", UTC_TIMESTAMP_TYPE),
    ("currency", pa.string()),
    ("amount_minor", pa.int64()),
    ("amount_captured_minor", pa.int64()),
    ("amount_refunded_minor", pa.int64()),
    ("amount", MONEY_TYPE),
    ("amount_captured", MONEY_TYPE),
    ("amount_refunded", MONEY_TYPE),
    ("status", pa.string()),
    ("paid", pa.bool_()),
    ("captured", pa.bool_()),
    ("refunded", pa.bool_()),
    ("disputed", pa.bool_()),
    ("livemode", pa.bool_()),
    ("balance_transaction_id", pa.string()),
    ("payment_intent_id", pa.string()),
    ("payment_method_id", pa.string()),
    ("customer_id", pa.string()),
    ("description", pa.string()),
    ("order_id", pa.string()),
    ("order_name", pa.string()),
    ("metadata", pa.string()),
    ("failure_code", pa.string()),
    ("failure_message", pa.string()),
    ("outcome_type", pa.string()),
    ("network_status", pa.string()),
    ("risk_level", pa.string()),
    ("risk_score", pa.int64()),
    ("payment_method_type", pa.string()),
    ("card_brand", pa.string()),
    ("card_country_code", pa.string()),
    ("card_funding", pa.string()),
    ("wallet_type", pa.string()),
    ("billing_country_code", pa.string()),
)

REFUNDS_SCHEMA = _schema(
    ("created_at", UTC_TIMESTAMP_TYPE),
    ("charge_id", pa.string()),
    ("payment_intent_id", pa.string()),
    ("currency", pa.string()),
    ("amount_minor", pa.int64()),
    ("amount", MONEY_TYPE),
    ("status", pa.string()),
    ("reason", pa.string()),
    ("failure_reason", pa.string()),
    ("balance_transaction_id", pa.string()),
    ("destination_type", pa.string()),
    ("order_id", pa.string()),
    ("metadata", pa.string()),
)

DISPUTES_SCHEMA = _schema(
    ("created_at", UTC_TIMESTAMP_TYPE),
    ("charge_id", pa.string()),
    ("payment_intent_id", pa.string()),
    ("currency", pa.string()),
    ("amount_minor", pa.int64()),
    ("amount", MONEY_TYPE),
    ("status", pa.string()),
    ("reason", pa.string()),
    ("is_charge_refundable", pa.bool_()),
    ("livemode", pa.bool_()),
    ("evidence_due_by", UTC_TIMESTAMP_TYPE),
    ("has_evidence", pa.bool_()),
    ("past_due", pa.bool_()),
    ("submission_count", pa.int64()),
    ("network_reason_code", pa.string()),
    ("card_brand", pa.string()),
    ("case_type", pa.string()),
    ("balance_transaction_ids", pa.string()),
    ("metadata", pa.string()),
)

PAYOUTS_SCHEMA = _schema(
    ("created_at", UTC_TIMESTAMP_TYPE),
    ("arrival_date", pa.date32()),
    ("currency", pa.string()),
    ("amount_minor", pa.int64()),
    ("amount", MONEY_TYPE),
    ("status", pa.string()),
    ("type", pa.string()),
    ("method", pa.string()),
    ("automatic", pa.bool_()),
    ("livemode", pa.bool_()),
    ("source_type", pa.string()),
    ("balance_transaction_id", pa.string()),
    ("destination_id", pa.string()),
    ("failure_code", pa.string()),
    ("failure_message", pa.string()),
    ("description", pa.string()),
    ("reconciliation_status", pa.string()),
    ("trace_id_status", pa.string()),
    ("trace_id", pa.string()),
)


# --- Field parsers -----------------------------------------------------------------------------


def minor_amount(value: Any, field: str) -> int:
    """An integer amount in minor units. A float (even 1999.0) means the amount went through
    binary floating point somewhere, so it is refused rather than trusted."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue(f"{field}: expected an integer amount in minor units, got {value!r}")
    if not _INT64[0] <= value < _INT64[1]:
        raise BadValue(f"{field}: {value} does not fit in 64 bits")
    return value


def optional_minor_amount(value: Any, field: str) -> int | None:
    return None if value is None else minor_amount(value, field)


def currency(value: Any, field: str = "currency") -> str:
    """Stripe's lower-case code as upper-case ISO 4217; a code whose exponent we do not know
    cannot be converted to major units, so it is refused."""
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise BadValue(f"{field}: {value!r} is not a currency code")
    code = value.upper()
    if stripe_minor_units(code) is None:
        raise BadValue(f"{field}: unknown currency {value!r}")
    return code


def major_amount(amount_minor: int, code: str, field: str) -> Decimal:
    """Minor units -> exact major units with the currency's exponent (JPY 0, KWD 3, ISK 2)."""
    exponent = stripe_minor_units(code)
    if exponent is None:
        raise BadValue(f"{field}: unknown currency {code!r}")
    return money(Decimal(amount_minor).scaleb(-exponent), field)


def unix_timestamp(value: Any, field: str) -> datetime:
    """Stripe's integer unix seconds as a UTC instant."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue(f"{field}: expected unix seconds, got {value!r}")
    if not 0 <= value <= _MAX_UNIX_S:
        raise BadValue(f"{field}: {value} is out of range for unix seconds")
    return datetime.fromtimestamp(value, UTC)


def optional_unix_timestamp(value: Any, field: str) -> datetime | None:
    return None if value is None else unix_timestamp(value, field)


def unix_date(value: Any, field: str) -> date | None:
    """Stripe dates payouts by midnight UTC of the day, as unix seconds."""
    return None if value is None else unix_timestamp(value, field).date()


def object_id(record: dict[str, Any]) -> str:
    value = record.get("id")
    if not isinstance(value, str) or not value.strip():
        raise BadValue(f"id: expected a Stripe id, got {value!r}")
    return value


def ref(value: Any, field: str) -> str | None:
    """A reference to another object: its id, or the object itself when it was expanded."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    raise BadValue(f"{field}: expected an id or an object, got {value!r}")


def optional_int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue(f"{field}: expected an integer, got {value!r}")
    return value


def optional_float(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue(f"{field}: expected a number, got {value!r}")
    return float(value)


def json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _money_fields(record: dict[str, Any], code: str, *names: str) -> dict[str, Any]:
    """``<name>_minor`` and ``<name>`` (major units) for each amount field ``name``."""
    out: dict[str, Any] = {}
    for name in names:
        minor = optional_minor_amount(record.get(name), name)
        out[f"{name}_minor"] = minor
        out[name] = None if minor is None else major_amount(minor, code, name)
    return out


def _amount(amount_minor: int, code: str) -> dict[str, Any]:
    """A required ``amount`` (already read as minor units) in both units."""
    return {"amount_minor": amount_minor, "amount": major_amount(amount_minor, code, "amount")}


def _head(record: dict[str, Any]) -> dict[str, Any]:
    """The id and creation instant every Stripe object has."""
    return {
        "id": object_id(record),
        "created_at": unix_timestamp(record.get("created"), "created"),
    }


def _texts(record: Any, *names: str, where: str = "") -> dict[str, str | None]:
    """Optional string fields, each loaded under its own name (``where`` prefixes the field in
    a refusal's reason, for nested objects)."""
    return {name: optional_str(record.get(name), f"{where}{name}") for name in names}


def _flags(record: dict[str, Any], *names: str) -> dict[str, bool | None]:
    """Optional boolean fields, each loaded under its own name."""
    return {name: optional_bool(record.get(name), name) for name in names}


def _refs(record: dict[str, Any], *names: str) -> dict[str, str | None]:
    """References to other objects (``charge`` -> ``charge_id``), expanded or not."""
    return {f"{name}_id": ref(record.get(name), name) for name in names}


def _metadata(record: dict[str, Any]) -> dict[str, Any]:
    metadata = nested_object(record.get("metadata"), "metadata")
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise BadValue(f"metadata.{key}: Stripe metadata values are strings, got {value!r}")
    return metadata


# --- Objects -----------------------------------------------------------------------------------


def parse_balance_transaction(record: dict[str, Any]) -> dict[str, Any]:
    code = currency(record.get("currency"))
    fee_details = record.get("fee_details")
    if fee_details is not None and not isinstance(fee_details, list):
        raise BadValue(f"fee_details: expected a list, got {type(fee_details).__name__}")
    for index, detail in enumerate(fee_details or []):
        if not isinstance(detail, dict):
            raise BadValue(f"fee_details[{index}]: expected an object")
        minor_amount(detail.get("amount"), f"fee_details[{index}].amount")
    amounts = {name: minor_amount(record.get(name), name) for name in ("amount", "fee", "net")}
    return {
        **_head(record),
        "available_on": optional_unix_timestamp(record.get("available_on"), "available_on"),
        "type": required_str(record.get("type"), "type"),
        **_texts(record, "reporting_category"),
        "status": required_str(record.get("status"), "status"),
        **_texts(record, "balance_type"),
        "source_id": ref(record.get("source"), "source"),
        **_texts(record, "description"),
        "currency": code,
        **{f"{name}_minor": minor for name, minor in amounts.items()},
        **{name: major_amount(minor, code, name) for name, minor in amounts.items()},
        "exchange_rate": optional_float(record.get("exchange_rate"), "exchange_rate"),
        "fee_details": json_text(fee_details),
    }


def parse_charge(record: dict[str, Any]) -> dict[str, Any]:
    code = currency(record.get("currency"))
    if record.get("amount") is None:
        raise BadValue("amount: a charge must have an amount")
    metadata = _metadata(record)
    outcome = nested_object(record.get("outcome"), "outcome")
    billing = nested_object(record.get("billing_details"), "billing_details")
    billing_address = nested_object(billing.get("address"), "address")
    method = nested_object(record.get("payment_method_details"), "payment_method_details")
    method_type = optional_str(method.get("type"), "payment_method_details.type")
    details = nested_object(method.get(method_type), method_type) if method_type else {}
    wallet = nested_object(details.get("wallet"), "wallet")
    return {
        **_head(record),
        "currency": code,
        **_money_fields(record, code, "amount", "amount_captured", "amount_refunded"),
        "status": required_str(record.get("status"), "status"),
        **_flags(record, "paid", "captured", "refunded", "disputed", "livemode"),
        **_refs(record, "balance_transaction", "payment_intent", "payment_method", "customer"),
        **_texts(record, "description"),
        "order_id": metadata.get("order_id"),
        "order_name": metadata.get("order_name"),
        "metadata": json_text(metadata),
        **_texts(record, "failure_code", "failure_message"),
        "outcome_type": optional_str(outcome.get("type"), "outcome.type"),
        **_texts(outcome, "network_status", "risk_level", where="outcome."),
        "risk_score": optional_int(outcome.get("risk_score"), "outcome.risk_score"),
        "payment_method_type": method_type,
        "card_brand": optional_str(details.get("brand"), "card.brand"),
        "card_country_code": optional_str(details.get("country"), "card.country"),
        "card_funding": optional_str(details.get("funding"), "card.funding"),
        "wallet_type": optional_str(wallet.get("type"), "card.wallet.type"),
        "billing_country_code": optional_str(
            billing_address.get("country"), "billing_details.address.country"
        ),
    }


def parse_refund(record: dict[str, Any]) -> dict[str, Any]:
    code = currency(record.get("currency"))
    metadata = _metadata(record)
    destination = nested_object(record.get("destination_details"), "destination_details")
    destination_type = optional_str(destination.get("type"), "destination_details.type")
    inner = (
        nested_object(destination.get(destination_type), destination_type)
        if destination_type
        else {}
    )
    amount = minor_amount(record.get("amount"), "amount")
    return {
        **_head(record),
        **_refs(record, "charge", "payment_intent"),
        "currency": code,
        **_amount(amount, code),
        "status": required_str(record.get("status"), "status"),
        **_texts(record, "reason", "failure_reason"),
        **_refs(record, "balance_transaction"),
        # "refund" once it reached the card, "reversal" when the authorization was released.
        "destination_type": optional_str(inner.get("type"), "destination_details.card.type")
        or destination_type,
        "order_id": metadata.get("order_id"),
        "metadata": json_text(metadata),
    }


def parse_dispute(record: dict[str, Any]) -> dict[str, Any]:
    code = currency(record.get("currency"))
    metadata = _metadata(record)
    evidence = nested_object(record.get("evidence_details"), "evidence_details")
    method = nested_object(record.get("payment_method_details"), "payment_method_details")
    card = nested_object(method.get("card"), "card")
    transactions = record.get("balance_transactions") or []
    if not isinstance(transactions, list):
        raise BadValue("balance_transactions: expected a list")
    amount = minor_amount(record.get("amount"), "amount")
    return {
        **_head(record),
        **_refs(record, "charge", "payment_intent"),
        "currency": code,
        **_amount(amount, code),
        "status": required_str(record.get("status"), "status"),
        **_texts(record, "reason"),
        **_flags(record, "is_charge_refundable", "livemode"),
        "evidence_due_by": optional_unix_timestamp(
            evidence.get("due_by"), "evidence_details.due_by"
        ),
        "has_evidence": optional_bool(
            evidence.get("has_evidence"), "evidence_details.has_evidence"
        ),
        "past_due": optional_bool(evidence.get("past_due"), "evidence_details.past_due"),
        "submission_count": optional_int(
            evidence.get("submission_count"), "evidence_details.submission_count"
        ),
        "network_reason_code": optional_str(
            record.get("network_reason_code") or card.get("network_reason_code"),
            "network_reason_code",
        ),
        "card_brand": optional_str(card.get("brand"), "payment_method_details.card.brand"),
        **_texts(card, "case_type", where="payment_method_details.card."),
        # The withdrawal and reinstatement movements are loaded with the balance transactions.
        "balance_transaction_ids": ",".join(
            ref(t, f"balance_transactions[{i}]") or "" for i, t in enumerate(transactions)
        )
        or None,
        "metadata": json_text(metadata),
    }


def parse_payout(record: dict[str, Any]) -> dict[str, Any]:
    code = currency(record.get("currency"))
    trace = nested_object(record.get("trace_id"), "trace_id")
    amount = minor_amount(record.get("amount"), "amount")
    return {
        **_head(record),
        "arrival_date": unix_date(record.get("arrival_date"), "arrival_date"),
        "currency": code,
        **_amount(amount, code),
        "status": required_str(record.get("status"), "status"),
        **_texts(record, "type", "method"),
        **_flags(record, "automatic", "livemode"),
        **_texts(record, "source_type"),
        **_refs(record, "balance_transaction", "destination"),
        **_texts(record, "failure_code", "failure_message", "description"),
        **_texts(record, "reconciliation_status"),
        "trace_id_status": optional_str(trace.get("status"), "trace_id.status"),
        "trace_id": optional_str(trace.get("value"), "trace_id.value"),
    }


@dataclass(frozen=True)
class ObjectKind:
    """One Stripe list: its table's schema and the parser of one object."""

    name: str
    object: str
    schema: pa.Schema
    parse: Callable[[dict[str, Any]], dict[str, Any]]


OBJECT_KINDS: dict[str, ObjectKind] = {
    k.name: k
    for k in (
        ObjectKind(
            "balance_transactions",
            "balance_transaction",
            BALANCE_TRANSACTIONS_SCHEMA,
            parse_balance_transaction,
        ),
        ObjectKind("charges", "charge", CHARGES_SCHEMA, parse_charge),
        ObjectKind("refunds", "refund", REFUNDS_SCHEMA, parse_refund),
        ObjectKind("disputes", "dispute", DISPUTES_SCHEMA, parse_dispute),
        ObjectKind("payouts", "payout", PAYOUTS_SCHEMA, parse_payout),
    )
}


@dataclass
class ParsedPage:
    """One page of one Stripe list: the table it feeds, its rows and what was refused."""

    table: str
    rows: pa.Table
    quarantine: Quarantine
    max_created: int | None


def parse_page(table: str, objects: list[Any]) -> ParsedPage:
    """Parse one list page; a refused object goes to the quarantine, the rest load."""
    kind = OBJECT_KINDS[table]
    quarantine = Quarantine(source=SOURCE)
    rows: list[dict[str, Any]] = []
    max_created: int | None = None
    for record in objects:
        record_id = record.get("id") if isinstance(record, dict) else None
        try:
            if not isinstance(record, dict):
                raise BadValue(f"{kind.object}: expected an object, got {type(record).__name__}")
            row = kind.parse(record)
        except BadValue as exc:
            quarantine.add(kind.object, record, str(exc), record_id)
            continue
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            quarantine.add(
                kind.object,
                record,
                f"malformed {kind.object}: {type(exc).__name__}: {exc}",
                record_id,
            )
            continue
        rows.append(row)
        created = record["created"]
        if max_created is None or created > max_created:
            max_created = created
    return ParsedPage(
        table=table,
        rows=pa.Table.from_pylist(rows, schema=kind.schema),
        quarantine=quarantine,
        max_created=max_created,
    )


def merge_pages(pages: list[ParsedPage]) -> ParsedPage:
    """Consecutive pages of one list as one: dlt pays about 8 ms per Arrow table a resource
    yields (schema and table bookkeeping), more than parsing a 100-object page costs, so the
    source yields a few pages at a time (``settings.BATCH_PAGES``)."""
    if len(pages) == 1:
        return pages[0]
    quarantine = Quarantine.merged(SOURCE, (page.quarantine for page in pages))
    created = [p.max_created for p in pages if p.max_created is not None]
    return ParsedPage(
        table=pages[0].table,
        rows=pa.concat_tables([p.rows for p in pages]),
        quarantine=quarantine,
        max_created=max(created, default=None),
    )
