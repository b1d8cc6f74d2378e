"""Workspace stores: one contract (:mod:`base`), one backend per kind of database (:mod:`workspace`)."""

from onemap.store.base import DatasetInfo, Store, VersionInfo, VersionMeta
from onemap.store.workspace import init_workspace, open_workspace

__all__ = ["DatasetInfo", "Store", "VersionInfo", "VersionMeta", "open_workspace", "init_workspace"]
