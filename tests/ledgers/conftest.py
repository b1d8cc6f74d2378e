import pandas as pd
import pytest

from onemap.store import init_workspace


@pytest.fixture
def workspace(tmp_path):
    return init_workspace(tmp_path / "ws.gpkg", name="测试")


@pytest.fixture
def write_csv(tmp_path):
    """Write rows (dicts with Chinese headers) as a CSV in the given encoding."""

    def write(name: str, rows: list[dict], encoding: str = "utf-8-sig"):
        path = tmp_path / name
        pd.DataFrame(rows).to_csv(path, index=False, encoding=encoding)
        return path

    return write
