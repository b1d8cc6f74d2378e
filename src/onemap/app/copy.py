"""Use case: copy a workspace to another backend or place (``onemap copy WS_FROM WS_TO``).

The target is created new (a ``.gpkg`` path that does not exist, or an empty
PostgreSQL database), given every relational table the engines use, then
receives every version layer and every record verbatim (:mod:`onemap.store.copy`).
A copy that fails half-way is removed again, so the target is either a whole
copy or no workspace at all. The copy's audit chain is verified before the
result is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from onemap.app.workspace import prepare_relational_tables
from onemap.monitor.service import audit_verify
from onemap.store import copy as store_copy
from onemap.store import init_workspace, open_workspace
from onemap.store import ledgers as ledgers_store


def copy_workspace(source: str | Path, target: str | Path,
                   progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Copy every version, asset, audit row, case, register row, user and setting.

    Parameters
    ----------
    source, target : str or Path
        Workspace locations (``.gpkg`` path or ``postgresql://`` URL); the
        target must not hold a workspace yet.
    progress : callable, optional
        ``progress(step, done, total)``.

    Returns
    -------
    dict
        ``{"source", "target", "versions", "features", "records": {table: rows},
        "audit": {audit verify result on the copy}}``.

    Raises
    ------
    onemap.errors.OneMapError
        The source cannot be opened, the target exists, or the copy failed
        (then nothing is left at the target).
    """
    src = open_workspace(source)
    try:
        settings = src.settings()
        dst = init_workspace(target, name=settings.get("name", ""), region=settings.get("region", ""))
        try:
            prepare_relational_tables(dst)
            ledgers_store.ensure_tables(dst.sql_engine())
            features = store_copy.copy_layers(src, dst, progress)
            if progress:
                progress("复制记录", 0, 1)
            records = store_copy.copy_records(src, dst)
        except BaseException:
            dst.discard()
            raise
        verified = audit_verify(dst)
        out = {"source": src.location, "target": dst.location,
               "versions": sum(len(d.versions) for d in dst.datasets()), "features": features,
               "records": records, "audit": verified}
        dst.close()
        return out
    finally:
        src.close()
