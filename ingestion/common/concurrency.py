"""Overlapping a source's one-request-per-record calls (Amazon getOrderItems, Shopify order
transactions) on a small pool of threads.

Why threads: each such call spends most of its time waiting for the server (on the sandbox,
for the other process to render the response; on a real API, for the network), and a thread
waiting on a socket releases the GIL, so the next requests are already on the wire while one
response is decoded. The calls still go through the source's one ``ApiClient``, whose token
bucket is shared and locked, so the published rate limit and ``Retry-After`` are honoured
whatever the number of threads: the pool only fills the bucket's budget, it never exceeds it.

Results come back in the order of the inputs, so what a source yields, and the order in which
it records what it loaded (its cursor and loaded versions), is the same as a sequential run's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class RequestPool:
    """A bounded pool for per-record requests; ``workers=1`` runs them inline, one by one."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self._executor = (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="requests")
            if workers > 1
            else None
        )

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``[fn(item) for item in items]``, at most ``workers`` at a time, in input order.

        The first exception (in input order) is raised once the calls before it are done; the
        calls not yet started are cancelled, so a failing run stops sending requests.
        """
        if self._executor is None:
            return [fn(item) for item in items]
        futures = [self._executor.submit(fn, item) for item in items]
        try:
            return [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        """Wait for the calls in flight and release the threads."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> RequestPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
