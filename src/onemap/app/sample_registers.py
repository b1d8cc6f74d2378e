"""Use case: put the sample's register records (台账样例) into a sample workspace, marked synthetic.

The records come from :func:`onemap.sample.registers.register_records`; each
batch is written to a temporary file and imported through
:func:`onemap.app.ledgers.import_records` (the same checks, audit rows and
占补平衡 entries as a bureau's own import), with ``synthetic=True`` and the
batch's registration time (its age before ``now``).
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from onemap.app.ledgers import import_records
from onemap.monitor.cases import as_datetime
from onemap.sample.config import RegionConfig
from onemap.sample.registers import register_records
from onemap.store.base import Store

#: Who the sample's imports are recorded as.
ACTOR = "onemap sample"


def add_sample_registers(store: Store, layers: dict[str, dict[str, gpd.GeoDataFrame]], cfg: RegionConfig,
                         seed: int, *, now: datetime | str | None = None) -> dict[str, int]:
    """Import the sample's register records; return the number of records per register.

    Parameters
    ----------
    store : Store
        The sample workspace.
    layers : dict
        The sample layers the records are drawn on.
    cfg : RegionConfig
        The region file.
    seed : int
        Random seed of the sample.
    now : datetime or str, optional
        The build time (default now); a batch of age *d* days is registered *d* days before it.
    """
    when = as_datetime(now)
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="onemap-sample-") as folder:
        for n, batch in enumerate(register_records(layers, cfg, seed)):
            path = _write(batch.table, Path(folder) / f"{batch.register}-{n}")
            got: dict[str, Any] = import_records(store, batch.register, path, actor=ACTOR,
                                                 now=when - timedelta(days=batch.age_days), synthetic=True)
            counts[batch.register] = counts.get(batch.register, 0) + got["imported"]
    return counts


def _write(table: Any, stem: Path) -> Path:
    """A batch as GeoJSON (records with geometry) or UTF-8 CSV."""
    if isinstance(table, gpd.GeoDataFrame):
        path = stem.with_suffix(".geojson")
        pyogrio.write_dataframe(table, path, driver="GeoJSON")
    else:
        path = stem.with_suffix(".csv")
        table.to_csv(path, index=False, encoding="utf-8-sig")
    return path
