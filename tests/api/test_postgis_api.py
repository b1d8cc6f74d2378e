"""The server on a PostGIS workspace answers as on the GeoPackage it was copied from.

The session's API workspace (``conftest.workspace``) is copied into a database of
the throw-away cluster (``onemap copy``: its users and tokens come along); the
same requests go to both apps and must give the same answers, tiles byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from onemap.api import create_app
from onemap.app.copy import copy_workspace
from onemap.store.postgis import FILES_DIR_ENV

from ._api_support import auth


@pytest.fixture(scope="module")
def pg_client(workspace, postgis_cluster, tmp_path_factory) -> Iterator[TestClient]:
    url = postgis_cluster.new_database()
    assert copy_workspace(workspace, url)["audit"]["ok"] is True
    files = tmp_path_factory.mktemp("pgfiles")
    mp = pytest.MonkeyPatch()
    mp.setenv(FILES_DIR_ENV, str(files))
    with TestClient(create_app(url)) as c:
        c.files = files
        yield c
    mp.undo()


@pytest.mark.parametrize("path,params", [
    ("/api/catalog", {}),
    ("/api/stats", {"by": "county"}),
    ("/api/fields/DLTB", {}),
    ("/ogc/collections/DLTB_2024", {}),
    ("/ogc/collections/DLTB_2024/items/9", {}),
    ("/ogc/collections/DLTB_2024/items", {"limit": 5, "bbox": "106.2,37.9,106.205,37.905"}),
    ("/api/identify", {"lon": 106.2012, "lat": 37.9012, "layers": "DLTB_2024"}),
    ("/api/search", {"q": "640300102"}),
])
def test_same_answers(client, pg_client, tokens, path, params):
    h = auth(tokens["admin"])
    a, b = client.get(path, headers=h, params=params), pg_client.get(path, headers=h, params=params)
    assert a.status_code == b.status_code == 200, (a.text, b.text)
    ja, jb = a.json(), b.json()
    for doc in (ja, jb):
        if isinstance(doc, dict):
            doc.pop("workspace", None)
    assert ja == jb


def test_same_tile_bytes(client, pg_client, tokens):
    h = auth(tokens["viewer"])
    a = client.get("/tiles/1/10/814/395.mvt", headers=h)
    b = pg_client.get("/tiles/1/10/814/395.mvt", headers=h)
    assert a.status_code == b.status_code == 200
    assert len(a.content) > 0 and a.content == b.content


def test_audit_checkpoint_in_the_files_folder(pg_client, tokens):
    """A PostGIS workspace keeps its checkpoint file in $ONEMAP_FILES_DIR, one name per database."""
    from onemap.monitor.service import audit_checkpoint

    store = pg_client.app.state.ctx.store
    path = store.companion(".audit-checkpoints.jsonl")
    port = store.url.rsplit(":", 1)[1].split("/")[0]
    assert path == pg_client.files / f"127.0.0.1-{port}-{store.url.rsplit('/', 1)[1]}.audit-checkpoints.jsonl"
    assert audit_checkpoint(store)["checkpoints"] == 1 and path.exists()
    got = pg_client.get("/api/audit/verify", headers=auth(tokens["admin"])).json()
    assert (got["ok"], got["checkpoints"]) == (True, 1)
