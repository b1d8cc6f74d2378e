"""Use-case helpers every other use case needs: the workspace's unit names, its relational tables."""

from __future__ import annotations

from onemap.analysis.units import unit_names
from onemap.store import transforms
from onemap.store.base import Store


def workspace_unit_names(store: Store) -> dict[str, str]:
    """Unit code → name from the workspace's XZQ and CJDCQ, where present."""
    have = {d.name for d in store.datasets() if d.versions}
    xzq = store.read("XZQ") if "XZQ" in have else None
    cjdcq = store.read("CJDCQ") if "CJDCQ" in have else None
    return unit_names(xzq, cjdcq)


def prepare_relational_tables(store: Store) -> None:
    """Create every relational table (audit, cases, users, indicator inputs and registry copies) now.

    The engines create their tables on first use; a server calls this once at start so that no
    schema change happens while other threads read the workspace (GDAL's SQLite connection
    reports a "malformed database schema" when the schema changes under it).
    """
    from onemap.indicators import inputs as indicator_inputs
    from onemap.indicators import registry
    from onemap.store import audit, cases, users

    engine = store.sql_engine()
    audit.ensure_tables(engine)
    transforms.ensure_tables(engine)
    cases.ensure_tables(engine)
    users.ensure_tables(engine)
    indicator_inputs.ensure_tables(engine)
    registry.ensure_tables(engine)
