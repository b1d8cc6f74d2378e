"""Grids of responsibility (田长制, 林长制) as registers: the cells' land, changes and cases (pure).

A grid is a register of polygon cells (``TZWG`` 田长网格, ``LZWG`` 林长网格) described in
``grids.yaml``: the level field and the order of levels (coarse → fine), the fields naming
the 田长/林长, the 网格员/护林员 and the contact, and the land the report measures.

- :func:`locate`: the cells holding each of some places (a case's point, a change patch's
  representative point), coarse to fine, so a place shows its 田长 at every level;
- :func:`cell_report`: per cell, the land (三调 classes by prefix, 耕地 net of 田坎) in integer
  hundredths of m², the change patches and their area inside the cell, and the open cases.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from onemap.analysis.overlay import intersect_pieces
from onemap.domain import sources
from onemap.errors import InputError, Problem
from onemap.ledgers.flow import flow_error

__all__ = ["Cells", "GridSpec", "cell_report", "grid_spec", "load_grids", "locate"]


class LandSpec(BaseModel):
    """The land a grid report measures per cell."""

    model_config = ConfigDict(extra="forbid")
    title: str
    dlbm_prefixes: list[str] = Field(min_length=1)
    net_of_tiankan: bool = False


class GridSpec(BaseModel):
    """One grid of ``grids.yaml``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    cells_register: str = Field(alias="register")
    level_field: str
    levels: list[str] = Field(min_length=1)
    name_field: str
    chief_field: str
    chief_title: str
    worker_field: str
    worker_title: str
    contact_field: str
    land: LandSpec


class GridsConfig(BaseModel):
    """``grids.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str = ""
    grids: dict[str, GridSpec] = Field(min_length=1)
    sha256: str = ""


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> GridsConfig:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        return GridsConfig.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise flow_error(path, ".".join(str(x) for x in err["loc"]), err["msg"]) from exc


def load_grids(path: str | Path | None = None) -> GridsConfig:
    """Load ``grids.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "grids.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


def grid_spec(name: str, cfg: GridsConfig | None = None) -> GridSpec:
    """The grid called ``name`` (田长, 林长, or its register name).

    Raises
    ------
    onemap.errors.InputError
        An unknown grid (the message lists the known ones).
    """
    cfg = cfg or load_grids()
    for key, spec in cfg.grids.items():
        if name in (key, spec.cells_register, key + "制"):
            return spec
    known = "、".join(f"{k}（{s.cells_register}）" for k, s in cfg.grids.items())
    raise InputError(f"没有网格「{name}」，可选：{known}",
                     [Problem("unknown_grid", f"网格「{name}」不在 grids.yaml 中", field="grid")])


@dataclass
class Cells:
    """The cells of a grid as the use case read them from the register.

    Attributes
    ----------
    codes : list of str
        网格编码 (the register's key).
    values : list of dict
        Each cell's register values.
    geometry : array of shapely polygons
        Lon/lat (EPSG:4490).
    """

    codes: list[str]
    values: list[dict[str, Any]]
    geometry: NDArray[np.object_]


def _level_rank(spec: GridSpec, values: dict[str, Any]) -> int:
    level = str(values.get(spec.level_field) or "")
    return spec.levels.index(level) if level in spec.levels else len(spec.levels)


def _person(spec: GridSpec, cells: Cells, i: int) -> dict[str, Any]:
    v = cells.values[i]
    return {"code": cells.codes[i], "name": str(v.get(spec.name_field) or ""),
            "level": str(v.get(spec.level_field) or ""), "chief": str(v.get(spec.chief_field) or ""),
            "worker": str(v.get(spec.worker_field) or ""), "contact": str(v.get(spec.contact_field) or "")}


def locate(spec: GridSpec, cells: Cells, places: Sequence[Any]) -> list[list[dict[str, Any]]]:
    """The cells holding each place, coarse level first (a polygon by its representative point).

    Returns
    -------
    list of list of dict
        Per place: ``code``, ``name``, ``level``, ``chief``, ``worker``, ``contact`` of each
        cell that covers it (empty when it lies in no cell).
    """
    geoms = np.asarray(cells.geometry, dtype=object)
    pts = np.asarray([shapely.point_on_surface(g) if g is not None else shapely.Point()
                      for g in places], dtype=object)
    out: list[list[dict[str, Any]]] = [[] for _ in range(len(pts))]
    if len(geoms) == 0 or len(pts) == 0:
        return out
    tree = shapely.STRtree(geoms)
    pi, ci = tree.query(pts, predicate="covered_by")
    for p, c in zip(pi.tolist(), ci.tolist(), strict=True):
        out[p].append(_person(spec, cells, c))
    rank = {code: _level_rank(spec, cells.values[i]) for i, code in enumerate(cells.codes)}
    for hits in out:
        hits.sort(key=lambda h: (rank[h["code"]], h["code"]))
    return out


def cell_report(spec: GridSpec, cells: Cells, *, dltb_geometry: Sequence[Any], dlbm: Sequence[str],
                kcxs: Sequence[float], changes: Sequence[Any] = (),
                cases: Sequence[tuple[str, float, float]] = ()) -> list[dict[str, Any]]:
    """Per cell: its land, the change patches inside it and the open cases in it.

    Parameters
    ----------
    spec : GridSpec
        The grid.
    cells : Cells
        Its cells.
    dltb_geometry, dlbm, kcxs : sequences
        The land-class patches (lon/lat polygons), their DLBM and KCXS (0 where none).
    changes : sequence of shapely polygons
        Change patches (变化图斑) to count and measure per cell.
    cases : sequence of (case_no, lon, lat)
        Open enforcement cases.

    Returns
    -------
    list of dict
        Per cell, coarse level first then by code: ``code``, ``name``, ``level``, ``chief``,
        ``worker``, ``contact``, ``land_m2`` (net of 田坎 when the grid says so),
        ``tiankan_m2``, ``changes`` (patches touching the cell), ``change_area_m2`` (their
        area inside the cell), ``open_cases`` and ``case_numbers``. Areas are rounded to
        0.01 m² from integer cents, so cells sum exactly.
    """
    geoms = np.asarray(cells.geometry, dtype=object)
    n = len(geoms)
    codes = np.asarray([str(c) for c in dlbm], dtype=object)
    take = np.array([any(c.startswith(p) for p in spec.land.dlbm_prefixes) for c in codes], dtype=bool)
    land_cents = np.zeros(n, dtype=np.int64)
    tk_cents = np.zeros(n, dtype=np.int64)
    if take.any():
        land = np.asarray(dltb_geometry, dtype=object)[take]
        k = np.nan_to_num(np.asarray(kcxs, dtype=float)[take], nan=0.0)
        pieces = intersect_pieces(geoms, land)
        if len(pieces):
            whole = np.round(pieces.area_m2 * 100).astype(np.int64)
            tk = np.round(whole * k[pieces.right]).astype(np.int64) if spec.land.net_of_tiankan \
                else np.zeros(len(whole), dtype=np.int64)
            np.add.at(land_cents, pieces.left, whole - tk)
            np.add.at(tk_cents, pieces.left, tk)
    change_count = np.zeros(n, dtype=np.int64)
    change_cents = np.zeros(n, dtype=np.int64)
    if len(changes):
        pieces = intersect_pieces(geoms, np.asarray(changes, dtype=object))
        if len(pieces):
            np.add.at(change_cents, pieces.left, np.round(pieces.area_m2 * 100).astype(np.int64))
            np.add.at(change_count, pieces.left, 1)
    case_lists: list[list[str]] = [[] for _ in range(n)]
    if len(cases) and n:
        pts = shapely.points([(lon, lat) for _, lon, lat in cases])
        pi, ci = shapely.STRtree(geoms).query(pts, predicate="covered_by")
        for p, c in zip(pi.tolist(), ci.tolist(), strict=True):
            case_lists[c].append(str(cases[p][0]))
    rows = []
    for i in range(n):
        rows.append({**_person(spec, cells, i), "land_m2": int(land_cents[i]) / 100,
                     "tiankan_m2": int(tk_cents[i]) / 100, "changes": int(change_count[i]),
                     "change_area_m2": int(change_cents[i]) / 100,
                     "open_cases": len(case_lists[i]), "case_numbers": sorted(case_lists[i])})
    rows.sort(key=lambda r: (_level_rank(spec, {spec.level_field: r["level"]}), r["code"]))
    return rows
