"""Workspace stores: one contract (:mod:`base`), one backend per kind of database."""

from onemap.store.base import DatasetInfo, Store, VersionInfo, VersionMeta, open_workspace

__all__ = ["DatasetInfo", "Store", "VersionInfo", "VersionMeta", "open_workspace", "init_workspace"]


def init_workspace(path, **kwargs):
    """Create a new workspace at ``path`` and return its store (see :func:`base.init_workspace`)."""
    from onemap.store.base import init_workspace as _init

    return _init(path, **kwargs)
