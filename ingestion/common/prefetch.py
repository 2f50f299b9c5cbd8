"""Read the next page of a paginated API while the current one is parsed.

Why: a cursor-paginated list (Shopify's ``page_info``) is a chain, each request needing the
previous response's ``Link`` header, so pages cannot be fetched in parallel; but once a
response is in, the next request can travel while this one is decoded and parsed. Sequentially
the connector waits for the server to render a page, then the server waits for the connector
to parse it; with one page read ahead on a thread, the two overlap (a thread waiting on its
socket releases the GIL). At most ``depth`` pages wait in memory, so memory stays bounded by
the page size, and the pages arrive in the order the API served them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
# How often a blocked reader thread checks whether the consumer has gone away.
_POLL_S = 0.1


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(pages: Iterator[T], depth: int = 1, name: str = "prefetch") -> Iterator[T]:
    """``pages``, read on a thread at most ``depth`` items ahead of the consumer.

    An exception ``pages`` raises reaches the consumer in its place, after the items before
    it. Closing this iterator early (``break``, an error in the consumer) stops the thread and
    closes ``pages`` there, so its ``finally`` blocks (an HTTP client's ``with``) still run.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        """Put ``item`` for the consumer; False when it has gone away meanwhile."""
        while not stop.is_set():
            try:
                ready.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for page in pages:
                if not offer(page):
                    break
            else:
                offer(_DONE)
        except BaseException as exc:  # handed over to the consumer, raised there
            offer(_Failed(exc))
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=read, name=name, daemon=True)
    reader.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        reader.join()
