"""Use case of the 基准地价 system: the price of a 宗地 by the 基准地价系数修正法.

The 级别 are the current records of the ``base_prices`` register of the use;
the tables are ``ledgers/data/landprice.yaml``; the arithmetic is
:mod:`onemap.ledgers.landprice`. Nothing is written to the workspace (except
the DOCX file asked for).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import shapely

from onemap.app.supply import parse_day, records
from onemap.control.site import read_site
from onemap.errors import InputError, Problem
from onemap.ledgers.landprice import Level, SiteTerms, load_landprice_config, site_price
from onemap.ledgers.landprice_report import write_landprice_docx
from onemap.ledgers.schema import load_register
from onemap.store.base import Store

#: The --factors key that sets the site's 开发程度 (Kf) instead of a 区域/个别因素.
DEVELOPMENT_KEY = "开发程度"


def parse_factors(pairs: list[str] | None) -> tuple[dict[str, str], str | None]:
    """``["繁华程度=优", "开发程度=七通一平"]`` → ({factor: grade}, 开发程度)."""
    out: dict[str, str] = {}
    development = None
    for text in pairs or []:
        key, sep, value = str(text).partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise InputError(f"--factors 的取值「{text}」应写成 因素=等级，如 繁华程度=较优",
                             [Problem("bad_option", str(text), field="--factors")])
        if key == DEVELOPMENT_KEY:
            development = value
        elif key in out:
            raise InputError(f"--factors 中因素「{key}」给了两次", [Problem("bad_option", key, field="--factors")])
        else:
            out[key] = value
    return out, development


def land_price(store: Store, site: str | Path, *, use: str, far: float | None = None,
               years: float | None = None, on: str | date | None = None, factors: list[str] | None = None,
               docx: str | Path | None = None) -> dict[str, Any]:
    """The 宗地 price of a site file for a use.

    Parameters
    ----------
    store : Store
        The workspace (its ``base_prices`` records).
    site : str or Path
        The site: any file the site check reads (GeoJSON, Shapefile, KML, 报盘 TXT …).
    use : str
        The 用途 (商服, 住宅, 工业, 公共服务).
    far : float, optional
        The site's 容积率 (no 容积率 correction without it).
    years : float, optional
        The 使用年限 n (default the 法定最高年限 N: Ky = 1).
    on : str or date, optional
        The 估价期日 (default today).
    factors : list of str, optional
        ``因素=等级`` pairs; ``开发程度=…`` sets the site's 开发程度.
    docx : str or Path, optional
        Also write the estimate as a DOCX.

    Returns
    -------
    dict
        ``price_yuan_m2``, ``total_yuan``, ``area_m2``, ``price_yuan_mu``,
        ``floor_price_yuan_m2``, ``factors`` (each coefficient with its source row),
        ``parts`` (per 级别), ``tables`` (version, synthetic), ``docx``.

    Raises
    ------
    onemap.errors.InputError
        Unknown use, no 级别 of the use, a site outside the 级别, a factor or grade
        not in the tables, an out-of-range 容积率 or 年限.
    """
    cfg = load_landprice_config()
    reg = load_register(cfg.levels_register)
    uses = reg.field("YT").codes
    if use not in uses:
        raise InputError(f"--use 的取值「{use}」不是基准地价用途（可选：{'、'.join(uses)}）",
                         [Problem("bad_option", use, field="--use")])
    day = parse_day(on)
    grades, development = parse_factors(factors)
    levels = [Level(r["record_no"], r["values"], r["geometry"])
              for r in records(store, reg.name, ["retired"])
              if r["values"].get("YT") == use and r["geometry"] is not None]
    if not levels:
        raise InputError(f"工作空间没有{use}用地的基准地价级别"
                         "（先导入：onemap ledger import 工作空间 base_prices 文件）",
                         [Problem("no_levels", use, field="--use")])
    parcels = read_site(site)
    shapes = [g for g, s in zip(parcels.gdf.geometry, parcels.shapes, strict=True) if s == "面"]
    if not shapes:
        raise InputError(f"{parcels.file_name} 没有面状地块，无法估算地价",
                         [Problem("no_polygon", parcels.file_name, file=parcels.file_name)])
    geom = shapely.union_all(shapes)
    got = site_price(cfg, geom, levels, SiteTerms(use, day, far, years, grades, development))
    synthetic = cfg.synthetic or any("模拟" in str(lv.values.get("BZ", "")) for lv in levels)
    out = {**got, "site": parcels.name or parcels.file_name, "far": far, "years": years,
           "tables": {"version": cfg.version, "sha256": cfg.sha256, "synthetic": cfg.synthetic},
           "tables_synthetic": cfg.synthetic, "synthetic": synthetic, "docx": None}
    if docx is not None:
        settings = store.settings()
        path = write_landprice_docx(docx, out, site_name=out["site"], org=settings.get("org", ""),
                                    synthetic=synthetic)
        out["docx"] = str(path)
    return out
