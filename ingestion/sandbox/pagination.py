"""Keyset pagination over polars frames, and the opaque cursors that carry it.

Why keyset: offset pages skip or repeat records when rows shift; a cursor holding the last
(sort key, id) seen returns every record exactly once as long as nothing changes, which is what
Shopify's ``page_info`` promises and what our WMS cursors promise too. Cursors are base64url
JSON: opaque to clients, readable when debugging.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import numpy as np
import orjson
import polars as pl


class CursorError(ValueError):
    """A cursor that was not produced by this server (or was tampered with)."""


def encode_cursor(payload: dict[str, Any]) -> str:
    """Opaque, URL-safe token for ``payload``."""
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(token: str) -> dict[str, Any]:
    """Inverse of ``encode_cursor``; raises ``CursorError`` on anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise CursorError("invalid cursor") from exc
    if not isinstance(payload, dict):
        raise CursorError("invalid cursor")
    return payload


def _after(keys: Sequence[str], values: Sequence[Any], descending: bool) -> pl.Expr:
    """Lexicographic ``(keys) > (values)`` (or ``<`` when descending)."""
    expr: pl.Expr | None = None
    for key, value in zip(reversed(keys), reversed(values), strict=True):
        col, lit = pl.col(key), pl.lit(value)
        strict = col < lit if descending else col > lit
        expr = strict if expr is None else strict | ((col == lit) & expr)
    assert expr is not None
    return expr


@dataclass(frozen=True)
class Page:
    """One page of rows plus whether rows exist beyond each end of it."""

    rows: pl.DataFrame
    has_next: bool
    has_previous: bool

    def first_key(self, keys: Sequence[str]) -> list[Any]:
        return [self.rows[k][0] for k in keys]

    def last_key(self, keys: Sequence[str]) -> list[Any]:
        return [self.rows[k][-1] for k in keys]


def page_info_link_header(
    base_url: str,
    page: Page,
    keys: Sequence[str],
    filters: Any,
    limit: int,
    fields: str | None,
) -> dict[str, str]:
    """Shopify's ``Link`` header for a keyset page: ``rel="previous"`` and ``rel="next"`` URLs
    whose ``page_info`` carries the filters and the edge key, as Shopify's cursors do (a
    ``page_info`` URL takes only ``limit`` and ``fields`` beside it). Empty when neither exists."""
    extra = {"fields": fields} if fields is not None else {}
    links = []
    for exists, direction, edge, rel in (
        (page.has_previous, "p", page.first_key, "previous"),
        (page.has_next, "n", page.last_key, "next"),
    ):
        if page.rows.height and exists:
            token = encode_cursor({"f": filters, "d": direction, "k": edge(keys)})
            query = urlencode({"limit": limit, **extra, "page_info": token})
            links.append(f'<{base_url}?{query}>; rel="{rel}"')
    return {"Link": ", ".join(links)} if links else {}


def keyset_page(
    frame: pl.DataFrame,
    keys: Sequence[str],
    limit: int,
    *,
    descending: bool = False,
    after: Sequence[Any] | None = None,
    before: Sequence[Any] | None = None,
) -> Page:
    """Rows of ``frame`` ordered by ``keys`` (the last key must be unique), ``limit`` of them,
    starting after ``after`` or ending just before ``before`` (at most one of them)."""
    lazy = frame.lazy()
    if before is not None:
        # Walk backwards from ``before``, then restore the requested order.
        chunk = (
            lazy.filter(_after(keys, before, not descending))
            .sort(list(keys), descending=not descending)
            .head(limit + 1)
            .collect()
        )
        rows = chunk.head(limit).reverse()
        return Page(rows, has_next=True, has_previous=chunk.height > limit)
    if after is not None:
        lazy = lazy.filter(_after(keys, after, descending))
    chunk = lazy.sort(list(keys), descending=descending).head(limit + 1).collect()
    return Page(chunk.head(limit), has_next=chunk.height > limit, has_previous=after is not None)


class SortedFrame:
    """A frame sorted once by its keys (all ascending or all descending) that serves keyset
    pages by binary search: a page costs O(log n + limit), never a sort or a scan. Keys are
    integers; string keys (an Amazon order id after its timestamp) only in ascending order.

    Why: a million-order view is paged thousands of times per clock position; sorting or
    filtering the whole frame per page would make serving slower than ingestion."""

    def __init__(self, frame: pl.DataFrame, keys: Sequence[str], descending: bool = False) -> None:
        self.keys = tuple(keys)
        self.descending = descending
        self.frame = frame.sort(list(keys), descending=descending)
        sign = -1 if descending else 1
        # Keys as ascending arrays: int64 (negated when the order is descending), or strings.
        cols = []
        for k in keys:
            if self.frame[k].dtype == pl.String:
                if descending:
                    raise ValueError("string keys are supported in ascending order only")
                cols.append(self.frame[k].to_numpy().astype(str))
            else:
                cols.append(sign * self.frame[k].to_numpy().astype(np.int64))
        self._cols = tuple(cols)

    @property
    def height(self) -> int:
        return self.frame.height

    def _bounds(self, values: Sequence[Any]) -> tuple[int, int]:
        """(first row >= values, first row > values) in the frame's order."""
        sign = -1 if self.descending else 1
        lo, hi = 0, self.frame.height
        for col, value in zip(self._cols, values, strict=True):
            x = str(value) if col.dtype.kind == "U" else sign * int(value)
            lo, hi = (
                lo + int(np.searchsorted(col[lo:hi], x, side="left")),
                lo + int(np.searchsorted(col[lo:hi], x, side="right")),
            )
        return lo, hi

    def page(
        self,
        limit: int,
        after: Sequence[Any] | None = None,
        before: Sequence[Any] | None = None,
    ) -> Page:
        """Like ``keyset_page`` on the sorted frame."""
        n = self.frame.height
        if before is not None:
            end, _ = self._bounds(before)
            start = max(0, end - limit)
            return Page(self.frame.slice(start, end - start), has_next=True, has_previous=start > 0)
        start = 0 if after is None else self._bounds(after)[1]
        rows = self.frame.slice(start, limit)
        return Page(rows, has_next=start + limit < n, has_previous=after is not None)
