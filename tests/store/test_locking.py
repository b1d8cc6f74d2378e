"""The cross-process write lock: one writer at a time, a Chinese notice while waiting, a timeout."""

from __future__ import annotations

import logging
import os
import threading
import time

import pytest

from onemap.errors import WorkspaceError
from onemap.store.locking import lock_path, try_write_lock, write_lock


def test_second_writer_waits_with_notice_then_proceeds(tmp_path, caplog):
    ws = tmp_path / "ws.gpkg"
    ws.write_bytes(b"")
    held = threading.Event()
    release_at = threading.Event()

    def first() -> None:
        with write_lock(ws, 5, what="入库 DLTB 2024"):
            held.set()
            release_at.wait(5)

    t = threading.Thread(target=first)
    t.start()
    held.wait(5)
    assert lock_path(ws).read_text() == str(os.getpid())
    threading.Timer(0.4, release_at.set).start()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="onemap.store"):
        with write_lock(ws, 5, what="入库 DLTB 2025"):
            waited = time.monotonic() - started
    t.join()
    assert waited >= 0.35
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == 1
    assert notices[0].startswith("正在写入，请稍候：工作空间")
    assert f"进程 {os.getpid()}" in notices[0] and "入库 DLTB 2025" in notices[0]


def test_writer_gives_up_after_the_timeout(tmp_path):
    ws = tmp_path / "ws.gpkg"
    ws.write_bytes(b"")
    fd = try_write_lock(ws)
    assert fd is not None
    try:
        assert try_write_lock(ws) is None  # taken: the clean-up at open skips
        with pytest.raises(WorkspaceError, match="等待写入超时.*0.2 秒.*工作空间未改动"):
            with write_lock(ws, 0.2):
                pass
    finally:
        os.close(fd)
    with write_lock(ws, 0.2):  # released with its descriptor: taken at once
        assert lock_path(ws).read_text() == str(os.getpid())
    assert lock_path(ws).read_text() == ""
