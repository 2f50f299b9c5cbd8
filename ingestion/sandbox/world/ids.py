"""Ids of the sandbox world: 64-bit integers above 2**53, and the string ids real APIs use.

Why above 2**53: a JSON parser that reads numbers as doubles corrupts such ids visibly instead
of silently working on small test ids. Each kind of id gets its own block, which keeps ids
unique across kinds; gaps between consecutive ids are random, as in Shopify.

String ids (``ch_3Q...``, PayPal ``5TY...``, Amazon ``113-1234567-1234567``, tracking numbers)
are derived from the integer ids with a fixed scramble, so they are deterministic, unique where
the derivation is a bijection, and cost one vectorized pass per column.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from ingestion.sandbox.world.common import mix64

ID_FLOOR = 2**53 + 1
_ID_BLOCK = 10**14
_ID_KIND = {
    "order": 0,
    "line_item": 1,
    "customer": 2,
    "product": 3,
    "variant": 4,
    "location": 5,
    "fulfillment": 6,
    "shipping_line": 7,
    "transaction": 8,
    "refund": 9,
    "refund_line": 10,
    "refund_transaction": 11,
    "checkout": 12,
    "gift_card": 13,
    "address": 14,
    "order_adjustment": 15,
    # 16 is taken by the Shopify staff user id in shopify.py.
    "purchase_order": 17,
    "transfer": 18,
    "payment": 19,
    "payment_refund": 20,
    "dispute": 21,
    "payout": 22,
    "balance_transaction": 23,
    "supplier": 24,
}

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
UPPER_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"


class IdMaker:
    """Strictly increasing int64 ids above 2**53 with random gaps, one block per kind."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng

    def __call__(self, kind: str, n: int) -> np.ndarray:
        base = ID_FLOOR + _ID_KIND[kind] * _ID_BLOCK
        gaps = self._rng.integers(1, 4096, n, dtype=np.int64)
        gaps[:1] = 0
        return base + np.cumsum(gaps)


def chars(values: np.ndarray, length: int, salt: int, alphabet: str = BASE62) -> pl.Series:
    """A pseudo-random string of ``length`` characters of ``alphabet`` per integer, derived
    from the integer alone (collisions are as unlikely as the alphabet and length make them)."""
    n = len(values)
    table = np.frombuffer(alphabet.encode(), dtype=np.uint8)
    base = np.uint64(len(alphabet))
    out = np.empty((n, length), dtype=np.uint8)
    per_word = int(np.floor(64 / np.log2(len(alphabet))))
    word = None
    for i in range(length):
        if i % per_word == 0:
            word = mix64(values, salt * 131 + i)
        assert word is not None
        out[:, i] = table[(word % base).astype(np.int64)]
        word = word // base
    return _strings(out)


def _strings(matrix: np.ndarray) -> pl.Series:
    n, width = matrix.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    array = pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(matrix).tobytes())
    )
    return pl.Series(array)


def permuted(values: np.ndarray, width: int, salt: int) -> np.ndarray:
    """A bijection of ``[0, 10**width)`` (``width`` at most 9) applied to ``values``:
    distinct inputs in range give distinct outputs that look random."""
    if width > 9:
        raise ValueError("permuted() works on at most 9 digits; compose blocks beyond that")
    modulus = 10**width
    # Multiplying by a unit mod 10**width (odd, not a multiple of 5) permutes the range.
    unit = (0x5DEECE66D * (2 * salt + 1)) % modulus
    while unit % 2 == 0 or unit % 5 == 0:
        unit += 1
    return (np.asarray(values, dtype=np.int64) % modulus * unit + salt * 7919) % modulus


def digits(values: np.ndarray, width: int, salt: int) -> pl.Series:
    """``permuted`` values as zero-padded decimal strings."""
    return pl.Series(permuted(values, width, salt)).cast(pl.String).str.zfill(width)


def s10_tracking(index: np.ndarray, service: str, country: str, salt: int) -> pl.Series:
    """UPU S10 item ids (``LX123456789CN``): two service letters, eight serial digits, the
    mod-11 check digit, the posting country. Distinct ``index`` values give distinct ids."""
    serial = permuted(index, 8, salt)
    weights = np.array([8, 6, 4, 2, 3, 5, 9, 7], dtype=np.int64)
    d = (serial[:, None] // 10 ** np.arange(7, -1, -1, dtype=np.int64)) % 10
    check = 11 - (d * weights).sum(axis=1) % 11
    check = np.where(check == 10, 0, np.where(check == 11, 5, check))
    number = serial * 10 + check
    return service + pl.Series(number).cast(pl.String).str.zfill(9) + country


def amazon_order_ids(index: np.ndarray, prefix: str, salt: int) -> pl.Series:
    """Amazon order ids ``PPP-DDDDDDD-DDDDDDD`` (3-7-7 digits); distinct ``index`` values
    (below 10**14) give distinct ids."""
    index = np.asarray(index, dtype=np.int64)
    lo, hi = index % 10**7, index // 10**7
    first = permuted(lo, 7, salt)
    second = permuted(hi + lo * 7, 7, salt + 1)
    return (
        prefix
        + "-"
        + pl.Series(first).cast(pl.String).str.zfill(7)
        + "-"
        + pl.Series(second).cast(pl.String).str.zfill(7)
    )
