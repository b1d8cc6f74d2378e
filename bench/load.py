"""Load test of the server: N concurrent clients for S seconds, without and with a concurrent ingest.

Usage::

    .venv/bin/python bench/load.py                      # 50 clients, 60 s per phase, 100 000 patches
    .venv/bin/python bench/load.py --clients 10 --seconds 20 --patches 5000

The workspace (``bench/out/load_<patches>.gpkg``, built with ``onemap sample`` when
missing) is copied to a temporary folder and served by ``uvicorn`` in a
subprocess. Each client loops over the endpoints a map user hits: vector tiles
(z 10–15 around the patches), OGC API items in a small bounding box, identify
at a point, the 三调 statistics, the 体检评估 assessment and a site compliance
check. Statistics and assessment are requested once before the clock starts
(the targets are for cached answers), and one request of each kind warms the
server (versions loaded, tile source and site checker built). Phase 2 runs ``onemap ingest`` of the
DLTB layer (a new version each time) into the served workspace for the whole
phase. Printed per phase and endpoint: requests, p50/p95 in ms, 503 (busy,
with Retry-After), other 5xx, no answer (time-out after 120 s or connection lost), and the
server's peak resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, print_table  # noqa: E402

ENDPOINTS = ["tiles", "items", "identify", "stats", "assess", "check"]
TARGET_MS = {"tiles": 200, "items": 500, "identify": 500, "stats": 1000, "assess": 1000}


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return (int((lon + 180) / 360 * n),
            int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))


def _workspace(patches: int) -> Path:
    from onemap.services import build_sample_workspace

    path = OUT / f"load_{patches}.gpkg"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        print(f"构建样例工作空间 {path}（{patches} 个图斑）…", flush=True)
        build_sample_workspace(path, patches=patches, seed=2024).close()
    return path


def _prepare(src: Path, folder: Path) -> tuple[Path, str, dict, Path, tuple]:
    """Copy the workspace, add a benchmark user, export the DLTB delivery to ingest."""
    import pyogrio

    from onemap.services import prepare_relational_tables
    from onemap.store import open_workspace
    from onemap.store.users import create_token, create_user

    ws = folder / "ws.gpkg"
    shutil.copy(src, ws)
    store = open_workspace(ws)
    prepare_relational_tables(store)
    create_user(store.sql_engine(), "bench", "Bench-load-2026!", role="admin")
    token = create_token(store.sql_engine(), "bench", name="load", scopes=("admin",))
    info = store.version("DLTB")
    dltb = store.read("DLTB", info.version)
    delivery = folder / "DLTB_delivery.gpkg"
    pyogrio.write_dataframe(dltb, delivery, layer="DLTB", driver="GPKG")
    points = dltb.geometry.representative_point()
    centers = np.column_stack([points.x, points.y])
    store.close()
    return ws, token, {"DLTB": info.id, "layer": info.layer}, delivery, centers


class Server:
    """uvicorn in a subprocess, with its resident memory sampled every 0.25 s."""

    def __init__(self, ws: Path, folder: Path):
        self.port = _free_port()
        env = dict(os.environ, ONEMAP_WORKSPACE=str(ws), ONEMAP_TILE_CACHE=str(folder / "tiles"),
                   PYTHONPATH=os.pathsep.join(sys.path))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "onemap.api.app:app_from_env",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"], env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        self.peak_kb = 0
        self._stop = threading.Event()
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                self.proc.kill()
                raise RuntimeError("uvicorn 未能启动")
            time.sleep(0.2)
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _rss_kb(self.proc.pid))
            time.sleep(0.25)

    def reset_peak(self) -> None:
        """Start a new peak (per phase)."""
        self.peak_kb = _rss_kb(self.proc.pid)

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _site(lon: float, lat: float) -> dict:
    d = 0.002
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Feature", "properties": {"name": "压测地块"},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _request(kind: str, ids: dict, centers: np.ndarray, rng: random.Random) -> tuple:
    lon, lat = (float(v) for v in centers[rng.randrange(len(centers))])
    if kind == "tiles":
        z = rng.randint(10, 15)
        x, y = _tile(lon, lat, z)
        return "GET", f"/tiles/{ids['DLTB']}/{z}/{x}/{y}.mvt", None
    if kind == "items":
        d = 0.01
        return "GET", (f"/ogc/collections/{ids['layer']}/items?limit=100&bbox="
                       f"{lon - d},{lat - d},{lon + d},{lat + d}"), None
    if kind == "identify":
        return "GET", f"/api/identify?lon={lon}&lat={lat}&layers={ids['layer']}", None
    if kind == "stats":
        return "GET", "/api/stats", None
    if kind == "assess":
        return "GET", "/api/assess", None
    return "POST", "/api/check?use=工业", _site(lon, lat)


async def _clients(url: str, token: str, n: int, seconds: float, ids: dict,
                   centers: np.ndarray) -> dict[str, dict]:
    results = {k: {"ms": [], "busy": 0, "errors": 0, "timeouts": 0, "other": 0}
               for k in ENDPOINTS}
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        async def one(k: int) -> None:
            rng = random.Random(k)
            i = k
            while time.monotonic() < deadline:
                kind = ENDPOINTS[i % len(ENDPOINTS)]
                i += 1
                method, path, body = _request(kind, ids, centers, rng)
                t0 = time.perf_counter()
                try:
                    r = await client.request(method, path, json=body)
                    code = r.status_code
                except httpx.HTTPError:
                    code = -1
                ms = (time.perf_counter() - t0) * 1000
                rec = results[kind]
                if code == 503:
                    rec["busy"] += 1
                elif code < 0:
                    rec["timeouts"] += 1
                elif code >= 500:
                    rec["errors"] += 1
                elif code >= 400:
                    rec["other"] += 1
                else:
                    rec["ms"].append(ms)

        await asyncio.gather(*(one(k) for k in range(n)))
    return results


def _ingests(ws: Path, delivery: Path, stop: threading.Event, log: list) -> None:
    k = 0
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    while not stop.is_set():
        k += 1
        t0 = time.perf_counter()
        run = subprocess.run([sys.executable, "-c", "from onemap.cli import main; main()",
                              "ingest", str(ws), str(delivery), "--dataset", "DLTB",
                              "--version", f"2090-{k:02d}", "--json"],
                             env=env, capture_output=True, text=True)
        log.append((run.returncode, time.perf_counter() - t0, run.stderr[-300:]))


def _rows(phase: str, results: dict, peak_mib: float) -> list[list]:
    rows = []
    for kind in ENDPOINTS:
        r = results[kind]
        ms = np.array(r["ms"]) if r["ms"] else np.array([np.nan])
        target = TARGET_MS.get(kind)
        p95 = float(np.nanpercentile(ms, 95))
        rows.append([phase, kind, len(r["ms"]), f"{np.nanpercentile(ms, 50):.0f}",
                     f"{p95:.0f}", f"≤{target}" if target else "-",
                     ("ok" if p95 <= target else "MISS") if target else "-",
                     r["busy"], r["other"], r["errors"], r["timeouts"], f"{peak_mib:.0f}"])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--patches", type=int, default=100_000)
    ap.add_argument("--workspace", type=Path, help="已有工作空间（默认构建样例）")
    args = ap.parse_args()
    src = args.workspace or _workspace(args.patches)
    folder = Path(tempfile.mkdtemp(prefix="onemap-load-"))
    rows = []
    try:
        ws, token, ids, delivery, centers = _prepare(src, folder)
        server = Server(ws, folder)
        try:
            with httpx.Client(base_url=server.url, timeout=600,
                              headers={"Authorization": f"Bearer {token}"}) as c:
                warm = random.Random(0)  # versions loaded, tile source and checker built,
                for kind in ENDPOINTS:   # heavy answers cached (as a server after its first users)
                    method, path, body = _request(kind, ids, centers, warm)
                    c.request(method, path, json=body)
            for phase, ingest in (("只读", False), ("读+入库", True)):
                stop, log = threading.Event(), []
                worker = None
                if ingest:
                    worker = threading.Thread(target=_ingests, args=(ws, delivery, stop, log))
                    worker.start()
                server.reset_peak()
                results = asyncio.run(_clients(server.url, token, args.clients, args.seconds,
                                               ids, centers))
                stop.set()
                if worker is not None:
                    worker.join()
                rows += _rows(phase, results, server.peak_kb / 1024)
                if ingest:
                    ok = sum(1 for code, _, _ in log if code == 0)
                    print(f"并发入库：{len(log)} 次，成功 {ok} 次，用时 "
                          + "、".join(f"{s:.0f} s" for _, s, _ in log), flush=True)
                    for code, _, err in log:
                        if code != 0:
                            print(f"  入库失败（{code}）：{err}")
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print_table(f"bench/load.py — {args.clients} 个并发客户端 × {args.seconds:g} s，"
                f"{src.name}；负载 {os.getloadavg()[0]:.1f}（{os.cpu_count()} 核）",
                ["阶段", "接口", "请求数", "p50 ms", "p95 ms", "目标", "达标", "503", "4xx",
                 "5xx", "无应答", "峰值内存 MiB"], rows)


if __name__ == "__main__":
    main()
