"""Audit log: the guarded head, checkpoints against truncation and rewriting, and the records
that must point at audit rows (issue #19)."""

from __future__ import annotations

import json
import sqlite3

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from onemap.monitor import service
from onemap.store import VersionMeta, audit, init_workspace
from onemap.store.integrity import checkpoint_file, verify_workspace


@pytest.fixture
def ws(tmp_path):
    store = init_workspace(tmp_path / "ws.gpkg")
    eng = store.sql_engine()
    for i in range(5):
        audit.append(eng, "张三", "ledger.edit", "ledger", i, {"v": i}, {"v": i + 1})
    yield store
    store.close()


def _owner(store) -> sqlite3.Connection:
    """The database owner: every guard trigger dropped."""
    store.sql_engine().dispose()
    con = sqlite3.connect(store.path)
    names = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'onemap_audit%'")]
    assert {"onemap_audit_no_delete", "onemap_audit_head_forward"} <= set(names)
    for name in names:
        con.execute(f'DROP TRIGGER "{name}"')
    return con


def _rows(con, upto: int) -> list[dict]:
    cols = ["id", "at", "actor", "action", "entity", "entity_id", "before", "after", "prev_hash"]
    return [dict(zip(cols, r, strict=True)) for r in con.execute(
        f"SELECT {', '.join(cols)} FROM onemap_audit WHERE id <= ? ORDER BY id", (upto,))]


# ---------------------------------------------------------------------------- the head
@pytest.mark.parametrize("sql", [
    "DELETE FROM onemap_audit_head",
    "UPDATE onemap_audit_head SET seq = 3",
    "UPDATE onemap_audit_head SET seq = 3, last_hash = (SELECT hash FROM onemap_audit WHERE id = 3)",
    "UPDATE onemap_audit_head SET last_hash = '" + "a" * 64 + "'",
    "UPDATE onemap_audit_head SET seq = 7",
    "INSERT INTO onemap_audit_head (id, seq, last_hash) VALUES (2, 0, '" + "0" * 64 + "')",
])
def test_head_is_guarded_like_the_rows(ws, sql):
    with pytest.raises(DBAPIError, match="onemap_audit_head"), ws.sql_engine().begin() as conn:
        conn.exec_driver_sql(sql)
    assert service.audit_verify(ws)["ok"]
    audit.append(ws.sql_engine(), "张三", "ledger.edit", "ledger", 9, None, {})  # appends still work
    assert audit.verify(ws.sql_engine()).rows == 6


# ---------------------------------------------------------------------------- checkpoints
def test_cut_tail_with_a_consistent_head_is_caught_by_the_checkpoint(ws):
    cp = checkpoint_file(ws.path)
    assert service.audit_checkpoint(ws)["last_checkpoint"]["seq"] == 5
    con = _owner(ws)
    with con:
        con.execute("DELETE FROM onemap_audit WHERE id > 3")
        con.execute("UPDATE onemap_audit_head SET seq = 3, "
                    "last_hash = (SELECT hash FROM onemap_audit WHERE id = 3)")
    con.close()
    assert audit.verify(ws.sql_engine()).ok  # the chain alone cannot tell
    v = service.audit_verify(ws)
    assert not v["ok"] and v["first_broken"] == 4 and "截断" in v["reason"]
    assert "检查点记录已有 5 行，现只有 3 行" in v["reason"]
    # a checkpoint is never written over a broken log
    lines = cp.read_text().splitlines()
    assert not service.audit_checkpoint(ws)["ok"] and cp.read_text().splitlines() == lines


def test_wiped_log_is_caught_by_the_checkpoint(ws):
    service.audit_checkpoint(ws)
    con = _owner(ws)
    with con:
        con.execute("DELETE FROM onemap_audit")
        con.execute("UPDATE onemap_audit_head SET seq = 0, last_hash = ?", (audit.GENESIS_HASH,))
    con.close()
    v = service.audit_verify(ws)
    assert not v["ok"] and v["rows"] == 0 and "截断" in v["reason"]


def test_rewritten_chain_is_caught_by_the_checkpoint(ws):
    service.audit_checkpoint(ws)
    con = _owner(ws)
    rows = _rows(con, 5)
    rows[1]["actor"] = "李四"  # rewrite row 2 and rehash everything after it consistently
    prev = rows[0]["prev_hash"]
    with con:
        for row in rows:
            row["prev_hash"] = prev
            prev = audit.row_hash(row)
            con.execute("UPDATE onemap_audit SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?",
                        (row["actor"], row["prev_hash"], prev, row["id"]))
        con.execute("UPDATE onemap_audit_head SET last_hash = ?", (prev,))
    con.close()
    assert audit.verify(ws.sql_engine()).ok  # consistent again without the checkpoint
    v = service.audit_verify(ws)
    assert not v["ok"] and v["first_broken"] == 5 and "改写" in v["reason"]


def test_checkpoints_append_only_when_the_head_moves(ws):
    cp = checkpoint_file(ws.path)
    assert cp.name == "ws.audit-checkpoints.jsonl" and cp.parent == ws.path.parent
    service.audit_checkpoint(ws)
    service.audit_checkpoint(ws)
    audit.append(ws.sql_engine(), "张三", "ledger.edit", "ledger", 6, None, {})
    v = service.audit_checkpoint(ws)
    lines = [json.loads(x) for x in cp.read_text().splitlines()]
    assert [x["seq"] for x in lines] == [5, 6]
    assert lines[-1]["hash"] == audit.entries(ws.sql_engine())[-1].hash
    assert v["ok"] and v["checkpoints"] == 2 and "最近检查点：第 6 行" in v["message"]
    cp.write_text(cp.read_text() + "edited by hand\n")
    with pytest.raises(Exception, match="第 3 行无法识别"):
        service.audit_verify(ws)


# ---------------------------------------------------------------------------- what points at the log
def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"BSM": ["1"], "DLBM": ["0101"]},
                            geometry=[shapely.box(106, 37, 106.01, 37.01)], crs=4490)


def test_every_version_write_is_audited(tmp_path):
    store = init_workspace(tmp_path / "v.gpkg")
    store.write_version("DLTB", "2024", _frame(), VersionMeta(created_by="张三",
                                                             source_file="DLTB.shp"))
    rows = audit.entries(store.sql_engine())
    assert [(r.actor, r.action, r.entity_id) for r in rows] == [
        ("张三", "version.write", "DLTB/2024")]
    assert rows[0].after["feature_count"] == 1 and rows[0].after["source_file"] == "DLTB.shp"
    assert service.audit_verify(store)["ok"]
    # a version slipped into the catalog without its audit row is named
    from onemap.store.catalog import versions_table

    with store.sql_engine().begin() as conn:
        conn.execute(insert(versions_table).values(
            dataset="DLTB", version="2025", layer="DLTB_2024", feature_count=1,
            created_at="2025-01-01T00:00:00+00:00"))
    v = service.audit_verify(store)
    assert v["chain_ok"] and not v["ok"]
    assert v["problems"] == ["数据版本 DLTB 2025 没有入库审计记录（未经留痕写入目录）"]


def test_case_events_must_point_at_their_audit_rows(tmp_path):
    from onemap.store.cases import (
        case_events_table,
        cases_table,
        ensure_tables,
        judge_runs_table,
        judgements_table,
    )

    store = init_workspace(tmp_path / "c.gpkg")
    eng = store.sql_engine()
    ensure_tables(eng)
    entry = audit.append(eng, "张三", "case.open", "case", "WP-1", None, {})
    other = audit.append(eng, "张三", "ledger.edit", "ledger", 1, None, {})
    with eng.begin() as conn:
        run = conn.execute(insert(judge_runs_table).values(
            changeset_dataset="BHTB", changeset_version="1", as_of="2024-12-31",
            created_at="t")).inserted_primary_key[0]
        jid = conn.execute(insert(judgements_table).values(
            run_id=run, tbbh="1", verdict="疑似违法", rule="r", reason="测试",
            county="640302")).inserted_primary_key[0]
        cid = conn.execute(insert(cases_table).values(
            case_no="WP-1", run_id=run, judgement_id=jid, changeset_dataset="BHTB",
            changeset_version="1", tbbh="1",
            county="640302", state="issued", opened_at="t", updated_at="t")
        ).inserted_primary_key[0]
        for action, audit_id in (("open", entry.id), ("evidence", None), ("determine", 999),
                                 ("close", other.id)):
            conn.execute(insert(case_events_table).values(
                case_id=cid, at="t", actor="张三", action=action, to_state="x", audit_id=audit_id))
    report = verify_workspace(eng)
    assert report.chain.ok and not report.ok
    assert report.problems == [
        "案件 WP-1 的第 2 条办理记录（evidence）没有审计编号",
        "案件 WP-1 的第 3 条办理记录（determine）指向不存在的审计行 999",
        "案件 WP-1 的第 4 条办理记录（close）与审计行 2（ledger.edit 1）不符",
    ]
