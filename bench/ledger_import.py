"""Benchmark: importing a register export of 10 000 rows (``onemap ledger import``).

Writes a CSV of ``n`` 补充耕地项目 rows with Chinese headers (state 立项, so no
account entries), imports it into a fresh workspace and checks the audit chain.

Usage: ``.venv/bin/python bench/ledger_import.py [--sizes 1000,10000]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

import pandas as pd  # noqa: E402

from _common import measure, print_table  # noqa: E402
from onemap.app.ledgers import import_records  # noqa: E402
from onemap.store import audit, init_workspace  # noqa: E402


def export(n: int, path: Path) -> None:
    """Write ``n`` project rows as a UTF-8 CSV with Chinese headers."""
    counties = ["640302", "640303", "640323", "640324", "640381"]
    pd.DataFrame({
        "项目编号": [f"P{i:06d}" for i in range(n)],
        "项目名称": [f"补充耕地项目{i}" for i in range(n)],
        "项目类型": "土地整治",
        "行政区代码": [counties[i % 5] for i in range(n)],
        "新增耕地面积": [1000.0 + i for i in range(n)],
        "新增水田面积": 0.0,
        "验收平均等别": 8,
    }).to_csv(path, index=False, encoding="utf-8-sig")


def main() -> None:
    """Run the benchmark and print a table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000")
    sizes = [int(s) for s in ap.parse_args().sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            csv = Path(tmp) / f"p{n}.csv"
            export(n, csv)
            ws = init_workspace(Path(tmp) / f"ws{n}.gpkg", name="bench")
            sec, peak, got = measure(lambda ws=ws, csv=csv: import_records(ws, "BCGDXM", csv, actor="bench"))
            check = audit.verify(ws.sql_engine())
            rows.append([n, f"{sec:.2f}", f"{n / sec:.0f}", f"{peak:.0f}", got["imported"], check.rows,
                         "ok" if check.ok else check.reason])
    print_table("ledger import (BCGDXM, CSV)", ["rows", "seconds", "rows/s", "peak MiB", "imported",
                                                 "audit rows", "audit verify"], rows)


if __name__ == "__main__":
    main()
