"""Regenerate the reference seeds from their published sources (run by hand, offline).

The CSVs in ``seeds/`` are committed, so ``dbt build`` never needs this script or the network;
it exists so a reader can see, and repeat, how each seed was derived:

- ``ref_countries.csv``: ISO 3166-1 from ``pycountry`` (alpha-2, alpha-3, numeric, name), with
  EU membership (the 27 member states as of 2026).
- ``ref_regions.csv``: ISO 3166-2 subdivisions (states, provinces, prefectures) from ``pycountry``.
- ``ref_currencies.csv``: ISO 4217 list one (SIX, ``iso4217_six_table.xml``) with minor units.
- ``ref_eu_vat_rates.csv``: EU standard VAT rate history with validity ranges
  (``duty27_eu_standard_vat_rate_history.csv``; Greece's ``EL`` becomes ISO ``GR``).

Usage: ``python dbt_project/scripts/build_reference_seeds.py ../shared/fixtures/reference``
"""

from __future__ import annotations

import csv
import sys
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pycountry

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
# UN M.49 continents (CLDR codes) -> the region names dashboards group by.
CONTINENTS = {"002": "Africa", "019": "Americas", "142": "Asia", "150": "Europe", "009": "Oceania"}
EU_MEMBERS = set(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)


def countries() -> None:
    rows = [
        {
            "country_code": c.alpha_2,
            "country_code_alpha3": c.alpha_3,
            "country_numeric": c.numeric,
            "country_name": c.name,
            "is_eu_member": str(c.alpha_2 in EU_MEMBERS).lower(),
        }
        for c in sorted(pycountry.countries, key=lambda c: c.alpha_2)
    ]
    _write("ref_countries.csv", rows)


def regions() -> None:
    rows = [
        {
            "region_code": s.code,
            "country_code": s.country_code,
            "region_name": s.name,
            "region_type": s.type,
            "parent_region_code": s.parent_code or "",
        }
        for s in sorted(pycountry.subdivisions, key=lambda s: s.code)
    ]
    _write("ref_regions.csv", rows)


def currencies(reference: Path) -> None:
    tree = ET.parse(reference / "iso4217" / "iso4217_six_table.xml")
    seen: dict[str, dict[str, str]] = {}
    for entry in tree.iter("CcyNtry"):
        code = entry.findtext("Ccy")
        units = entry.findtext("CcyMnrUnts")
        if not code or code in seen:
            continue
        seen[code] = {
            "currency_code": code,
            "currency_numeric": entry.findtext("CcyNbr") or "",
            "currency_name": entry.findtext("CcyNm") or "",
            # "N.A." (gold, SDR...) has no minor unit: not a currency orders are paid in.
            "minor_units": units if units and units.isdigit() else "",
        }
    _write("ref_currencies.csv", sorted(seen.values(), key=lambda r: r["currency_code"]))


def eu_vat_rates(reference: Path) -> None:
    with open(reference / "vat" / "duty27_eu_standard_vat_rate_history.csv") as f:
        history = sorted(
            csv.DictReader(f), key=lambda r: (r["vat_country_code"], r["effective_from"])
        )
    rows = []
    for i, row in enumerate(history):
        following = history[i + 1] if i + 1 < len(history) else None
        same = following and following["vat_country_code"] == row["vat_country_code"]
        valid_to = (
            date.fromisoformat(following["effective_from"]) - timedelta(days=1) if same else None
        )
        code = "GR" if row["vat_country_code"] == "EL" else row["vat_country_code"]
        rows.append(
            {
                "country_code": code,
                "valid_from": row["effective_from"],
                "valid_to": valid_to.isoformat() if valid_to else "",
                "standard_rate_percent": row["standard_rate_percent"],
            }
        )
    _write("ref_eu_vat_rates.csv", rows)


def _write(name: str, rows: list[dict[str, str]]) -> None:
    with open(SEEDS / name, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{name}: {len(rows)} rows")


if __name__ == "__main__":
    reference = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures/reference")
    countries()
    regions()
    currencies(reference)
    eu_vat_rates(reference)
