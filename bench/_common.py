"""Shared helpers of the benchmarks: timing, peak memory, synthetic patches, tables."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

OUT = Path(__file__).resolve().parent / "out"


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def measure(fn: Callable[[], object]) -> tuple[float, float, object]:
    """Run ``fn`` once; return (seconds, peak extra resident memory in MiB, result).

    The kernel's high-water mark is reset first (``/proc/self/clear_refs``), so the
    peak is that of this call above the memory already resident.
    """
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    before = _status_kb("VmRSS")
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    peak = max(_status_kb("VmHWM") - before, 0) / 1024.0
    return seconds, peak, result


def synthetic_patches(n: int, vertices: int = 29, seed: int = 0) -> np.ndarray:
    """``n`` star-shaped lon/lat polygons of ``vertices`` vertices around Wuzhong (2–40 ha)."""
    rng = np.random.default_rng(seed)
    k = vertices - 1
    ang = np.linspace(0, 2 * np.pi, k, endpoint=False)
    cx = rng.uniform(105.9, 107.6, n)
    cy = rng.uniform(36.6, 38.2, n)
    r = rng.uniform(0.0008, 0.0035, (n, 1)) * rng.uniform(0.75, 1.0, (n, k))
    xy = np.stack([cx[:, None] + r * np.cos(ang), cy[:, None] + r * np.sin(ang)], -1)
    return shapely.polygons(np.concatenate([xy, xy[:, :1]], axis=1))


def print_table(title: str, header: list[str], rows: list[list[object]]) -> None:
    """Print an aligned text table."""
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in cells[1:]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
