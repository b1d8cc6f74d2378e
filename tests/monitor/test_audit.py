"""Append-only audit log with a hash chain; tamper detection."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import DBAPIError

from onemap.monitor import service
from onemap.store import audit, init_workspace


@pytest.fixture
def ws(tmp_path):
    store = init_workspace(tmp_path / "ws.gpkg")
    eng = store.sql_engine()
    for i in range(5):
        audit.append(eng, "张三", "ledger.edit", "ledger", i, {"v": i}, {"v": i + 1, "名": "耕地"})
    yield store
    store.close()


def _raw(store):
    con = sqlite3.connect(store.path)
    con.execute("DROP TRIGGER IF EXISTS onemap_audit_no_update")
    con.execute("DROP TRIGGER IF EXISTS onemap_audit_no_delete")
    return con


def test_chain_links_rows_and_verifies(ws):
    rows = audit.entries(ws.sql_engine())
    assert [r.id for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    assert rows[2].after == {"v": 3, "名": "耕地"} and rows[2].actor == "张三"
    v = service.audit_verify(ws)
    assert v["ok"] and v["rows"] == 5 and v["first_broken"] is None
    assert v["head_hash"] == rows[-1].hash


def test_rows_cannot_be_updated_or_deleted_through_sql(ws):
    with pytest.raises(DBAPIError, match="append-only"), ws.sql_engine().begin() as conn:
        conn.exec_driver_sql("UPDATE onemap_audit SET actor = 'x' WHERE id = 2")
    with pytest.raises(DBAPIError, match="append-only"), ws.sql_engine().begin() as conn:
        conn.exec_driver_sql("DELETE FROM onemap_audit WHERE id = 2")
    assert service.audit_verify(ws)["ok"]


def test_edited_row_is_named(ws):
    ws.sql_engine().dispose()
    con = _raw(ws)
    with con:
        con.execute("UPDATE onemap_audit SET after = ? WHERE id = 3", ('{"v":999}',))
    con.close()
    v = service.audit_verify(ws)
    assert not v["ok"] and v["first_broken"] == 3
    assert "第 3 行" in v["reason"] and "被篡改" in v["message"]


def test_edited_and_rehashed_row_breaks_the_next_link(ws):
    con = _raw(ws)
    row = dict(zip(["id", "at", "actor", "action", "entity", "entity_id", "before", "after",
                    "prev_hash"],
                   con.execute("SELECT id, at, actor, action, entity, entity_id, before, after,"
                               " prev_hash FROM onemap_audit WHERE id = 2").fetchone(),
                   strict=True))
    row["actor"] = "李四"
    with con:
        con.execute("UPDATE onemap_audit SET actor = ?, hash = ? WHERE id = 2",
                    (row["actor"], audit.row_hash(row)))
    con.close()
    v = audit.verify(ws.sql_engine())
    assert not v.ok and v.first_broken == 3 and "第 2 行" in v.reason


def test_deleted_row_is_named(ws):
    con = _raw(ws)
    with con:
        con.execute("DELETE FROM onemap_audit WHERE id = 2")
    con.close()
    v = audit.verify(ws.sql_engine())
    assert not v.ok and v.first_broken == 2 and "缺失" in v.reason


def test_cut_tail_is_detected(ws):
    con = _raw(ws)
    with con:
        con.execute("DELETE FROM onemap_audit WHERE id = 5")
    con.close()
    v = audit.verify(ws.sql_engine())
    assert not v.ok and v.first_broken == 5 and "末尾" in v.reason


def test_append_inside_a_rolled_back_transaction_leaves_no_row(ws):
    eng = ws.sql_engine()
    with pytest.raises(RuntimeError), eng.begin() as conn:
        audit.append(conn, "a", "x", "y", 1, None, {})
        raise RuntimeError("boom")
    assert len(audit.entries(eng)) == 5 and audit.verify(eng).ok


def test_empty_log_verifies(tmp_path):
    store = init_workspace(tmp_path / "e.gpkg")
    v = service.audit_verify(store)
    assert v["ok"] and v["rows"] == 0 and v["head_hash"] == audit.GENESIS_HASH


def test_canonical_serialisation_is_stable():
    assert audit.canonical_json({"b": [1, 2], "a": "水田"}) == '{"a":"水田","b":[1,2]}'
    row = {"id": 1, "at": "t", "actor": "a", "action": "x", "entity": "e", "entity_id": "1",
           "before": "null", "after": "{}", "prev_hash": audit.GENESIS_HASH}
    assert audit.row_hash(row) == audit.row_hash(dict(reversed(list(row.items()))))
    assert audit.row_hash(row) != audit.row_hash({**row, "after": '{"a":1}'})
