"""Nothing half-written in a GeoPackage workspace: staging files, one-transaction copies, clean-up.

- A new layer version is first written by GDAL into a private *staging* file
  beside the workspace (``.city.gpkg.staging-<pid>-<token>.gpkg``); the
  workspace then receives the table, its spatial index, its GeoPackage
  registry rows, its catalog row and its audit row in **one** SQLite
  transaction (:func:`copy_layer`). A kill at any moment leaves the
  workspace as before or as after; what can be left over is the staging file.
- A new workspace (``init``, ``sample``) is built in a *building* file
  (``.city.gpkg.building-<pid>-<token>.gpkg``) and only appears under its
  name, complete, at the end (a hard link, which never replaces an existing
  file).
- :func:`sweep_files` and :func:`sweep_layers` run when a workspace is opened: they delete the staging and
  building files of processes that no longer run, and drops layers an older
  release left outside the catalog when it was killed mid-write (their
  GeoPackage description is still empty: the catalog write sets it in the
  same transaction, and their name is ``<DATASET>_<year or date>``).
  Each removal is logged in Chinese (logger ``onemap.store``).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sqlite3
from pathlib import Path

log = logging.getLogger("onemap.store")

_DEBRIS = re.compile(r"^\.(?P<name>.+)\.(?P<kind>staging|building)-(?P<pid>\d+)-[0-9a-f]+\.gpkg"
                     r"(?P<aux>-wal|-shm|-journal|\.lock)?$")
_SIDE_FILES = ("-wal", "-shm", "-journal", ".lock")
_REGISTRIES = ("gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions", "gpkg_ogr_contents")
#: Layer names OneMap gives versions labelled by a year or a date: ``<DATASET>_<version>``
#: (e.g. ``DLTB_2024``, ``DLTB_2024_06_30``); a user's own layer (``DLTB_test``, ``my_sketch``) never matches.
_VERSION_LAYER = re.compile(r"^[A-Z][A-Z0-9_]{0,63}_[0-9][0-9A-Za-z_]{0,63}$")


def staging_path(path: Path, kind: str) -> Path:
    """A fresh private file beside ``path`` for a write in progress (``staging`` or ``building``)."""
    return path.with_name(f".{path.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}.gpkg")


def remove_files(path: Path) -> None:
    """Delete a SQLite file and its ``-wal``/``-shm``/``-journal``/``.lock`` companions, if present."""
    for p in (path, *(path.with_name(path.name + s) for s in _SIDE_FILES)):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def copy_layer(raw: sqlite3.Connection, layer: str) -> None:
    """Copy ``layer`` from the attached database ``stg`` into ``main`` (inside the caller's transaction).

    The feature table with its rows, its R-tree spatial index, its other
    indexes and triggers, and its rows in the GeoPackage registries. Triggers
    come last, so that the copy does not fire GDAL's R-tree triggers (whose
    SQL functions only GDAL provides).
    """
    objects = raw.execute(
        "SELECT type, name, tbl_name, sql FROM stg.sqlite_master WHERE sql IS NOT NULL "
        "AND (tbl_name = ? OR (type = 'table' AND name = ?))",
        (layer, f"rtree_{layer}_geom")).fetchall()
    tables = [o for o in objects if o[0] == "table"]
    for _, name, _, sql in tables:
        raw.execute(sql)
        raw.execute(f'INSERT INTO main."{name}" SELECT * FROM stg."{name}"')
    for kind in ("index", "trigger"):
        for o in objects:
            if o[0] == kind:
                raw.execute(o[3])
    main_tables = {r[0] for r in raw.execute("SELECT name FROM main.sqlite_master")}
    for reg in _REGISTRIES:
        if not raw.execute("SELECT 1 FROM stg.sqlite_master WHERE name = ?", (reg,)).fetchone():
            continue
        if reg not in main_tables:
            raw.execute(raw.execute("SELECT sql FROM stg.sqlite_master WHERE name = ?",
                                    (reg,)).fetchone()[0])
        cols = ", ".join(f'"{r[1]}"' for r in raw.execute(f'PRAGMA main.table_info("{reg}")'))
        raw.execute(f'INSERT INTO main."{reg}" ({cols}) SELECT {cols} FROM stg."{reg}" '
                    "WHERE table_name = ?", (layer,))
    raw.execute("INSERT OR IGNORE INTO main.gpkg_spatial_ref_sys SELECT * FROM "
                "stg.gpkg_spatial_ref_sys WHERE srs_id IN (SELECT srs_id FROM stg.gpkg_contents "
                "WHERE table_name = ?)", (layer,))


def drop_layer(con: sqlite3.Connection, layer: str) -> None:
    """Remove a layer, its spatial index and its registry rows (inside the caller's transaction)."""
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    for t in (f"rtree_{layer}_geom", f"rtree_{layer}_geometry", layer):
        if t in names:
            con.execute(f'DROP TABLE "{t}"')
    for reg in _REGISTRIES:
        if reg in names:
            con.execute(f'DELETE FROM "{reg}" WHERE table_name = ?', (layer,))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_files(path: Path) -> list[Path]:
    """Staging and building files beside ``path`` whose process no longer runs."""
    out = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return out
    for p in entries:
        m = _DEBRIS.match(p.name)
        if m and m["name"] == path.name and not _alive(int(m["pid"])):
            out.append(p)
    return sorted(out)


def sweep_files(path: Path) -> list[str]:
    """Delete stale staging/building files of ``path``; return what was removed (for the log)."""
    removed = []
    for p in stale_files(path):
        try:
            p.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            continue
        if not p.name.endswith(_SIDE_FILES):
            kind = "未完成的写入" if ".staging-" in p.name else "未完成的新建工作空间"
            log.warning("已清理%s留下的临时文件：%s", kind, p)
            removed.append(str(p))
    return removed


def orphan_layers(con: sqlite3.Connection) -> list[str]:
    """Feature tables an interrupted write of an older release left outside the catalog."""
    catalogued = {r[0] for r in con.execute("SELECT layer FROM onemap_versions")}
    rows = con.execute(
        "SELECT table_name FROM gpkg_contents WHERE data_type = 'features' "
        "AND (description IS NULL OR description = '') AND identifier = table_name").fetchall()
    return sorted(r[0] for r in rows
                  if r[0] not in catalogued and _VERSION_LAYER.match(r[0]))


def sweep_layers(path: Path) -> list[str]:
    """Drop orphan layers (see :func:`orphan_layers`) in one transaction; return their names."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            layers = orphan_layers(con)
            for layer in layers:
                drop_layer(con, layer)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()
    for layer in layers:
        log.warning("已清理中断写入留下的目录外图层：%s（%s）", layer, path)
    return layers
