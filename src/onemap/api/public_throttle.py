"""Abuse limits of the public routes: sliding-window counts per client address and per device.

A resident needs no account, so the server counts requests instead: writes (a report, a
comment) per address and per device (the ``X-Device-Id`` header the public page sends, a
random id kept on the phone), and reads per address. Over a limit the request is refused with
HTTP 429 and a Chinese notice saying how long to wait. The numbers are ``public.yaml`` →
``rate``. The counts are kept in the server's memory (one process); a restart forgets them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from onemap.api.errors import TooManyRequests
from onemap.monitor.public_policy import RateRules

#: Request header carrying the device id of the public page.
DEVICE_HEADER = "x-device-id"


class PublicThrottle:
    """Sliding-window counters keyed by (kind, key).

    Parameters
    ----------
    rules : RateRules
        Window lengths and limits.
    clock : callable, optional
        Seconds (monotonic); tests pass a fake clock.
    """

    def __init__(self, rules: RateRules, clock: Callable[[], float] = time.monotonic):
        self.rules = rules
        self.clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _admit(self, key: tuple[str, str], limit: int, window: int, what: str, now: float) -> None:
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= window:
            hits.popleft()
        if len(hits) >= limit:
            wait = max(1, int(window - (now - hits[0]) + 0.999))
            raise TooManyRequests(f"{what}过于频繁（{_duration(window)}内最多 {limit} 次），"
                                  f"请 {_duration(wait)}后再试", retry_after=wait)

    def write(self, address: str, device: str | None) -> None:
        """Admit one write from ``address`` (and ``device``) or refuse it (429)."""
        r, now = self.rules, self.clock()
        keys = [(("w-address", address), r.writes_per_address, "您所在的网络地址提交")]
        if device:
            keys.append((("w-device", device[:64]), r.writes_per_device, "本设备提交"))
        with self._lock:
            for key, limit, what in keys:
                self._admit(key, limit, r.window_seconds, what, now)
            for key, _limit, _what in keys:
                self._hits[key].append(now)

    def read(self, address: str) -> None:
        """Admit one read from ``address`` or refuse it (429)."""
        r, now = self.rules, self.clock()
        key = ("r-address", address)
        with self._lock:
            self._admit(key, r.reads_per_address, r.read_window_seconds, "您所在的网络地址查询",
                        now)
            self._hits[key].append(now)


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} 秒"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} 分 {rest} 秒" if rest else f"{minutes} 分钟"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes} 分钟" if minutes else f"{hours} 小时"
