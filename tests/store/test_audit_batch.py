"""audit.append_many: one batch writes the same chain as one append per row."""

from sqlalchemy import create_engine

from onemap.store import audit


def test_append_many_continues_the_chain_row_by_row(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    first = audit.append(engine, "张三", "x.create", "x", 1, None, {"a": 1})
    with engine.begin() as conn:
        assert audit.append_many(conn, "张三", []) == []
        got = audit.append_many(conn, "李四", [("x.create", "x", 2, None, {"a": 2}),
                                              ("x.create", "x", 3, None, {"a": 3}),
                                              ("x.update", "x", 2, {"a": 2}, {"a": 4})])
    assert [e.id for e in got] == [2, 3, 4]
    assert [e.prev_hash for e in got] == [first.hash, got[0].hash, got[1].hash]
    log = audit.entries(engine)
    assert [(e.id, e.actor, e.entity_id, e.after) for e in log] == [
        (1, "张三", "1", {"a": 1}), (2, "李四", "2", {"a": 2}), (3, "李四", "3", {"a": 3}), (4, "李四", "2", {"a": 4})]
    for e in log[1:]:
        row = {**e.to_dict(), "before": audit.canonical_json(e.before), "after": audit.canonical_json(e.after)}
        assert audit.row_hash(row) == e.hash
    # a single append after the batch links to its last row
    last = audit.append(engine, "张三", "x.delete", "x", 3, {"a": 3}, None)
    assert (last.id, last.prev_hash) == (5, got[2].hash)
    check = audit.verify(engine)
    assert (check.ok, check.rows, check.head_hash) == (True, 5, last.hash)


def test_a_rolled_back_batch_leaves_the_chain_as_it_was(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    first = audit.append(engine, "张三", "x.create", "x", 1, None, {"a": 1})
    try:
        with engine.begin() as conn:
            audit.append_many(conn, "李四", [("x.create", "x", 2, None, {}), ("x.create", "x", 3, None, {})])
            raise RuntimeError("导入失败")
    except RuntimeError:
        pass
    check = audit.verify(engine)
    assert (check.ok, check.rows, check.head_hash) == (True, 1, first.hash)
    assert audit.append(engine, "张三", "x.create", "x", 2, None, {}).id == 2
