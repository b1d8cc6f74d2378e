"""Tile service: tile sources kept in memory per version, and an immutable on-disk cache.

A tile is addressed by the *version id* of the layer version it shows, so its
bytes never change: ``{cache_dir}/{key}/{z}/{x}/{y}.mvt``, where ``key``
combines the version id with a digest of the version's catalog row (dataset,
label, layer, creation time, checksum, count) and of the encoder version. A
new version gets new URLs; a workspace rebuilt at the same path (same ids,
new rows) gets a new key; nothing is ever invalidated or overwritten.

The cache directory of each version is recorded once as a derived asset of
the version (``Store.add_asset(version_id, "mvt-cache", path, meta)``).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import geopandas as gpd

from onemap.errors import WorkspaceError
from onemap.store.base import Store, VersionInfo
from onemap.tiles.mvt import EXTENT
from onemap.tiles.source import TileSource

log = logging.getLogger(__name__)

#: Bump when the tile bytes for the same data change (encoder or generalisation).
ENGINE_VERSION = "onemap-mvt-1"

#: Highest zoom served.
MAX_ZOOM = 22


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """XYZ tile (x, y) containing a point at zoom ``z``.

    Examples
    --------
    >>> lonlat_to_tile(106.2, 37.9, 10)
    (814, 395)
    """
    n = 2**z
    lat = max(min(lat, 85.0511287798066), -85.0511287798066)
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def cache_key(info: VersionInfo) -> str:
    """Cache folder name of a version: ``v{id}-{digest}``."""
    text = "|".join(str(v) for v in (
        ENGINE_VERSION, info.id, info.dataset, info.version, info.layer, info.created_at,
        info.meta.source_checksum, info.feature_count,
    ))
    return f"v{info.id}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


class TileService:
    """Cut, cache and serve MVT tiles of the versions of one workspace.

    Parameters
    ----------
    store : Store
        The workspace.
    cache_dir : Path, optional
        Root of the on-disk tile cache; None keeps no cache.
    loader : callable, optional
        ``loader(info) -> GeoDataFrame`` (EPSG:4490) reading a version; by
        default ``store.read(info.dataset, info.version)``. The API passes its
        shared in-memory version cache here.
    max_sources : int
        How many versions to keep loaded (least recently used are dropped).
    """

    def __init__(
        self,
        store: Store,
        cache_dir: Path | None = None,
        *,
        loader: Callable[[VersionInfo], gpd.GeoDataFrame] | None = None,
        max_sources: int = 6,
    ):
        self.store = store
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._loader = loader
        self._frames: dict[int, gpd.GeoDataFrame] = {}
        self._sources: OrderedDict[int, TileSource] = OrderedDict()
        self._locks: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()
        self._infos: dict[int, VersionInfo] = {}
        self._recorded: set[int] = set()
        self.max_sources = max_sources

    # ------------------------------------------------------------------ catalog
    def info(self, version_id: int) -> VersionInfo:
        """The catalog row of a version id.

        Raises
        ------
        onemap.errors.WorkspaceError
            No such version.
        """
        info = self._infos.get(version_id)
        if info is None:
            self._infos = {v.id: v for d in self.store.datasets() for v in d.versions}
            info = self._infos.get(version_id)
        if info is None:
            raise WorkspaceError(f"没有编号为 {version_id} 的数据版本")
        return info

    # ------------------------------------------------------------------ loading
    def load(self, version_id: int) -> gpd.GeoDataFrame:
        """The version's data (through the loader; kept when the default loader is used)."""
        info = self.info(version_id)
        if self._loader is not None:
            return self._loader(info)
        frame = self._frames.get(version_id)
        if frame is None:
            frame = self.store.read(info.dataset, info.version)
            self._frames[version_id] = frame
        return frame

    def source(self, version_id: int) -> TileSource:
        """The tile source of a version, built on first use and kept (LRU)."""
        with self._lock:
            src = self._sources.get(version_id)
            if src is not None:
                self._sources.move_to_end(version_id)
                return src
            lock = self._locks.setdefault(version_id, threading.Lock())
        with lock:
            with self._lock:
                src = self._sources.get(version_id)
            if src is None:
                info = self.info(version_id)
                src = TileSource(self.load(version_id), info.dataset)
                src.prepare()
                with self._lock:
                    self._sources[version_id] = src
                    while len(self._sources) > self.max_sources:
                        old, _ = self._sources.popitem(last=False)
                        self._frames.pop(old, None)
        return src

    # ------------------------------------------------------------------ validators
    def etag(self, version_id: int, z: int, x: int, y: int, *, gzip: bool = False) -> str:
        """Strong ETag of a tile: the version's cache key and the tile address (quoted).

        The bytes of a tile URL never change for a cache key (see the module notes),
        so the key and the address identify them; the gzip variant gets its own tag.
        """
        suffix = "-gz" if gzip else ""
        return f'"{cache_key(self.info(version_id))}-{z}-{x}-{y}{suffix}"'

    def last_modified(self, version_id: int) -> str:
        """``Last-Modified`` of the tiles of a version: its creation time (RFC 9110 date)."""
        created = datetime.fromisoformat(self.info(version_id).created_at)
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        return format_datetime(created.astimezone(UTC), usegmt=True)

    def fields(self, version_id: int) -> dict[str, str]:
        """TileJSON ``vector_layers.fields`` of a version: the attributes the tiles carry.

        Returns
        -------
        dict
            Field name → ``"String"``, ``"Number"`` or ``"Boolean"``.
        """
        src = self.source(version_id)
        out = {}
        for key, values in zip(src.keys, src.values, strict=True):
            sample = next((v for v in values if v is not None), "")
            out[key] = ("Boolean" if isinstance(sample, bool)
                        else "Number" if isinstance(sample, int | float) else "String")
        return out

    # ------------------------------------------------------------------ tiles
    def tile_path(self, version_id: int, z: int, x: int, y: int) -> Path | None:
        """Where the tile is cached (None without a cache)."""
        if self.cache_dir is None:
            return None
        return self.cache_dir / cache_key(self.info(version_id)) / str(z) / str(x) / f"{y}.mvt"

    def tile(self, version_id: int, z: int, x: int, y: int) -> bytes:
        """The MVT bytes of one tile (``b""`` for a tile without features).

        Raises
        ------
        onemap.errors.WorkspaceError
            Unknown version, or a tile address outside the XYZ grid.
        """
        if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
            raise WorkspaceError(f"瓦片编号超出范围：{z}/{x}/{y}（缩放级别 0–{MAX_ZOOM}）")
        path = self.tile_path(version_id, z, x, y)
        if path is not None and path.exists():
            return path.read_bytes()
        data = self.source(version_id).render(z, x, y)
        if path is not None:
            self._write(version_id, path, data)
        return data

    def tile_gzip(self, version_id: int, z: int, x: int, y: int) -> bytes:
        """The tile gzip-compressed (level 1), cached beside the plain tile (``.mvt.gz``)."""
        path = self.tile_path(version_id, z, x, y)
        gz_path = path.with_name(path.name + ".gz") if path is not None else None
        if gz_path is not None and gz_path.exists():
            return gz_path.read_bytes()
        data = self.tile(version_id, z, x, y)
        packed = gzip.compress(data, compresslevel=1, mtime=0) if data else b""
        if gz_path is not None:
            self._write(version_id, gz_path, packed)
        return packed

    def _write(self, version_id: int, path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:  # a read-only disk must not break serving
            log.warning("瓦片缓存写入失败：%s（%s）", path, exc)
            return
        if version_id not in self._recorded:
            self._recorded.add(version_id)
            self._record_asset(version_id)

    def _record_asset(self, version_id: int) -> None:
        folder = str(self.cache_dir / cache_key(self.info(version_id)))
        try:
            if any(a["kind"] == "mvt-cache" and a["path"] == folder
                   for a in self.store.assets(version_id)):
                return
            self.store.add_asset(version_id, "mvt-cache", folder, {
                "engine": ENGINE_VERSION, "crs": "EPSG:3857", "scheme": "xyz",
                "extent": EXTENT, "format": "application/vnd.mapbox-vector-tile",
            })
        except Exception as exc:  # noqa: BLE001 - recording is best effort
            log.warning("无法登记瓦片缓存资产：%s", exc)
