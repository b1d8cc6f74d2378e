"""What one running server keeps: the workspace, versions loaded in memory, the tile service."""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from onemap.api.errors import NotFound
from onemap.api.heavy import HeavyWork
from onemap.api.scope import scoped_frame
from onemap.api.throttle import LoginThrottle
from onemap.domain.security import security_policy
from onemap.store import audit
from onemap.store.base import DatasetInfo, Store, VersionInfo
from onemap.store.gpkgread import layer_bounds
from onemap.store.ledgers import last_event_id
from onemap.store.users import User
from onemap.tiles.service import MAX_ZOOM, TileService
from onemap.tiles.source import TileSource


def frame_bytes(gdf: gpd.GeoDataFrame) -> int:
    """Approximate memory of a frame in bytes.

    Its attribute columns, plus 16 bytes per coordinate and 120 per geometry
    object (Shapely's own overhead).
    """
    attrs = gdf.drop(columns=gdf.geometry.name)
    coords = int(shapely.get_num_coordinates(np.asarray(gdf.geometry.values, dtype=object)).sum())
    return int(attrs.memory_usage(deep=True).sum()) + 16 * coords + 120 * len(gdf)


class VersionCache:
    """Layer versions read once through ``store.read`` and shared by every request (LRU).

    Row ``i`` of a cached frame is feature id ``i + 1`` everywhere: OGC API
    items, vector tiles and identify answers. Concurrent first requests of a
    version read it once. The cache keeps at most ``max_versions`` versions
    and at most ``max_bytes`` of them (:func:`frame_bytes`); the least
    recently used go first, the version just read always stays.

    Parameters
    ----------
    store : Store
        The workspace.
    max_versions : int
        How many versions to keep (``security.yaml`` → ``concurrency.version_cache``).
    max_bytes : int, optional
        Their total size (``concurrency.version_cache_mb``); None: no size bound.
    """

    def __init__(self, store: Store, max_versions: int = 8, max_bytes: int | None = None):
        self.store = store
        self.max_versions = max_versions
        self.max_bytes = max_bytes
        self._sizes: dict[int, int] = {}
        self._frames: OrderedDict[int, gpd.GeoDataFrame] = OrderedDict()
        self._locks: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()

    def frame(self, info: VersionInfo) -> gpd.GeoDataFrame:
        """The whole version (all columns, EPSG:4490), read on first use."""
        with self._lock:
            gdf = self._frames.get(info.id)
            if gdf is not None:
                self._frames.move_to_end(info.id)
                return gdf
            lock = self._locks.setdefault(info.id, threading.Lock())
        with lock:
            with self._lock:
                gdf = self._frames.get(info.id)
            if gdf is None:
                gdf = self.store.read(info.dataset, info.version).reset_index(drop=True)
                size = frame_bytes(gdf)
                with self._lock:
                    self._frames[info.id] = gdf
                    self._sizes[info.id] = size
                    while len(self._frames) > 1 and (
                            len(self._frames) > self.max_versions
                            or (self.max_bytes is not None and self.nbytes() > self.max_bytes)):
                        old, _ = self._frames.popitem(last=False)
                        self._sizes.pop(old, None)
                    self._locks.pop(info.id, None)
        return gdf

    def nbytes(self) -> int:
        """Approximate memory of the versions kept."""
        return sum(self._sizes[k] for k in self._frames)

    def loaded(self, version_id: int) -> bool:
        """Whether a version is in memory."""
        return version_id in self._frames


@dataclass
class AppContext:
    """State shared by the request handlers of one app.

    Attributes
    ----------
    store : Store
        The workspace.
    versions : VersionCache
        Versions in memory.
    tiles : TileService
        Vector tiles.
    anonymous_read : bool or None
        Override of the workspace setting (None: ask the workspace).
    throttle : LoginThrottle
        Failed-login counts and locks.
    hashing : ThreadPoolExecutor
        Two threads for password hashing, so that a burst of logins neither
        blocks the event loop nor takes every worker thread of other requests.
    """

    store: Store
    versions: VersionCache
    tiles: TileService
    anonymous_read: bool | None = None
    throttle: LoginThrottle = field(
        default_factory=lambda: LoginThrottle(security_policy().login))
    hashing: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="onemap-hash"))
    heavy: HeavyWork = field(
        default_factory=lambda: HeavyWork(security_policy().concurrency))
    checks: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    _scoped_sources: OrderedDict[tuple[int, str], TileSource] = field(default_factory=OrderedDict)
    _bounds: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)
    _checker: tuple[tuple, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    checker_lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ state
    def state(self) -> tuple:
        """The workspace state cached results belong to (newest audit row, settings)."""
        engine = self.store.sql_engine()
        return (audit.head_seq(engine), tuple(sorted(self.store.settings().items())))

    def cached(self, key: tuple, compute):
        """``compute()`` for ``key`` on the current state, cached and limited (:class:`HeavyWork`)."""
        return self.heavy.run((*key, self.state()), compute)

    # ------------------------------------------------------------------ catalog
    def datasets(self) -> list[DatasetInfo]:
        """The catalog (datasets with at least one version)."""
        return [d for d in self.store.datasets() if d.versions]

    def collection(self, cid: str) -> VersionInfo:
        """The version published as OGC collection ``cid`` (its layer name)."""
        for d in self.datasets():
            for v in d.versions:
                if v.layer == cid:
                    return v
        raise NotFound(f"没有数据集合 {cid}")

    def version_by_id(self, version_id: int) -> VersionInfo:
        """The version with catalog id ``version_id``."""
        for d in self.datasets():
            for v in d.versions:
                if v.id == version_id:
                    return v
        raise NotFound(f"没有编号为 {version_id} 的数据版本")

    def bounds(self, info: VersionInfo) -> tuple[float, float, float, float] | None:
        """(minx, miny, maxx, maxy) of a version in EPSG:4490, None when empty."""
        if info.id in self._bounds:
            return self._bounds[info.id]
        box = None
        path = getattr(self.store, "path", None)
        if path is not None and Path(path).suffix.lower() == ".gpkg":
            box = layer_bounds(Path(path), info.layer)
        if box is None:
            gdf = self.versions.frame(info)
            if len(gdf) and not gdf.geometry.is_empty.all():
                box = tuple(float(v) for v in gdf.total_bounds)
        if box is not None:
            self._bounds[info.id] = box
        return box

    def workspace_bounds(self) -> tuple[float, float, float, float] | None:
        """Union of the bounds of the newest version of every dataset."""
        boxes = [b for d in self.datasets() if (b := self.bounds(d.versions[-1])) is not None]
        if not boxes:
            return None
        a = np.array(boxes)
        return (float(a[:, 0].min()), float(a[:, 1].min()), float(a[:, 2].max()),
                float(a[:, 3].max()))

    def scoped_tile(self, info: VersionInfo, user: User, z: int, x: int, y: int) -> bytes:
        """A tile of a sensitive layer cut from the rows of the user's county only (not cached on disk)."""
        if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
            raise NotFound(f"瓦片编号超出范围：{z}/{x}/{y}（缩放级别 0–{MAX_ZOOM}）")
        key = (info.id, user.county)
        with self.lock:
            src = self._scoped_sources.get(key)
            if src is not None:
                self._scoped_sources.move_to_end(key)
        if src is None:
            src = TileSource(scoped_frame(user, info, self.versions.frame(info)).reset_index(
                drop=True), info.dataset)
            src.prepare()
            with self.lock:
                self._scoped_sources[key] = src
                while len(self._scoped_sources) > 16:
                    self._scoped_sources.popitem(last=False)
        return src.render(z, x, y)

    # ------------------------------------------------------------------ compliance check
    def checker(self):
        """A warm :class:`onemap.control.SiteChecker`, rebuilt when the catalog or a register changes."""
        from onemap.control import SiteChecker

        key = (tuple(sorted(v.id for d in self.datasets() for v in d.versions)),
               last_event_id(self.store.sql_engine()))
        with self.checker_lock:  # built once per catalog state, however many checks arrive
            if self._checker is not None and self._checker[0] == key:
                return self._checker[1]
            checker = SiteChecker(self.store)
            self._checker = (key, checker)
        return checker

    def keep_check(self, check_id: str, result: Any, checker: Any, user: str) -> None:
        """Remember a check result for its report download (the last 200)."""
        with self.lock:
            self.checks[check_id] = (result, checker, user)
            while len(self.checks) > 200:
                self.checks.popitem(last=False)


def make_context(store: Store, *, cache_dir: Path | None, anonymous_read: bool | None,
                 max_versions: int | None = None) -> AppContext:
    """Build the context of an app over ``store`` (cache sizes from ``security.yaml``)."""
    policy = security_policy().concurrency
    max_versions = max_versions or policy.version_cache
    versions = VersionCache(store, max_versions=max_versions,
                            max_bytes=policy.version_cache_mb * 2**20)
    tiles = TileService(store, cache_dir=cache_dir, loader=versions.frame,
                        max_sources=max_versions)
    return AppContext(store=store, versions=versions, tiles=tiles, anonymous_read=anonymous_read)
