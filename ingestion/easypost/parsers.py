"""EasyPost shipments -> one typed Arrow row per bought label, exactly.

EasyPost prints money as decimal strings (fees with five decimals, "6.07000"): each is parsed
with ``ingestion.common.parsing.money`` (never through float) into ``decimal(18,4)`` beside its
ISO currency. Per shipment: the postage (``selected_rate.rate``, which the ``PostageFee``
must equal), the ``LabelFee``, and for DDP parcels the duties and import taxes the carrier
billed (``duties_and_taxes``: see ``ingestion/sandbox/api_easypost.py`` for why that object).
A record that cannot be read exactly (an amount as a float, an unknown currency, a fee type we
do not know, postage disagreeing with its fee, a missing id or reference) goes to the quarantine
with the reason; the page loads without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from ingestion.common.currencies import iso_minor_units
from ingestion.common.parsing import (
    MONEY_TYPE,
    UTC_TIMESTAMP_TYPE,
    BadValue,
    currency_code,
    money,
    nested_object,
    optional_list,
    optional_str,
    optional_utc_timestamp,
    required_str,
    utc_timestamp,
)
from ingestion.common.quarantine import Quarantine

SOURCE = "easypost"
ENTITY = "shipments"
# Fee types EasyPost documents for a shipment; an unknown one would be money we cannot place.
FEE_TYPES = ("LabelFee", "PostageFee", "InsuranceFee", "CarbonOffsetFee")
INCOTERMS = ("DDP", "DDU", "DAP", "EXW", "FCA", "CPT", "CIP", "DPU")

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("reference", pa.string(), nullable=False),
        pa.field("tracking_code", pa.string()),
        pa.field("carrier", pa.string(), nullable=False),
        pa.field("service", pa.string(), nullable=False),
        pa.field("status", pa.string()),
        pa.field("created_at", UTC_TIMESTAMP_TYPE, nullable=False),
        pa.field("updated_at", UTC_TIMESTAMP_TYPE, nullable=False),
        pa.field("from_country_code", pa.string()),
        pa.field("to_country_code", pa.string()),
        pa.field("usps_zone", pa.int64()),
        pa.field("parcel_weight_oz", pa.float64()),
        pa.field("postage_amount", MONEY_TYPE, nullable=False),
        pa.field("label_fee_amount", MONEY_TYPE, nullable=False),
        pa.field("insurance_fee_amount", MONEY_TYPE, nullable=False),
        pa.field("other_fee_amount", MONEY_TYPE, nullable=False),
        pa.field("fee_currency", pa.string(), nullable=False),
        pa.field("incoterm", pa.string()),
        pa.field("duties_currency", pa.string()),
        pa.field("customs_value_amount", MONEY_TYPE),
        pa.field("duty_amount", MONEY_TYPE),
        pa.field("import_tax_amount", MONEY_TYPE),
        pa.field("duties_billed_at", UTC_TIMESTAMP_TYPE),
    ]
)


@dataclass(frozen=True)
class ParsedPage:
    """Rows and refusals of one or more pages, and the newest ``created_at`` among the rows."""

    rows: pa.Table
    quarantine: Quarantine
    max_created: datetime | None


def _currency(value: Any, field: str) -> str:
    code = currency_code(value, field)
    if iso_minor_units(code) is None:
        raise BadValue(f"{field}: unknown currency {value!r}")
    return code


def _amount(value: Any, field: str, code: str) -> Decimal:
    """A money string that must be whole in the currency's minor units (EasyPost pads fees to
    five decimals: "6.07000" is fine, "6.07500" is half a cent nobody can have paid)."""
    amount = money(value, field)
    exponent = iso_minor_units(code) or 0
    if amount != amount.quantize(Decimal(1).scaleb(-exponent)):
        raise BadValue(f"{field}: {value!r} is not a whole amount of {code}")
    return amount


def parse_shipment(record: dict[str, Any]) -> dict[str, Any]:
    """One bought shipment as a row of ``SCHEMA``; ``BadValue`` when it cannot be exact."""
    shipment_id = required_str(record.get("id"), "id")
    rate = nested_object(record.get("selected_rate"), "selected_rate", required=True)
    fee_currency = _currency(rate.get("currency"), "selected_rate.currency")
    postage = _amount(rate.get("rate"), "selected_rate.rate", fee_currency)
    fees = {kind: Decimal(0) for kind in FEE_TYPES}
    for i, fee in enumerate(optional_list(record.get("fees"), "fees")):
        fee = nested_object(fee, f"fees.{i}", required=True)
        kind = required_str(fee.get("type"), f"fees.{i}.type")
        if kind not in fees:
            raise BadValue(f"fees.{i}.type: unknown fee type {kind!r}")
        if fee.get("refunded") is True:
            continue
        fees[kind] += _amount(fee.get("amount"), f"fees.{i}.amount", fee_currency)
    if fees["PostageFee"] and fees["PostageFee"] != postage:
        raise BadValue(
            f"fees: PostageFee {fees['PostageFee']} differs from selected_rate.rate {postage}"
        )
    options = nested_object(record.get("options"), "options")
    incoterm = optional_str(options.get("incoterm"), "options.incoterm")
    if incoterm is not None and incoterm not in INCOTERMS:
        raise BadValue(f"options.incoterm: unknown incoterm {incoterm!r}")
    duties = nested_object(record.get("duties_and_taxes"), "duties_and_taxes")
    duty_currency = duty = tax = value = None
    billed_at = None
    if duties:
        duty_currency = _currency(duties.get("currency"), "duties_and_taxes.currency")
        duty = _amount(duties.get("duty_total"), "duties_and_taxes.duty_total", duty_currency)
        tax = _amount(duties.get("tax_total"), "duties_and_taxes.tax_total", duty_currency)
        total = _amount(duties.get("total"), "duties_and_taxes.total", duty_currency)
        if duty + tax != total:
            raise BadValue(f"duties_and_taxes: duty {duty} + tax {tax} != total {total}")
        value = _amount(
            duties.get("customs_value"), "duties_and_taxes.customs_value", duty_currency
        )
        billed_at = utc_timestamp(duties.get("billed_at"), "duties_and_taxes.billed_at")
    weight = nested_object(record.get("parcel"), "parcel").get("weight")
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, int | float)):
        raise BadValue(f"parcel.weight: expected a number, got {weight!r}")
    zone = record.get("usps_zone")
    if zone is not None and (isinstance(zone, bool) or not isinstance(zone, int)):
        raise BadValue(f"usps_zone: expected an integer, got {zone!r}")
    created = utc_timestamp(record.get("created_at"), "created_at")
    return {
        "id": shipment_id,
        "reference": required_str(record.get("reference"), "reference"),
        "tracking_code": optional_str(record.get("tracking_code"), "tracking_code"),
        "carrier": required_str(rate.get("carrier"), "selected_rate.carrier"),
        "service": required_str(rate.get("service"), "selected_rate.service"),
        "status": optional_str(record.get("status"), "status"),
        "created_at": created,
        "updated_at": optional_utc_timestamp(record.get("updated_at"), "updated_at") or created,
        "from_country_code": optional_str(
            nested_object(record.get("from_address"), "from_address").get("country"),
            "from_address.country",
        ),
        "to_country_code": optional_str(
            nested_object(record.get("to_address"), "to_address").get("country"),
            "to_address.country",
        ),
        "usps_zone": zone,
        "parcel_weight_oz": None if weight is None else float(weight),
        "postage_amount": postage,
        "label_fee_amount": fees["LabelFee"],
        "insurance_fee_amount": fees["InsuranceFee"],
        "other_fee_amount": fees["CarbonOffsetFee"],
        "fee_currency": fee_currency,
        "incoterm": incoterm,
        "duties_currency": duty_currency,
        "customs_value_amount": value,
        "duty_amount": duty,
        "import_tax_amount": tax,
        "duties_billed_at": billed_at,
    }


def parse_page(records: list[Any]) -> ParsedPage:
    """Parse one page; a refused record goes to the quarantine, the rest load."""
    quarantine = Quarantine(source=SOURCE)
    rows: list[dict[str, Any]] = []
    for record in records:
        record_id = record.get("id") if isinstance(record, dict) else None
        try:
            if not isinstance(record, dict):
                raise BadValue(f"shipment: expected an object, got {type(record).__name__}")
            rows.append(parse_shipment(record))
        except BadValue as exc:
            quarantine.add(ENTITY, record, str(exc), record_id)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            quarantine.add(
                ENTITY, record, f"malformed shipment: {type(exc).__name__}: {exc}", record_id
            )
    created = [r["created_at"] for r in rows]
    return ParsedPage(
        rows=pa.Table.from_pylist(rows, schema=SCHEMA),
        quarantine=quarantine,
        max_created=max(created, default=None),
    )


def merge_pages(pages: list[ParsedPage]) -> ParsedPage:
    """Consecutive pages as one Arrow table (``settings.BATCH_PAGES``)."""
    if len(pages) == 1:
        return pages[0]
    created = [p.max_created for p in pages if p.max_created is not None]
    return ParsedPage(
        rows=pa.concat_tables([p.rows for p in pages]),
        quarantine=Quarantine.merged(SOURCE, (p.quarantine for p in pages)),
        max_created=max(created, default=None),
    )
