"""Shopify order pages are read one page ahead (``ingestion.common.prefetch``): the next request
travels while a page is parsed, and order, errors and early stops behave as a plain loop's."""

from __future__ import annotations

import threading

import pytest

from ingestion.common.prefetch import prefetched


def test_the_next_page_is_requested_while_the_current_one_is_still_being_processed():
    second_requested = threading.Event()

    def pages():
        yield "page 1"
        second_requested.set()
        yield "page 2"

    seen = []
    for page in prefetched(pages()):
        if page == "page 1":
            # A plain loop would not ask for page 2 until this body finished: it would hang.
            assert second_requested.wait(timeout=10), "page 2 was not read ahead"
        seen.append(page)
    assert seen == ["page 1", "page 2"]


def test_pages_arrive_in_order_and_an_error_comes_after_the_pages_before_it():
    def pages():
        yield from range(5)
        raise ConnectionError("shopify answered 503 five times")

    seen = []
    with pytest.raises(ConnectionError, match="503 five times"):
        for page in prefetched(iter(pages()), depth=2):
            seen.append(page)
    assert seen == [0, 1, 2, 3, 4]


def test_stopping_early_stops_the_reader_and_runs_the_pages_cleanup():
    requested = []
    closed = threading.Event()

    def pages():
        try:
            for n in range(1000):
                requested.append(n)
                yield n
        finally:
            closed.set()

    iterator = prefetched(pages())
    assert next(iterator) == 0
    iterator.close()
    assert closed.is_set(), "the HTTP client behind the pages was not closed"
    # One page in the consumer's hands, at most one waiting, one being offered: no runaway reads.
    assert len(requested) <= 3


def test_depth_below_one_is_refused():
    with pytest.raises(ValueError, match="depth must be >= 1"):
        list(prefetched(iter([1]), depth=0))
