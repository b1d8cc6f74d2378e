"""Workspace stores: one contract (:mod:`base`), one backend per kind of database."""

from onemap.store.base import DatasetInfo, Store, VersionInfo, VersionMeta, open_workspace

__all__ = ["DatasetInfo", "Store", "VersionInfo", "VersionMeta", "open_workspace", "init_workspace",
           "build_workspace"]


def init_workspace(path, **kwargs):
    """Create a new workspace at ``path`` and return its store (see :func:`base.init_workspace`)."""
    from onemap.store.base import init_workspace as _init

    return _init(path, **kwargs)


def build_workspace(path, **kwargs):
    """A new workspace that appears at ``path`` only when complete (a context manager).

    ``with build_workspace(path, name=…, region=…) as store:`` fills ``store``;
    if the block fails or the process is killed, nothing appears at ``path``.
    """
    from onemap.store.base import _backend_for

    return _backend_for(path).building(path, **kwargs)
