"""Workspace stores: one contract (:mod:`base`), one backend per kind of database (:mod:`workspace`)."""

from onemap.store.base import DatasetInfo, Store, VersionInfo, VersionMeta
from onemap.store.workspace import backend_for, init_workspace, open_workspace

__all__ = ["DatasetInfo", "Store", "VersionInfo", "VersionMeta", "open_workspace", "init_workspace",
           "build_workspace"]


def build_workspace(path, **kwargs):
    """A new workspace that appears at ``path`` only when complete (a context manager).

    ``with build_workspace(path, name=…, region=…) as store:`` fills ``store``;
    if the block fails or the process is killed, nothing appears at ``path``.
    """
    return backend_for(path).building(path, **kwargs)
