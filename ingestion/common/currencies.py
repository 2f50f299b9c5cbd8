"""ISO 4217: which codes exist and how many decimals each has.

Why one table in code: every amount Tradelane reads or writes as integer minor units (Stripe's
API, the sandbox ledger) needs the currency's exponent, and a code nobody lists must be refused
rather than assumed to have two decimals. The table follows the official list
(``shared/fixtures/reference/iso4217/iso4217_six_table.xml``, published 2026-01-01; a test checks
it against that file). Only currencies whose exponent is not 2 are spelled out.
"""

from __future__ import annotations

# ISO 4217 minor units that differ from 2 (the file's "N.A." entries, gold and fund codes such
# as XAU and XDR, are not payment currencies and are refused).
ISO_MINOR_UNITS_NOT_2: dict[str, int] = {
    "BHD": 3,
    "BIF": 0,
    "CLF": 4,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "RWF": 0,
    "TND": 3,
    "UGX": 0,
    "UYI": 0,
    "UYW": 4,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
}

# Every active ISO 4217 code with minor units (the 2026-01-01 list), so an unknown code is
# refused instead of silently assumed to have two decimals.
ISO_CURRENCIES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB
    EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD
    JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
    TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAD XAF XCD XCG XOF
    XPF YER ZAR ZMW ZWG
    """.split()
)
# Withdrawn from the list but still on historical charges and payouts (Bulgaria joined the euro
# on 2026-01-01, Croatia on 2023-01-01; SLL, ZWL and CUC were replaced): all two-decimal.
WITHDRAWN_CURRENCIES: frozenset[str] = frozenset({"BGN", "HRK", "SLL", "ZWL", "CUC"})


def iso_minor_units(currency: str) -> int | None:
    """ISO 4217 exponent of an upper-case code, None for a code ISO does not list."""
    if currency not in ISO_CURRENCIES and currency not in WITHDRAWN_CURRENCIES:
        return None
    return ISO_MINOR_UNITS_NOT_2.get(currency, 2)
