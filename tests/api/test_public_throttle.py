"""The public routes' sliding-window limits, on a fake clock."""

from __future__ import annotations

import pytest

from onemap.api.errors import TooManyRequests
from onemap.api.public_throttle import PublicThrottle
from onemap.monitor.public_policy import RateRules

RULES = RateRules(window_seconds=3600, writes_per_address=3, writes_per_device=2,
                  read_window_seconds=60, reads_per_address=2)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_device_limit_then_the_window_slides():
    clock = Clock()
    t = PublicThrottle(RULES, clock)
    t.write("10.0.0.1", "d1")
    clock.now += 600
    t.write("10.0.0.1", "d1")
    with pytest.raises(TooManyRequests) as exc:
        t.write("10.0.0.1", "d1")
    # the first write leaves the window 3000 s later
    assert exc.value.retry_after == 3000
    assert exc.value.message == "本设备提交过于频繁（1 小时内最多 2 次），请 50 分钟后再试"
    clock.now += 3000
    t.write("10.0.0.1", "d1")            # the first write has left the window


def test_address_limit_across_devices_and_reads():
    clock = Clock()
    t = PublicThrottle(RULES, clock)
    for device in ("a", "b", "c"):
        t.write("10.0.0.2", device)
    with pytest.raises(TooManyRequests, match="您所在的网络地址提交过于频繁（1 小时内最多 3 次）"):
        t.write("10.0.0.2", "d")
    t.write("10.0.0.3", None)            # another address is not affected
    t.read("10.0.0.2")
    t.read("10.0.0.2")
    with pytest.raises(TooManyRequests, match="您所在的网络地址查询过于频繁（1 分钟内最多 2 次），请 1 分钟后再试"):
        t.read("10.0.0.2")
    clock.now += 60
    t.read("10.0.0.2")
