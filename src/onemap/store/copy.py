"""Copy a workspace's records and layers into another workspace, verbatim (``onemap copy``).

Ids, times, actors and hashes are kept as they are, so the copy's catalog,
lineage, case events and audit chain are the source's, and ``audit verify``
holds on the copy. The layers are written bare (:meth:`Store.write_layer`):
their catalog and audit rows come with the records.

The audit head of the target starts at the genesis row; it is moved to the
source's head the only way its guard allows: one step per row, then onto the
hash of the last copied row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import MetaData, Table, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from onemap.errors import WorkspaceError
from onemap.store.audit import audit_head_table, audit_table
from onemap.store.base import Store

#: Rows inserted per statement.
CHUNK = 5_000


def copy_layers(source: Store, target: Store,
                progress: Callable[[str, int, int], None] | None = None) -> int:
    """Write every catalogued version's layer of ``source`` into ``target`` (same layer names).

    Returns
    -------
    int
        Features copied.
    """
    versions = sorted((v for d in source.datasets() for v in d.versions), key=lambda v: v.id)
    titles = {d.name: d.title for d in source.datasets()}
    features = 0
    for k, info in enumerate(versions):
        if progress:
            progress(f"复制图层 {info.layer}", k, len(versions))
        gdf = source.read(info.dataset, info.version)
        target.write_layer(info.layer, gdf, title=f"{titles.get(info.dataset) or info.dataset} {info.version}")
        features += len(gdf)
    return features


def copy_records(source: Store, target: Store) -> dict[str, int]:
    """Copy every record table's rows (in foreign-key order) in one target transaction.

    The target must be new: its tables empty except for what a new workspace
    starts with (its settings and the audit head), which is replaced.

    Returns
    -------
    dict
        Table → rows copied.

    Raises
    ------
    onemap.errors.WorkspaceError
        A record table of the source that the target does not have, or a
        target that already holds records.
    """
    names = source.record_tables()
    missing = set(names) - set(target.record_tables())
    src_md, dst_md = MetaData(), MetaData()
    with source.sql_engine().connect() as sconn, target.sql_engine().begin() as tconn:
        src_md.reflect(sconn, only=names)
        _create_like(tconn, [src_md.tables[t] for t in sorted(missing)])
        dst_md.reflect(tconn, only=names)
        counts: dict[str, int] = {}
        for table in dst_md.sorted_tables:
            if table.name == audit_head_table.name:
                continue
            src = src_md.tables[table.name]
            if table.name == "onemap_workspace":
                tconn.execute(delete(table))
            elif tconn.execute(select(table).limit(1)).first() is not None:
                raise WorkspaceError(f"目标工作空间的表 {table.name} 已有记录：只能复制到新的工作空间")
            counts[table.name] = _copy_table(sconn, tconn, src, table)
        _move_audit_head(sconn, tconn)
        if tconn.dialect.name == "postgresql":
            _reset_sequences(tconn, dst_md)
    return counts


def _create_like(tconn: Connection, tables: list[Table]) -> None:
    """Create tables the target lacks after the source's definitions (columns, keys, types).

    The engines create their tables on first use; a table the source made
    and the target never did is made here, without the source dialect's
    server defaults (a PostgreSQL ``nextval`` means nothing to SQLite).
    """
    if not tables:
        return
    md = MetaData()
    for table in tables:
        copy = table.to_metadata(md)
        for col in copy.columns:
            col.server_default = None
    md.create_all(tconn)


def _copy_table(sconn: Connection, tconn: Connection, src: Table, dst: Table) -> int:
    columns = [c.name for c in src.columns if c.name in dst.c]
    order = list(src.primary_key) or [src.c[columns[0]]]
    result = sconn.execution_options(yield_per=CHUNK).execute(
        select(*(src.c[c] for c in columns)).order_by(*order))
    n = 0
    for part in result.partitions(CHUNK):
        rows = [dict(zip(columns, r, strict=True)) for r in part]
        tconn.execute(insert(dst), rows)
        n += len(rows)
    return n


def _move_audit_head(sconn: Connection, tconn: Connection) -> None:
    head = sconn.execute(select(audit_head_table).where(audit_head_table.c.id == 1)).first()
    if head is None or int(head.seq) == 0:
        return
    now = tconn.execute(select(audit_head_table.c.seq).where(audit_head_table.c.id == 1)).scalar()
    steps = int(head.seq) - int(now or 0)
    if tconn.dialect.name == "postgresql":
        tconn.exec_driver_sql(
            "DO $$ BEGIN FOR i IN 1.." + str(steps) + " LOOP "
            "UPDATE onemap_audit_head SET seq = seq + 1 WHERE id = 1; END LOOP; END $$")
    else:
        step = update(audit_head_table).where(audit_head_table.c.id == 1).values(
            seq=audit_head_table.c.seq + 1)
        for _ in range(steps):
            tconn.execute(step)
    last = tconn.execute(select(audit_table.c.hash).where(audit_table.c.id == head.seq)).scalar()
    if last != head.last_hash:
        raise WorkspaceError("复制后的审计日志末行与源工作空间的审计链头不符，复制已撤销")
    tconn.execute(update(audit_head_table).where(audit_head_table.c.id == 1)
                  .values(last_hash=head.last_hash))


def _reset_sequences(tconn: Connection, md: MetaData) -> None:
    """Move each serial key's sequence past the copied ids (PostgreSQL)."""
    for table in md.sorted_tables:
        for col in table.primary_key:
            seq = tconn.exec_driver_sql("SELECT pg_get_serial_sequence(%s, %s)",
                                        (f'"{table.name}"', col.name)).scalar()
            if seq:
                tconn.exec_driver_sql(
                    f'SELECT setval(%s, COALESCE((SELECT max("{col.name}") FROM "{table.name}"), 0) + 1, false)',
                    (seq,))


def summary(store: Store) -> dict[str, Any]:
    """What a workspace holds, for comparing a copy with its source: versions and record counts."""
    with store.sql_engine().connect() as conn:
        md = MetaData()
        names = store.record_tables()
        md.reflect(conn, only=names)
        counts = {t: int(conn.execute(select(func.count()).select_from(md.tables[t])).scalar())
                  for t in names}
    return {"versions": sum(len(d.versions) for d in store.datasets()), "records": counts}
