"""Heavy requests (statistics, assessment, tabulation, reports): cached per state, limited in number.

A result is kept under its request (endpoint and parameters) and the
workspace *state*: the newest audit sequence number (every audited write,
including each new layer version, moves it) and the workspace settings (the
titles and 文号 of the reports). The same request on the same state is
computed once: concurrent identical requests wait for the first and share its
result. At most ``heavy_parallel`` computations run at once; a request that
cannot get a slot within ``heavy_wait_seconds`` gets HTTP 503 with a
``Retry-After`` header instead of piling up in memory. The cache holds
``result_cache`` results, least recently used out first. All three numbers are
parameters (``security.yaml`` → ``concurrency``).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from onemap.api.errors import ServiceBusy
from onemap.domain.security import Concurrency

T = TypeVar("T")


class HeavyWork:
    """The result cache and the slots of heavy computations of one server.

    Parameters
    ----------
    policy : Concurrency
        ``result_cache``, ``heavy_parallel`` and ``heavy_wait_seconds``.
    """

    def __init__(self, policy: Concurrency):
        self.entries = policy.result_cache
        self.wait = policy.heavy_wait_seconds
        self.parallel = policy.heavy_parallel
        self._slots = threading.BoundedSemaphore(policy.heavy_parallel)
        self._results: OrderedDict[Hashable, Any] = OrderedDict()
        self._pending: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.computed = 0

    def run(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached result of ``key``, or ``compute()`` run in a slot and kept.

        Raises
        ------
        onemap.api.errors.ServiceBusy
            No slot (or the identical computation in progress did not finish)
            within the wait.
        """
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
            pending = self._pending.setdefault(key, threading.Lock())
        if not pending.acquire(timeout=self.wait):
            raise self._busy()
        try:
            with self._lock:
                if key in self._results:
                    self._results.move_to_end(key)
                    return self._results[key]
            if not self._slots.acquire(timeout=self.wait):
                raise self._busy()
            try:
                value = compute()
            finally:
                self._slots.release()
            with self._lock:
                self.computed += 1
                self._results[key] = value
                while len(self._results) > self.entries:
                    self._results.popitem(last=False)
                self._pending.pop(key, None)
            return value
        finally:
            pending.release()

    def limit(self, compute: Callable[[], T]) -> T:
        """Run ``compute()`` (not cached: e.g. a site check) in one of the slots.

        Raises
        ------
        onemap.api.errors.ServiceBusy
            No slot within the wait.
        """
        if not self._slots.acquire(timeout=self.wait):
            raise self._busy()
        try:
            return compute()
        finally:
            self._slots.release()

    def _busy(self) -> ServiceBusy:
        retry = max(1, math.ceil(self.wait))
        return ServiceBusy(f"服务器正忙：统计、评估或报告的计算已满（同时最多 "
                           f"{self.parallel} 个，已等待 {self.wait:g} 秒），"
                           f"请 {retry} 秒后重试", retry_after=retry)
