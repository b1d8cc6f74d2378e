"""Helpers shared by the API tests (a uniquely named module, unlike ``conftest``)."""

from __future__ import annotations

import socket

import numpy as np
import shapely
from geopandas import GeoDataFrame

CLASSES = [("0101", "水田"), ("0103", "旱地"), ("0301", "乔木林地"), ("0702", "农村宅基地")]
PASSWORD = "correct-horse-9"


def make_dltb(n_side: int = 6) -> GeoDataFrame:
    """``n_side``² square patches near 106.2E 37.9N; the west half in 640302, the east in 640324."""
    step = 0.002
    rows = []
    for i in range(n_side):
        for j in range(n_side):
            x0, y0 = 106.2 + j * step, 37.9 + i * step
            code, name = CLASSES[(i + j) % len(CLASSES)]
            county = "640302" if j < n_side // 2 else "640324"
            rows.append((shapely.box(x0, y0, x0 + step, y0 + step), code, name,
                         f"{county}1010010000000", f"64030{i:02d}{j:02d}"))
    geoms = [r[0] for r in rows]
    from onemap.geo.area import ellipsoidal_area

    area = np.round(ellipsoidal_area(np.array(geoms, dtype=object)), 2)
    return GeoDataFrame(
        {"BSM": [r[4] for r in rows], "DLBM": [r[1] for r in rows], "DLMC": [r[2] for r in rows],
         "ZLDWDM": [r[3] for r in rows], "TBMJ": area, "TBDLMJ": area},
        geometry=geoms, crs=4490,
    )


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cases(engine) -> None:
    """Two issued cases, one in 利通区 (640302), one in 同心县 (640324) (once per workspace)."""
    from sqlalchemy import insert, select

    from onemap.store.cases import cases_table, ensure_tables, judge_runs_table, judgements_table

    ensure_tables(engine)
    with engine.begin() as conn:
        if conn.execute(select(cases_table.c.id)).first() is not None:
            return
        run = conn.execute(insert(judge_runs_table).values(
            changeset_dataset="BGDC", changeset_version="2024", as_of="2024-12-31",
            created_at="2025-01-01T00:00:00+00:00")).inserted_primary_key[0]
        for no, county in (("WP-640302-2024-0001", "640302"), ("WP-640324-2024-0001", "640324")):
            jid = conn.execute(insert(judgements_table).values(
                run_id=run, tbbh=no, verdict="疑似违法", rule="r", reason="测试",
                county=county)).inserted_primary_key[0]
            conn.execute(insert(cases_table).values(
                case_no=no, run_id=run, judgement_id=jid, changeset_dataset="BGDC",
                changeset_version="2024", tbbh=no, county=county, state="issued",
                opened_at="2025-01-01T00:00:00+00:00", updated_at="2025-01-01T00:00:00+00:00",
                due_at="2025-02-01T00:00:00+00:00"))


def png_bytes() -> bytes:
    """A tiny PNG without EXIF (position and time must be given)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buf, format="PNG")
    return buf.getvalue()
