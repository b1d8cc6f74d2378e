"""Heavy requests: cached per workspace state, computed once, limited in number (503 + Retry-After)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import shapely
from geopandas import GeoDataFrame

from onemap.api.context import VersionCache, frame_bytes
from onemap.api.errors import ServiceBusy, error_response
from onemap.api.heavy import HeavyWork
from onemap.domain.security import Concurrency
from onemap.store import init_workspace
from onemap.store.base import VersionMeta

from ._api_support import auth


def test_identical_requests_compute_once_and_share_the_result():
    heavy = HeavyWork(Concurrency(result_cache=2, heavy_parallel=2, heavy_wait_seconds=5))
    calls = []
    gate = threading.Event()

    def slow():
        calls.append(1)
        gate.wait(5)
        return {"figure": 42}

    out = []
    threads = [threading.Thread(target=lambda: out.append(heavy.run(("stats", 1), slow)))
               for _ in range(5)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    gate.set()
    for t in threads:
        t.join()
    assert calls == [1]
    assert out == [{"figure": 42}] * 5
    assert all(o is out[0] for o in out)
    heavy.run(("stats", 2), lambda: 2)
    heavy.run(("stats", 3), lambda: 3)  # cache of 2: ("stats", 1) goes out
    assert heavy.run(("stats", 1), lambda: "again") == "again"
    assert heavy.computed == 4


def test_full_slots_give_503_with_retry_after():
    heavy = HeavyWork(Concurrency(heavy_parallel=1, heavy_wait_seconds=0.2))
    started, release = threading.Event(), threading.Event()

    def long():
        started.set()
        release.wait(5)
        return 1

    t = threading.Thread(target=heavy.run, args=(("assess", 2024), long))
    t.start()
    started.wait(5)
    with pytest.raises(ServiceBusy) as info:
        heavy.run(("assess", 2025), lambda: 2)
    release.set()
    t.join()
    response = error_response(info.value)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "服务器正忙" in info.value.args[0] and "同时最多 1 个" in info.value.args[0]
    assert heavy.run(("assess", 2025), lambda: 2) == 2  # a slot is free again


def _frame(n: int, x0: float) -> GeoDataFrame:
    return GeoDataFrame({"BSM": [f"{i:06d}" for i in range(n)]},
                        geometry=[shapely.box(x0 + i * 1e-3, 37.9, x0 + i * 1e-3 + 5e-4, 37.9005)
                                  for i in range(n)], crs=4490)


def test_version_cache_evicts_by_size(tmp_path):
    store = init_workspace(tmp_path / "ws.gpkg")
    infos = [store.write_version("DLTB", str(2020 + k), _frame(200, 106 + k * 0.1), VersionMeta())
             for k in range(3)]
    one = frame_bytes(store.read("DLTB", "2020"))
    # 200 boxes: 5 coordinates each (16 bytes), 120 per object, the BSM strings
    assert one > 200 * (5 * 16 + 120)
    cache = VersionCache(store, max_versions=8, max_bytes=int(one * 2.5))
    for info in infos:
        cache.frame(info)
    assert [cache.loaded(i.id) for i in infos] == [False, True, True]
    assert cache.nbytes() <= int(one * 2.5)
    cache.frame(infos[1])  # used: moves to the end
    cache.frame(infos[0])
    assert [cache.loaded(i.id) for i in infos] == [True, True, False]


def test_stats_endpoint_is_computed_once_per_state(client, tokens, workspace):
    ctx = client.app.state.ctx
    headers = auth(tokens["admin"])
    before = ctx.heavy.computed
    first = client.get("/api/stats", headers=headers)
    second = client.get("/api/stats", headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert ctx.heavy.computed == before + 1
    ctx.store.set_settings({"heavy_test": "1"})  # a new state: computed again
    try:
        assert client.get("/api/stats", headers=headers).json() == first.json()
        assert ctx.heavy.computed == before + 2
    finally:
        ctx.store.set_settings({"heavy_test": None})


def test_site_checker_is_built_once_for_concurrent_checks(client):
    ctx = client.app.state.ctx
    ctx._checker = None
    with ThreadPoolExecutor(max_workers=4) as pool:
        built = list(pool.map(lambda _: ctx.checker(), range(4)))
    assert all(c is built[0] for c in built)
