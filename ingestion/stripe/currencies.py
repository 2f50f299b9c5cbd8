"""How many decimals a Stripe amount has: ISO 4217 minor units, with Stripe's own exceptions.

Stripe sends every amount as an integer count of the currency's smallest unit, so turning
``amount`` into major units needs each currency's exponent: ISO 4217's
(``ingestion.common.currencies``), except where Stripe says otherwise.

Stripe departs from ISO for two currencies, documented at https://docs.stripe.com/currencies:
ISK stays a two-decimal currency in Stripe's API for backwards compatibility (ISO: 0; an ISK
amount of 100 is 1 krona), and MGA is zero-decimal in Stripe (ISO: 2). Using the ISO exponent
there would misstate those amounts a hundredfold, so Stripe's rule wins for Stripe amounts.
"""

from __future__ import annotations

from ingestion.common.currencies import iso_minor_units

# Stripe's documented departures from ISO 4217 (see the module docstring).
STRIPE_OVERRIDES: dict[str, int] = {"ISK": 2, "MGA": 0}


def stripe_minor_units(currency: str) -> int | None:
    """Exponent of Stripe's integer amounts in ``currency`` (upper case), None if unknown."""
    if currency in STRIPE_OVERRIDES:
        return STRIPE_OVERRIDES[currency]
    return iso_minor_units(currency)
