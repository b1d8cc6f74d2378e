"""Open or create a workspace: the backend is chosen by the location.

A ``postgresql://USER@HOST:PORT/DB`` URL (also ``postgres://`` and
``postgresql+psycopg://``) is a PostGIS workspace
(:class:`~onemap.store.postgis.PostGISStore`); anything else is a GeoPackage
file (:class:`~onemap.store.gpkg.GeoPackageStore`). This module is the only
place that knows both backends; everything else receives a
:class:`~onemap.store.base.Store`.
"""

from __future__ import annotations

from pathlib import Path

from onemap.store.base import Store
from onemap.store.gpkg import GeoPackageStore
from onemap.store.postgis import PostGISStore, is_url


def backend_for(location: str | Path) -> type[GeoPackageStore] | type[PostGISStore]:
    """The backend class of a location: PostGIS for a ``postgresql://`` URL, else GeoPackage."""
    return PostGISStore if is_url(location) else GeoPackageStore


def open_workspace(location: str | Path) -> Store:
    """Open an existing workspace.

    Parameters
    ----------
    location : str or Path
        A ``.gpkg`` file (the embedded default) or a PostGIS database
        ``postgresql://USER@HOST:PORT/DB``.

    Raises
    ------
    onemap.errors.WorkspaceError
        If there is no workspace there (or the database cannot be reached).
    """
    return backend_for(location).open(str(location) if is_url(location) else location)


def init_workspace(location: str | Path, *, name: str = "", region: str = "") -> Store:
    """Create a new, empty workspace.

    Parameters
    ----------
    location : str or Path
        Where to create it; a path ending in ``.gpkg`` or a folder (then
        ``workspace.gpkg`` inside it), or an existing empty PostgreSQL
        database ``postgresql://USER@HOST:PORT/DB`` (no local file is written).
    name : str
        Human name of the workspace, e.g. ``"吴忠市自然资源一张图"``.
    region : str
        Administrative code of the region it covers, e.g. ``"640300"``.
    """
    return backend_for(location).create(str(location) if is_url(location) else location,
                                        name=name, region=region)
