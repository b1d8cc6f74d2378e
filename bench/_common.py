"""Shared helpers of the benchmarks: timing, peak memory, synthetic patches, tables."""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
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


def _cpu_seconds() -> float:
    """CPU time of this process (every thread) and of its reaped children, user + system."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def route_stats(fn: Callable[[], object]) -> tuple[dict, object]:
    """Run ``fn`` once in this process; return its costs and its result.

    Meant for a process that runs one route only (see :func:`isolated`): the peak of the
    process includes its input, the peak of the call is measured above what was resident
    before it (the kernel's high-water mark is reset first).

    Returns
    -------
    stats : dict
        ``wall_s``, ``cpu_s`` (all threads and reaped children), ``rss_before_mib``,
        ``peak_call_mib`` (above ``rss_before_mib``) and ``peak_process_mib``.
    result : object
        What ``fn`` returned.
    """
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    before = _status_kb("VmRSS")
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    result = fn()
    wall, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    hwm = _status_kb("VmHWM")
    stats = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
             "rss_before_mib": round(before / 1024.0), "peak_call_mib": round(max(hwm - before, 0) / 1024.0),
             "peak_process_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)}
    return stats, result


def isolated(script: str | Path, args: list[str]) -> dict:
    """Run one route of a benchmark script in a fresh Python process; return its JSON report.

    The child is ``python SCRIPT ARGS…``; it must print its report as one JSON object on the
    last line of its standard output. A fresh process per route keeps one route's memory and
    caches out of the next route's figures.
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{Path(script).name} {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


def load_average() -> float:
    """The 1-minute load average (the machine may be shared: every report prints it)."""
    return round(os.getloadavg()[0], 2)


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
