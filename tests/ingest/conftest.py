import pytest

from builders import dltb_frame
from onemap.store import init_workspace


@pytest.fixture
def workspace(tmp_path):
    return init_workspace(tmp_path / "ws.gpkg", name="测试")


@pytest.fixture
def make_dltb():
    return dltb_frame
