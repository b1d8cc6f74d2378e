"""Synthetic register records of the sample (台账样例), made from the sample's layers and the region file.

Every county gets 增减挂钩 (one 项目区, 拆旧 plots on its rural homestead parcels,
建新 plots on cultivated parcels outside 永久基本农田, one 节余指标 trade), 补充耕地
projects and 耕地占用 on its cultivated parcels; 矿业权 are drawn around the
region file's mining areas, 地质灾害隐患点 and one 风险区 around its hills. The
records are grouped in batches by age (days before the build time they were
registered), so the deadline warnings of the web panel show 正常, 即将到期 and
已逾期 records on the first day. Pure: a dict of layers and the region file in,
tables out; the same seed gives the same tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from onemap.geo.area import ellipsoidal_area
from onemap.sample.config import RegionConfig

#: The column an import reads a record's state from (every register lists it in ``state_headers``).
STATE = "状态"
KM_PER_DEGREE = 111.32


@dataclass
class RegisterBatch:
    """Records of one register entering the workspace ``age_days`` before the build time.

    ``table`` has the register's field names as columns, plus 状态; a
    GeoDataFrame (EPSG:4490) when the records have geometry.
    """

    register: str
    age_days: int
    table: pd.DataFrame


class _Rows:
    """Rows of one register collected by age."""

    def __init__(self, register: str):
        self.register = register
        self.by_age: dict[int, list[tuple[dict, object]]] = {}

    def add(self, age: int, values: dict, geometry: object = None) -> None:
        self.by_age.setdefault(int(age), []).append((values, geometry))

    def batches(self) -> list[RegisterBatch]:
        out = []
        for age in sorted(self.by_age):
            rows = self.by_age[age]
            frame = pd.DataFrame([v for v, _ in rows])
            if any(g is not None for _, g in rows):
                frame = gpd.GeoDataFrame(frame, geometry=[g for _, g in rows], crs=4490)
            out.append(RegisterBatch(self.register, age, frame))
        return out


def _area(geom: object) -> float:
    return round(float(ellipsoidal_area([geom])[0]), 2)


def _offset(center: tuple[float, float], rng: np.random.Generator, radius_km: float) -> tuple[float, float]:
    """A point at a random place within ``radius_km`` of ``center`` (lon, lat)."""
    r = radius_km * math.sqrt(float(rng.uniform(0, 1)))
    a = float(rng.uniform(0, 2 * math.pi))
    lat = center[1] + r * math.sin(a) / KM_PER_DEGREE
    lon = center[0] + r * math.cos(a) / (KM_PER_DEGREE * math.cos(math.radians(center[1])))
    return round(lon, 6), round(lat, 6)


def _rect(center: tuple[float, float], width_km: float, height_km: float) -> shapely.Polygon:
    dx = width_km / 2 / (KM_PER_DEGREE * math.cos(math.radians(center[1])))
    dy = height_km / 2 / KM_PER_DEGREE
    return shapely.box(round(center[0] - dx, 6), round(center[1] - dy, 6),
                       round(center[0] + dx, 6), round(center[1] + dy, 6))


def _ellipse(center: tuple[float, float], radius_km: float, n: int = 48) -> shapely.Polygon:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    dx = radius_km / (KM_PER_DEGREE * math.cos(math.radians(center[1])))
    dy = radius_km / KM_PER_DEGREE * 0.7
    return shapely.Polygon(np.round(np.column_stack([center[0] + dx * np.cos(t), center[1] + dy * np.sin(t)]), 6))


class _Region:
    """Lookups over the sample layers: counties and villages by place, parcels by class."""

    def __init__(self, layers: dict[str, dict[str, gpd.GeoDataFrame]], base: str):
        self.xzq = layers["XZQ"][base].reset_index(drop=True)
        self.cjdcq = layers["CJDCQ"][base].reset_index(drop=True)
        self.dltb = layers["DLTB"][base].reset_index(drop=True)
        yj = layers.get("YJJBNTTB", {}).get(base)
        self.yj_tree = shapely.STRtree(yj.geometry.values) if yj is not None and len(yj) else None
        self.county_code = self.dltb["ZLDWDM"].astype(str).str[:6].to_numpy()
        self.dlbm = self.dltb["DLBM"].astype(str).to_numpy()
        self.parcel_area = ellipsoidal_area(self.dltb.geometry.values)
        self.village_names = dict(zip(self.cjdcq["ZLDWDM"].astype(str), self.cjdcq["ZLDWMC"].astype(str),
                                      strict=True))

    def counties(self) -> list[tuple[str, str]]:
        return list(zip(self.xzq["XZQDM"].astype(str), self.xzq["XZQMC"].astype(str), strict=True))

    def county_at(self, lon: float, lat: float) -> str:
        """The county containing a point, else the nearest one."""
        pt = shapely.Point(lon, lat)
        d = shapely.distance(self.xzq.geometry.values, pt)
        return str(self.xzq["XZQDM"].iloc[int(np.argmin(d))])

    def village_at(self, lon: float, lat: float) -> str | None:
        pt = shapely.Point(lon, lat)
        hit = np.flatnonzero(shapely.contains(self.cjdcq.geometry.values, pt))
        return str(self.cjdcq["ZLDWMC"].iloc[hit[0]]) if hit.size else None

    def parcels(self, county: str, prefixes: tuple[str, ...], n: int, rng: np.random.Generator, *,
                outside_yj: bool = False, taken: set[int] | None = None) -> list[int]:
        """Up to ``n`` parcel rows of a county whose class code starts with ``prefixes``.

        Drawn at random among the smaller half of those parcels (plots and projects are
        small beside a whole parcel of a coarse sample), skipping rows in ``taken``.
        """
        mask = (self.county_code == county) & pd.Series(self.dlbm).str.startswith(prefixes).to_numpy(bool)
        idx = np.flatnonzero(mask)
        if taken:
            idx = np.array([i for i in idx if i not in taken], dtype=np.int64)
        idx = idx[np.argsort(self.parcel_area[idx], kind="stable")][: max(n, (len(idx) + 1) // 2)]
        rng.shuffle(idx)
        out: list[int] = []
        for i in idx:
            if outside_yj and self.yj_tree is not None:
                pt = self.dltb.geometry.iloc[i].representative_point()
                if self.yj_tree.query(pt, predicate="within").size:
                    continue
            out.append(int(i))
            if len(out) == n:
                break
        if taken is not None:
            taken.update(out)
        return out

    def village_of(self, row: int) -> str:
        return self.village_names.get(str(self.dltb["ZLDWDM"].iloc[row]), "")


def register_records(layers: dict[str, dict[str, gpd.GeoDataFrame]], cfg: RegionConfig,
                     seed: int) -> list[RegisterBatch]:
    """The sample's register records, in batches by register and age.

    Parameters
    ----------
    layers : dict
        The sample layers (``{dataset: {version: GeoDataFrame}}``): XZQ, CJDCQ, DLTB and
        YJJBNTTB of the base year are read.
    cfg : RegionConfig
        The region file (``registers``: counts per county, mining areas, hills).
    seed : int
        Random seed (the same seed gives the same records).

    Returns
    -------
    list of RegisterBatch
    """
    base = str(cfg.years["base"])
    year = int(cfg.years.get("change", cfg.years["base"] + 1))
    spec = cfg.registers
    per = {"cjdk": 3, "jxdk": 2, "bcgdxm": 3, "gdzy": 2, **spec.per_county}
    province = cfg.region.province or cfg.region.name
    region = _Region(layers, base)
    rng = np.random.default_rng([int(seed), 20261203])
    rows = {name: _Rows(name) for name in ("ZJXMQ", "CJDK", "JXDK", "ZBJY", "BCGDXM", "GDZY", "KYQ",
                                           "DZZHYHD", "FXQ")}
    counties = region.counties()
    taken: set[int] = set()
    for ci, (code, cname) in enumerate(counties):
        _linkage(rows, region, rng, code, cname, counties[(ci + 1) % len(counties)][1], ci, year, province,
                 per, taken)
        _farmland(rows, region, rng, code, cname, year, province, per, taken)
    _mining(rows, region, rng, cfg, year, province)
    _hazards(rows, region, rng, cfg)
    return [b for r in rows.values() for b in r.batches()]


def _linkage(rows: dict[str, _Rows], region: _Region, rng: np.random.Generator, code: str, cname: str,
             buyer: str, ci: int, year: int, province: str, per: dict[str, int], taken: set[int]) -> None:
    """One 项目区 per county with its 拆旧 (homesteads 0702) and 建新 (耕地 outside 永久基本农田) plots."""
    qid = f"ZJ{code}-{year}-01"
    old = region.parcels(code, ("0702",), per["cjdk"], rng, taken=taken)
    new = region.parcels(code, ("0102", "0103"), per["jxdk"], rng, outside_yj=True, taken=taken)
    if not old:
        return
    old_area = [round(float(region.parcel_area[i]), 2) for i in old]
    new_area = [round(float(region.parcel_area[i]), 2) for i in new]
    rows["ZJXMQ"].add(300, {
        "XMQBH": qid, "XMQMC": f"{cname}{year}年城乡建设用地增减挂钩项目区", "XZQDM": code,
        "PWH": f"{province}自然资源厅批复〔{year}〕{31 + ci}号", "PZRQ": f"{year}-03-{10 + ci:02d}",
        "ZZZB": round(max(sum(old_area), sum(new_area)), 2), "GHQX": f"{year + 3}-03-{10 + ci:02d}",
        STATE: "实施"})
    # 拆旧: one accepted, one waiting for the check (10 days left of 60), one reclaiming 35 days late
    states = [("已验收", 200), ("待核验", 50), ("复垦中", 400)]
    accepted = 0.0
    for k, i in enumerate(old):
        state, age = states[k % len(states)]
        area = old_area[k]
        gain = round(area * float(rng.uniform(0.85, 0.95)), 2)
        vals = {"DKBH": f"CJ{code}-{k + 1:03d}", "XMQBH": qid, "XZQDM": code, "FKQDL": region.dlbm[i],
                "CJMJ": area, "XZGDMJ": gain, "XZSTMJ": 0.0, "FKHZLDJ": int(rng.integers(8, 13)),
                "BZ": f"{region.village_of(i)}宅基地复垦", STATE: state}
        if state == "已验收":
            vals["YSRQ"] = f"{year}-10-{15 + k:02d}"
            accepted += area
        rows["CJDK"].add(age, vals, region.dltb.geometry.iloc[i])
    for k, i in enumerate(new):
        state, age = [("已批", 100), ("规划", 350)][k % 2]
        area = new_area[k]
        rows["JXDK"].add(age, {
            "DKBH": f"JX{code}-{k + 1:03d}", "XMQBH": qid, "XZQDM": code, "YT": ["安置", "经营"][k % 2],
            "JXMJ": area, "ZYGDMJ": area, "BZ": f"{region.village_of(i)}", STATE: state},
            region.dltb.geometry.iloc[i])
    surplus = accepted - sum(new_area)  # 节余 = accepted 拆旧 − 建新 (linkage.yaml); a trade sells part of it
    if surplus > 0:
        sold = round(min(surplus * 0.5, 2000.0), 2)
        price = 30.0
        rows["ZBJY"].add(80, {
            "JYBH": f"JY{code}-{year}-01", "XMQBH": qid, "XZQDM": code, "DCF": f"{cname}人民政府",
            "DRF": f"{buyer}人民政府", "JYMJ": sold, "DJ": price, "ZJ": round(sold / (10000 / 15) * price, 2),
            "JYRQ": f"{year}-11-20", "FW": "市内", STATE: "登记"})


def _farmland(rows: dict[str, _Rows], region: _Region, rng: np.random.Generator, code: str, cname: str,
              year: int, province: str, per: dict[str, int], taken: set[int]) -> None:
    """补充耕地 projects and 耕地占用 on the county's cultivated parcels."""
    kinds = ["土地整治", "高标准农田", "旱改水", "恢复耕地"]
    states = [("入库", 200), ("实施", 700), ("立项", 30)]
    for k, i in enumerate(region.parcels(code, ("01",), per["bcgdxm"], rng, taken=taken)):
        kind = kinds[(k + int(code[-1])) % len(kinds)]
        state, age = states[k % len(states)]
        area = float(region.parcel_area[i])
        gain = round(area * float(rng.uniform(0.06, 0.15)), 2)
        vals = {"XMBH": f"BC{code}-{year}-{k + 1:02d}", "XMMC": f"{region.village_of(i)}{kind}项目",
                "XMLX": kind, "XZQDM": code, "XZGDMJ": gain, "XZSTMJ": gain if kind == "旱改水" else 0.0,
                "JHPJDB": int(rng.integers(7, 12)), "YSPJDB": int(rng.integers(6, 11)),
                "XZLSCN": round(gain / (10000 / 15) * 400, 2), STATE: state}
        if state == "入库":
            vals["YSRQ"] = f"{year}-09-{10 + k:02d}"
        rows["BCGDXM"].add(age, vals, region.dltb.geometry.iloc[i])
    states = [("备案", 100), ("待审", 18), ("拟件", 40)]
    for k, i in enumerate(region.parcels(code, ("01",), per["gdzy"], rng, taken=taken)):
        state, age = states[k % len(states)]
        area = round(float(region.parcel_area[i]), 2)
        net = round(area * 0.95, 2)
        rows["GDZY"].add(age, {
            "ZYBH": f"ZY{code}-{year}-{k + 1:02d}", "XMMC": f"{cname}{region.village_of(i)}建设项目",
            "ZYLX": "建设", "PFWH": f"{province}人民政府批复〔{year}〕{100 + k}号", "PZJG": f"{province}人民政府",
            "PZSJ": f"{year}-06-{10 + k:02d}", "XZQDM": code, "JSYDMJ": area, "ZYGDMJ": net,
            "ZYSTMJ": net if region.dlbm[i] == "0101" else 0.0, "ZYPJDB": int(rng.integers(7, 12)),
            "LWQX": "无", STATE: state}, region.dltb.geometry.iloc[i])


def _mining(rows: dict[str, _Rows], region: _Region, rng: np.random.Generator, cfg: RegionConfig,
            year: int, province: str) -> None:
    """矿业权 around each mining area: 采矿权, and the last right of each area an 探矿权."""
    firms = ["华", "鑫", "恒", "泰", "丰", "瑞"]
    for a in cfg.registers.mining_areas:
        for k in range(a.rights):
            explore = k == a.rights - 1 and a.rights > 1
            lon, lat = _offset(a.center, rng, a.radius_km)
            side = math.sqrt(float(rng.uniform(4.0, 12.0) if explore else rng.uniform(0.4, 3.0)))
            geom = _rect((lon, lat), side * float(rng.uniform(0.8, 1.25)), side)
            county = region.county_at(lon, lat)
            start = year - int(rng.integers(2, 12))
            end = start + (int(rng.integers(3, 6)) if explore else int(rng.integers(10, 20)))
            if k == 1 and not explore:
                end = year  # one right per area whose term has run out: a finding for the 体检
            vals = {"XKZH": f"{'T' if explore else 'C'}{county}{start}{int(rng.integers(0, 10**7)):07d}{k + 1:03d}",
                    "KQLX": "探矿权" if explore else "采矿权",
                    "KYQR": f"{a.name}{firms[k % len(firms)]}{a.mineral}业有限公司",
                    "KSMC": f"{a.name}{a.mineral}{'勘查' if explore else f'矿{k + 1}号'}",
                    "KZ": a.mineral, "YXQQ": f"{start}-0{1 + k % 9}-01", "YXQZ": f"{end}-0{1 + k % 9}-01",
                    "FZJG": f"{province}自然资源厅", "XZQDM": county, STATE: "有效"}
            if not explore:
                output = round(float(rng.uniform(*a.output_mt)), 1)
                vals.update({"KCFS": a.method, "SCGM": output, "BGSX": a.elevation[0], "BGXX": a.elevation[1],
                             "KSGM": "大型" if output >= a.scale_mt[0] else "中型" if output >= a.scale_mt[1]
                             else "小型", "SCZT": "停产" if end <= year else "生产"})
            rows["KYQ"].add(0, vals, geom)


def _hazards(rows: dict[str, _Rows], region: _Region, rng: np.random.Generator, cfg: RegionConfig) -> None:
    """地质灾害隐患点 and one 风险区 per hill; inspections due at three different times."""
    seq: dict[str, int] = {}
    ages = [0, 110, 130, 60]  # 在册 120 days: 正常, 10 days left (warned 15 before), 10 days late, 正常
    for h in cfg.registers.hills:
        for k in range(h.points):
            lon, lat = _offset(h.center, rng, h.radius_km)
            county = region.county_at(lon, lat)
            seq[county] = seq.get(county, 0) + 1
            kind = h.types[k % len(h.types)]
            village = region.village_at(lon, lat) or h.name
            homes = int(rng.integers(1, 25))
            rows["DZZHYHD"].add(ages[k % len(ages)], {
                "TYBH": f"{county}{seq[county]:06d}", "MC": f"{village}{kind}", "ZHLX": kind, "XZQDM": county,
                "WZ": f"{h.name}{village}", "GM": float(rng.integers(5, 500) * 100), "WXHS": homes,
                "WXRS": homes * int(rng.integers(3, 6)), "WXCC": float(rng.integers(10, 600)),
                "FZCS": "群测群防" if k % 3 else "专业监测", "JCY": f"{village}监测员", STATE: "在册"},
                shapely.Point(lon, lat))
        county = region.county_at(*h.center)
        rows["FXQ"].add(60, {
            "FXQBH": f"FXQ{county}-{h.name}", "MC": f"{h.name}地质灾害风险区", "FXDJ": h.risk, "XZQDM": county,
            "WZ": h.name, "XCY": f"{h.name}巡查员", STATE: "在册"},
            _ellipse(h.center, h.radius_km * 0.6))
