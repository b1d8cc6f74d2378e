"""Helpers of the site-check tests: the reference workspace of cases.yaml, site files, an oracle."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import yaml
from pyproj import Transformer

from onemap.geo.area import ellipsoidal_area
from onemap.store import VersionMeta, init_workspace

CASES_FILE = Path(__file__).parent / "data" / "cases.yaml"


def load_cases() -> dict:
    return yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))


def workspace_layers(spec: dict) -> dict[str, tuple[str, gpd.GeoDataFrame]]:
    """Dataset → (version, GeoDataFrame in EPSG:4490) from the ``workspace`` section."""
    out = {}
    for ds, layer in spec.items():
        if "grid" in layer:
            g = layer["grid"]
            rows = []
            geoms = []
            for j, codes in enumerate(g["dlbm"]):
                for i, code in enumerate(codes):
                    geoms.append(shapely.box(g["lon"][i], g["lat"][j], g["lon"][i + 1],
                                             g["lat"][j + 1]))
                    slope = g["gdpdjb"].get(code)
                    if isinstance(slope, list):
                        slope = slope[j]
                    rows.append({
                        "BSM": str(j * len(codes) + i + 1), "DLBM": code, "DLMC": "",
                        "GDPDJB": slope, "KCXS": float(g["kcxs"].get(code, 0.0)),
                        "ZLDWDM": "6403020010010000000",
                    })
            gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490")
        else:
            feats = [dict(f) for f in layer["features"]]
            geoms = [shapely.from_wkt(f.pop("wkt")) for f in feats]
            gdf = gpd.GeoDataFrame(feats, geometry=geoms, crs="EPSG:4490")
        out[ds] = (str(layer["version"]), gdf)
    return out


def build_workspace(path: Path, spec: dict):
    store = init_workspace(path, name="测试工作空间")
    for ds, (version, gdf) in workspace_layers(spec).items():
        store.write_version(ds, version, gdf, VersionMeta(synthetic=True))
    return store


# ---------------------------------------------------------------------------
# site files written by hand (independent of onemap.io.bopan.write_bopan)


def bopan_bytes(spec: dict, encoding: str = "gbk") -> bytes:
    """A 报盘 file as a surveying package writes it: GBK, CRLF, closing point repeated."""
    zone = spec["zone"]
    lines = [
        "[属性描述]", "格式版本号=1.01版本", "数据产生单位=测试测绘院", "数据产生日期=2024-05-01",
        "坐标系=2000国家大地坐标系", "几度分带=3", "投影类型=高斯克吕格", "计量单位=米",
        f"带号={zone}", "精度=0.001", "转换参数=,,,,,,", "[地块坐标]",
    ]
    for k, parcel in enumerate(spec["parcels"], start=1):
        rings = parcel["rings"]
        n = sum(len(r) + 1 for r in rings)
        lines.append(f"{n},,{k},{parcel['name']},面,,{parcel.get('use', '')},,@")
        j = 0
        for ring_no, ring in enumerate(rings, start=1):
            first = j + 1
            for x, y in ring:
                j += 1
                lines.append(f"J{j},{ring_no},{x:.3f},{y:.3f}")
            lines.append(f"J{first},{ring_no},{ring[0][0]:.3f},{ring[0][1]:.3f}")
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def write_site(spec: dict, folder: Path, name: str) -> Path:
    """Write the site of a case as a file (GeoJSON for WKT, 报盘 TXT for bopan)."""
    if "bopan" in spec:
        path = folder / f"{name}.txt"
        path.write_bytes(bopan_bytes(spec["bopan"]))
        return path
    path = folder / f"{name}.geojson"
    gdf = gpd.GeoDataFrame({"name": [name]}, geometry=[shapely.from_wkt(spec["wkt"])],
                           crs="EPSG:4490")
    gdf.to_file(path, driver="GeoJSON")
    return path


# ---------------------------------------------------------------------------
# the oracle: plain Shapely + ellipsoidal_area, nothing from onemap.control


def oracle_site(spec: dict) -> list[tuple[str, shapely.Geometry]]:
    """(name, lon/lat polygon) per parcel, computed directly from the case's coordinates."""
    if "bopan" in spec:
        zone = spec["bopan"]["zone"]
        t = Transformer.from_crs(f"EPSG:{4513 + zone - 25}", "EPSG:4490", always_xy=True)
        out = []
        for parcel in spec["bopan"]["parcels"]:
            rings = []
            for ring in parcel["rings"]:
                xs = np.array([p[1] for p in ring])  # easting (Y)
                ys = np.array([p[0] for p in ring])  # northing (X)
                lon, lat = t.transform(xs, ys)
                rings.append(list(zip(lon, lat, strict=True)))
            out.append((parcel["name"], shapely.Polygon(rings[0], rings[1:])))
        return out
    return [("site", shapely.from_wkt(spec["wkt"]))]


def area(g) -> float:
    return float(ellipsoidal_area([g])[0])


def oracle(site: shapely.Geometry, layers: dict[str, tuple[str, gpd.GeoDataFrame]],
           min_piece: float = 0.01) -> dict:
    """Expected figures of one site, the slow and obvious way."""
    out: dict = {"site_area_m2": area(site), "by_dlbm": {}, "layers": {}}
    _, dltb = layers["DLTB"]
    for code, geom in zip(dltb["DLBM"], dltb.geometry, strict=True):
        a = area(shapely.intersection(site, geom))
        if a > min_piece:
            out["by_dlbm"][code] = out["by_dlbm"].get(code, 0.0) + a
    for ds, (_, gdf) in layers.items():
        if ds in ("DLTB", "XZQ"):
            continue
        inside = area(shapely.intersection(site, shapely.union_all(gdf.geometry.values)))
        ids = sorted(str(b) for b, g in zip(gdf["BSM"], gdf.geometry, strict=True)
                     if area(shapely.intersection(site, g)) > min_piece)
        out["layers"][ds] = {"area_m2": inside, "ids": ids,
                             "outside_m2": out["site_area_m2"] - inside}
    xzq = shapely.union_all(layers["XZQ"][1].geometry.values)
    out["extent_outside_m2"] = area(shapely.difference(site, xzq))
    return out
