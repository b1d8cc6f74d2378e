"""Fixtures shared by every test folder.

``postgis_cluster``: one throw-away PostgreSQL + PostGIS cluster for the whole
session (temporary folder, 127.0.0.1 only, stopped and removed at the end),
started only by the tests that ask for it. It never skips: a machine without
the Debian packages fails these tests (``scripts/install.sh`` installs them).
"""

from __future__ import annotations

import itertools

import pytest

from onemap.store.pgcluster import Cluster, postgres_cluster

_NAMES = itertools.count(1)


class PostGIS:
    """The session's cluster with a template database that already has the PostGIS extension."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        cluster.psql("CREATE DATABASE onemap_template")
        cluster.psql("CREATE EXTENSION postgis", database="onemap_template")

    def new_database(self, *, with_postgis: bool = True) -> str:
        """A fresh empty database (with the extension made from the template) → its URL."""
        name = f"ws{next(_NAMES)}"
        template = "onemap_template" if with_postgis else "template0"
        self.cluster.psql(f'CREATE DATABASE "{name}" TEMPLATE {template}')
        return self.cluster.url(name)


@pytest.fixture(scope="session")
def postgis_cluster():
    """The session's throw-away PostGIS cluster (:class:`PostGIS`)."""
    with postgres_cluster() as cluster:
        yield PostGIS(cluster)


@pytest.fixture(params=["gpkg", "postgis"])
def workspace_location(request, tmp_path):
    """A location for a new workspace on each backend: a .gpkg path, or an empty database URL."""
    if request.param == "gpkg":
        return str(tmp_path / "ws.gpkg")
    return request.getfixturevalue("postgis_cluster").new_database()
