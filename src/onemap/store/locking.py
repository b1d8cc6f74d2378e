"""One writer at a time across processes: an advisory lock file beside the workspace.

A GeoPackage workspace ``city.gpkg`` is locked through ``city.gpkg.lock``
(``fcntl.flock``; the kernel releases the lock when the holder exits, even
after ``kill -9``, so a crash never leaves it locked). The holder writes its
process id into the file, so that a waiting process can say who writes.

A process that finds the lock taken logs the Chinese notice
"正在写入，请稍候" once (logger ``onemap.store``, shown on stderr by the CLI)
and waits; after ``timeout`` seconds it gives up with a
:class:`onemap.errors.WorkspaceError` naming the workspace and the holder.
The wait is a parameter (``security.yaml`` → ``concurrency.write_lock_seconds``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from onemap.errors import WorkspaceError

log = logging.getLogger("onemap.store")

_POLL_SECONDS = 0.05


def lock_path(path: Path) -> Path:
    """The lock file of a workspace file."""
    return path.with_name(path.name + ".lock")


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""


@contextmanager
def write_lock(path: Path, timeout: float, *, what: str = "写入") -> Iterator[None]:
    """Hold the workspace's write lock for the ``with`` block.

    Parameters
    ----------
    path : Path
        The workspace file.
    timeout : float
        Seconds to wait for another writer before giving up.
    what : str
        What the caller is about to do (for the notice), e.g. ``"入库 DLTB 2024"``.

    Raises
    ------
    onemap.errors.WorkspaceError
        When the lock stays taken for ``timeout`` seconds.
    """
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o664)
    try:
        _acquire(fd, path, timeout, what)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def try_write_lock(path: Path) -> int | None:
    """Take the write lock only if it is free now; return its descriptor (or None).

    Release with :func:`release`. Used by the clean-up at open, which must not
    wait for (nor disturb) a writer at work.
    """
    try:
        fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o664)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def release(fd: int) -> None:
    """Release a lock taken by :func:`try_write_lock`."""
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, timeout: float, what: str) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except OSError:
        pass
    holder = _holder(fd)
    who = f"进程 {holder}" if holder else "另一进程"
    log.warning("正在写入，请稍候：工作空间 %s 正由%s写入，%s将在其完成后进行（最多等待 %g 秒）",
                path, who, what, timeout)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError:
            if time.monotonic() >= deadline:
                raise WorkspaceError(
                    f"等待写入超时：工作空间 {path} 已由{who}写入超过 {timeout:g} 秒，"
                    f"{what}未执行，工作空间未改动；请稍后重试") from None
            time.sleep(_POLL_SECONDS)
