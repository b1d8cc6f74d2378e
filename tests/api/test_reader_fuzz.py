"""Fuzzing the site readers: random mutations of small real files never crash them.

Seeds are the site fixtures of the check tests (``tests/control/data/cases.yaml``: WKT sites
and 报盘 TXT files), written as GeoJSON, KML, 报盘 TXT, Shapefile (GBK attributes) and a
zipped Shapefile. Each is mutated with a fixed seed (bytes flipped, inserted, deleted,
truncated, chunks repeated; for text also digits changed and lines dropped or swapped).
Every mutant must give either a correct read (EPSG:4490 polygons, finite coordinates) or a
refusal whose message is Chinese, never another exception; through the API, never a 5xx.
The unmutated seeds must read to the areas the fixture states.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import yaml
from fastapi.testclient import TestClient

from control.control_helpers import CASES_FILE, bopan_bytes
from onemap.control import read_site
from onemap.errors import OneMapError
from onemap.geo.area import ellipsoidal_area
from onemap.store import init_workspace
from onemap.store.base import VersionMeta
from onemap.store.users import create_token, create_user

from ._api_support import PASSWORD, auth, make_dltb

SEED = 19
MUTANTS_PER_SEED = 60  # × 5 seed files: 300 reads
API_MUTANTS = 24


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _kml(geom: shapely.Polygon, name: str) -> bytes:
    def ring(r) -> str:
        return " ".join(f"{x},{y},0" for x, y in r.coords)

    holes = "".join(f"<innerBoundaryIs><LinearRing><coordinates>{ring(h)}</coordinates>"
                    "</LinearRing></innerBoundaryIs>" for h in geom.interiors)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document><Placemark><name>{name}</name><Polygon><outerBoundaryIs><LinearRing>"
        f"<coordinates>{ring(geom.exterior)}</coordinates></LinearRing></outerBoundaryIs>"
        f"{holes}</Polygon></Placemark></Document></kml>").encode()


def _seeds(folder: Path) -> list[tuple[Path, float]]:
    """Seed files with the site area (m²) the fixture states."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = {c["id"]: c for c in yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]}
    hole = cases["site_with_hole"]
    bopan = cases["multi_parcel_bopan"]
    geom = shapely.from_wkt(hole["site"]["wkt"])
    area = hole["expect"]["site_area_m2"]
    out = []
    gdf = gpd.GeoDataFrame({"name": ["带洞地块"]}, geometry=[geom], crs="EPSG:4490")
    path = folder / "site.geojson"
    gdf.to_file(path, driver="GeoJSON")
    out.append((path, area))
    path = folder / "site.kml"
    path.write_bytes(_kml(geom, "带洞地块"))
    out.append((path, area))
    path = folder / "site.txt"
    path.write_bytes(bopan_bytes(bopan["site"]["bopan"]))
    out.append((path, bopan["expect"]["site_area_m2"]))
    shp_dir = folder / "shp"
    shp_dir.mkdir()
    gdf.to_file(shp_dir / "site.shp", encoding="GBK")
    out.append((shp_dir / "site.shp", area))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for part in sorted(shp_dir.iterdir()):
            zf.write(part, f"地块/{part.name}")
    path = folder / "site.zip"
    path.write_bytes(buf.getvalue())
    out.append((path, area))
    return out


def _mutate(data: bytes, rng: random.Random, text: bool) -> bytes:
    b = bytearray(data)
    op = rng.randrange(9 if text else 6)
    if not b:
        return bytes(rng.randbytes(rng.randint(1, 64)))
    i = rng.randrange(len(b))
    if op == 0:  # flip bytes
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif op == 1:  # insert random bytes
        b[i:i] = rng.randbytes(rng.randint(1, 32))
    elif op == 2:  # delete a span
        del b[i:i + rng.randint(1, 64)]
    elif op == 3:  # truncate
        del b[i:]
    elif op == 4:  # repeat a chunk
        b[i:i] = b[i:i + rng.randint(1, 256)] * rng.randint(2, 50)
    elif op == 5:  # overwrite a 4-byte field (record counts, lengths, offsets)
        b[i:i + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff",
                                 rng.randbytes(4)])
    else:
        lines = bytes(b).split(b"\n")
        j = rng.randrange(len(lines))
        if op == 6:  # change digits
            lines[j] = bytes(rng.choice(b"0123456789-.eE") if 48 <= c <= 57 and rng.random() < .3
                             else c for c in lines[j])
        elif op == 7:  # drop a line
            del lines[j]
        else:  # swap two lines
            k = rng.randrange(len(lines))
            lines[j], lines[k] = lines[k], lines[j]
        return b"\n".join(lines)
    return bytes(b)


def _mutants(folder: Path, seeds: list[tuple[Path, float]], per_seed: int, rng: random.Random):
    """Yield (label, path to read) for mutated copies; a Shapefile mutates one of its parts."""
    n = 0
    for seed, _area in seeds:
        for k in range(per_seed):
            n += 1
            work = folder / f"m{n}"
            work.mkdir()
            if seed.suffix == ".shp":
                for part in seed.parent.iterdir():
                    (work / part.name).write_bytes(part.read_bytes())
                victim = work / rng.choice([".shp", ".dbf", ".shx", ".cpg", ".prj"]).join(
                    ["site", ""])
                if victim.exists():
                    victim.write_bytes(_mutate(victim.read_bytes(), rng, False))
                yield f"{seed.name}#{k} ({victim.suffix})", work / "site.shp"
                continue
            target = work / seed.name
            target.write_bytes(_mutate(seed.read_bytes(), rng, seed.suffix in (".txt", ".kml",
                                                                               ".geojson")))
            yield f"{seed.name}#{k}", target


def _read_or_refuse(path: Path) -> str:
    """'read' or 'refused'; anything else fails the test."""
    try:
        site = read_site(path)
    except OneMapError as exc:
        assert _chinese(exc.message), f"{path.name}: refusal not in Chinese: {exc.message!r}"
        return "refused"
    gdf = site.gdf
    assert len(gdf) >= 1 and gdf.crs.to_epsg() == 4490
    assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}
    assert bool(gdf.geometry.is_valid.all()) and not bool(gdf.geometry.is_empty.any())
    coords = shapely.get_coordinates(gdf.geometry.values)
    assert np.isfinite(coords).all()
    assert (np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all()
    return "read"


def test_seeds_read_to_the_fixture_areas(tmp_path):
    for path, expected in _seeds(tmp_path):
        site = read_site(path)
        area = float(ellipsoidal_area(site.gdf.geometry.values).sum())
        assert abs(area - expected) < 0.05, (path.name, area, expected)


def test_mutated_site_files_are_read_or_refused_in_chinese(tmp_path):
    rng = random.Random(SEED)
    seeds = _seeds(tmp_path / "seeds")
    outcomes = {"read": 0, "refused": 0}
    crashes = []
    for label, path in _mutants(tmp_path, seeds, MUTANTS_PER_SEED, rng):
        try:
            outcomes[_read_or_refuse(path)] += 1
        except AssertionError:
            raise
        except Exception as exc:  # noqa: BLE001 - a crash of the reader: collect them all
            crashes.append(f"{label}: {type(exc).__name__}: {exc}"[:300])
    assert not crashes, f"{len(crashes)} crashes:\n" + "\n".join(crashes)
    assert outcomes["read"] + outcomes["refused"] == 5 * MUTANTS_PER_SEED
    assert outcomes["read"] > 0 and outcomes["refused"] > 0


@pytest.fixture(scope="module")
def check_client(tmp_path_factory):
    from onemap.api import create_app

    path = tmp_path_factory.mktemp("rfuzz") / "ws.gpkg"
    store = init_workspace(path, name="读取模糊测试")
    store.write_version("DLTB", "2024", make_dltb(3), VersionMeta(synthetic=True))
    create_user(store.sql_engine(), "viewer", PASSWORD, role="viewer")
    token = create_token(store.sql_engine(), "viewer", name="fuzz", scopes=("read",))
    with TestClient(create_app(store, cache_dir=tmp_path_factory.mktemp("rt"))) as c:
        yield c, token


def test_mutated_uploads_never_cause_a_server_error(tmp_path, check_client):
    client, token = check_client
    rng = random.Random(SEED + 1)
    seeds = [(p, a) for p, a in _seeds(tmp_path / "seeds") if p.suffix != ".shp"]
    per_seed = API_MUTANTS // len(seeds)
    statuses = []
    for label, path in _mutants(tmp_path, seeds, per_seed, rng):
        r = client.post("/api/check", headers=auth(token),
                        files={"file": (path.name, path.read_bytes(), "application/octet-stream")})
        assert r.status_code < 500, (label, r.text)
        if r.status_code >= 400:
            assert _chinese(r.json()["message"]), (label, r.text)
        statuses.append(r.status_code)
    assert len(statuses) == per_seed * len(seeds)
