"""Synthetic land-supply records for the sample: batches, supplies (some idle) and a 基准地价 级别 map.

Pure and deterministic (same zones and seed → same records). Around a point of each
county (inside its 城镇开发边界 when the sample has one) it lays out four approved
batches on a 2 × 2 grid, supplies covering parts of them (one straddling two
batches, some never started so that `onemap supply idle` finds idle land), and
three 级别 per 用途 as nested squares. Every record's 备注 says 模拟数据; the
tables carry the registers' Chinese headers so they go through the ordinary import.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import shapely

from onemap.geo.area import ellipsoidal_area

NOTE = "模拟数据（onemap sample 生成，非真实记录）"

#: 用途 → (基准地价 of 级别 1–3 元/㎡, 设定容积率, 法定最高年限, 土地还原率).
PRICE_MAP = {"商服": ((2600, 1800, 1200), 2.0, 40, "6%"), "住宅": ((2000, 1500, 1000), 1.8, 70, "5.5%"),
             "工业": ((420, 360, 300), None, 50, "5%")}
#: Half sides of the nested 级别 squares (m).
LEVEL_HALF_M = (800.0, 1600.0, 3000.0)
GRADES = ("一级", "二级", "三级")


def _box(lon: float, lat: float, x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A box given in metres east/north of (lon, lat)."""
    mx = 1 / (111_320.0 * math.cos(math.radians(lat)))
    my = 1 / 110_574.0
    return shapely.box(lon + x0 * mx, lat + y0 * my, lon + x1 * mx, lat + y1 * my)


def land_records(zones: Sequence[tuple[str, object]], seed: int = 2024) -> dict[str, gpd.GeoDataFrame]:
    """Batches, supplies and 级别 records around a point of each zone.

    Parameters
    ----------
    zones : sequence of (str, geometry)
        County code (6 digits) and the polygon to place the records in.
    seed : int
        Random seed.

    Returns
    -------
    dict
        ``batches``, ``supplies``, ``base_prices``: GeoDataFrames (EPSG:4490) with
        the registers' Chinese headers.
    """
    rng = np.random.default_rng(seed)
    batches, supplies, levels = [], [], []
    for code, zone in zones:
        p = shapely.point_on_surface(zone)
        lon, lat = p.x, p.y
        boxes = []
        for k, (gx, gy) in enumerate(((0, 0), (1, 0), (0, 1), (1, 1))):
            x0, y0 = gx * 400.0, gy * 350.0
            geom = _box(lon, lat, x0, y0, x0 + 400.0, y0 + 300.0)
            year = int(rng.integers(2019, 2025))
            approved = date(year, int(rng.integers(1, 13)), int(rng.integers(1, 29)))
            boxes.append((geom, approved, (x0, y0)))
            batches.append({"批准文号": f"宁政土批〔{year}〕{code[-2:]}{k + 1:02d}号",
                            "批次名称": f"{code} 城镇建设用地第 {k + 1} 批次", "批次类型": "农用地转用和土地征收",
                            "批准机关": "宁夏回族自治区人民政府", "批准日期": approved.isoformat(),
                            "其中农用地面积": round(float(ellipsoidal_area([geom])[0]) * 0.8, 2),
                            "其中耕地面积": round(float(ellipsoidal_area([geom])[0]) * 0.5, 2),
                            "核减面积": 0, "行政区代码": code, "备注": NOTE, "geometry": geom})
        seq = 0
        # (batch, x from, x to (m, in the batch's frame), started?) ; the last one straddles batches 0 and 1
        plan = [(0, 0.0, 180.0, True), (0, 150.0, 300.0, False), (2, 0.0, 250.0, False), (3, 0.0, 120.0, True),
                (0, 330.0, 470.0, True)]
        for b, fx, tx, started in plan:
            approved, (x0, y0) = boxes[b][1], boxes[b][2]
            seq += 1
            signed = approved + timedelta(days=int(rng.integers(60, 400)))
            agreed = signed + timedelta(days=180)
            geom = _box(lon, lat, x0 + fx, y0, x0 + tx, y0 + 300.0)
            area = float(ellipsoidal_area([geom])[0])
            use = ("工业用地", "商服用地", "城镇住宅用地")[seq % 3]
            unit = {"工业用地": 320, "商服用地": 1900, "城镇住宅用地": 1500}[use]
            supplies.append({"电子监管号": f"{code}{signed.year}B{seq:05d}",
                             "合同编号": f"{code}-CR-{signed.year}-{seq:03d}",
                             "项目名称": f"{code} 模拟项目 {seq}", "供地方式": "划拨" if seq == 4 else "出让",
                             "土地用途": use, "受让人": f"模拟公司 {code}-{seq}",
                             "成交价款（万元）": round(area * unit / 10000, 2), "合同签订日期": signed.isoformat(),
                             "约定动工日期": agreed.isoformat(),
                             "约定竣工日期": (agreed + timedelta(days=730)).isoformat(),
                             "实际动工日期": (agreed + timedelta(days=30)).isoformat() if started else None,
                             "状态": "已动工" if started else "已供地",
                             "行政区代码": code, "备注": NOTE, "geometry": geom})
        for use, (prices, far, years, rate) in PRICE_MAP.items():
            inner = None
            for g, half in enumerate(LEVEL_HALF_M):
                square = _box(lon, lat, -half, -half, half, half)
                geom = square if inner is None else square.difference(inner)
                inner = square
                levels.append({"区片编号": f"{code}-{use}-{g + 1}", "用途": use, "级别": GRADES[g],
                               "基准地价": prices[g], "设定容积率": far, "开发程度": "五通一平",
                               "法定最高年限": years, "土地还原率": rate, "基准日": "2024-01-01",
                               "行政区代码": code, "备注": NOTE, "geometry": geom})
    return {name: gpd.GeoDataFrame(rows, geometry="geometry", crs=4490)
            for name, rows in (("batches", batches), ("supplies", supplies), ("base_prices", levels))}
