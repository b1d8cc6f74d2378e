"""Login throttling per account and per client address, with doubling lock times.

After ``account_failures`` failed logins in a row for one account (or
``address_failures`` from one address, whatever the account), further logins
of that account (address) are refused with HTTP 429 and a Chinese notice for
``lock_seconds``; every further failure doubles the lock, up to
``max_lock_seconds``. Attempts in progress count as possible failures (a
parallel burst is cut before any hashing). A successful login clears the
account's count. The
numbers come from ``security.yaml`` (``login``). The state is kept in the
server's memory (one process); a restart forgets it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from onemap.api.errors import TooManyRequests
from onemap.domain.security import LoginPolicy


@dataclass
class _Count:
    failures: int = 0
    pending: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class LoginThrottle:
    """Failure counts and locks of accounts and addresses.

    Parameters
    ----------
    policy : LoginPolicy
        Thresholds and lock times.
    clock : callable, optional
        Seconds (monotonic); tests pass a fake clock.
    """

    def __init__(self, policy: LoginPolicy, clock: Callable[[], float] = time.monotonic):
        self.policy = policy
        self.clock = clock
        self._counts: dict[tuple[str, str], _Count] = {}
        self._lock = threading.Lock()

    def _get(self, key: tuple[str, str], now: float) -> _Count:
        count = self._counts.get(key)
        if count is None or (now - count.last > self.policy.forget_after_seconds
                             and now >= count.locked_until and not count.pending):
            count = self._counts[key] = _Count()
        return count

    def begin(self, account: str, address: str) -> None:
        """Admit a login attempt, or refuse it (429) while the account or the address is locked.

        Attempts still being checked count as possible failures, so a burst of
        parallel logins from one address is cut at the threshold before any
        password is hashed. Every admitted attempt must be closed with :meth:`end`.

        Raises
        ------
        onemap.api.errors.TooManyRequests
            With the seconds to wait.
        """
        now = self.clock()
        p = self.policy
        keys = ((("account", account.lower()), p.account_failures, f"账户 {account}"),
                (("address", address), p.address_failures, "您所在的地址"))
        with self._lock:
            for key, limit, what in keys:
                count = self._get(key, now)
                if count.locked_until > now:
                    wait = int(count.locked_until - now + 0.999)
                    raise TooManyRequests(
                        f"登录失败次数过多，{what}已被暂时锁定，请 {_duration(wait)}后再试"
                        "（如忘记密码请联系管理员）", retry_after=wait)
                if count.pending and count.failures + count.pending >= limit:
                    raise TooManyRequests(f"{what}的登录尝试过于频繁，请稍后再试", retry_after=1)
            for key, _limit, _what in keys:
                self._get(key, now).pending += 1

    def end(self, account: str, address: str, ok: bool) -> None:
        """Close an attempt: a failure counts (and may lock), a success clears the account."""
        now = self.clock()
        p = self.policy
        with self._lock:
            for key, limit in ((("account", account.lower()), p.account_failures),
                               (("address", address), p.address_failures)):
                count = self._get(key, now)
                count.pending = max(0, count.pending - 1)
                if ok:
                    continue
                count.failures += 1
                count.last = now
                if count.failures >= limit:
                    extra = count.failures - limit
                    seconds = min(p.max_lock_seconds, p.lock_seconds * 2 ** min(extra, 30))
                    count.locked_until = now + seconds
            if ok:
                self._counts.pop(("account", account.lower()), None)


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} 秒"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} 分 {rest} 秒" if rest else f"{minutes} 分钟"
