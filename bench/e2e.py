"""Benchmark: the time a user waits, end to end, against a bare read of the same data.

Each step is a fresh process, as a user runs it: the CLI command (reading the workspace,
computing, writing its output) beside the bare Arrow read of the GeoPackage layers it
needs (``pyogrio.read_arrow``, the fastest way to get the rows out of the file), with
wall time, CPU time (user + system of the process and its children) and peak resident
memory (``ru_maxrss`` of the process, from ``wait4``).

Steps, on the sample of ``--patches`` (built first, timed):

- ``onemap sample`` (target at 1 M: ≤ 60 s);
- ``onemap stats`` and ``onemap tabulate`` against a bare read of DLTB (targets:
  stats ≤ 1.2×, tabulate ≤ 2×);
- ``onemap changes --from BASE --to CHANGE`` (on a copy: it writes a change set)
  against a bare read of both DLTB versions (target ≤ 2×);
- ``onemap ingest`` of DLTB exported as a GeoPackage into a fresh workspace, against a
  bare read of that file (targets at 1 M: ≤ 40 s, ≤ 2 GiB).

The targets are those of the speed issue (#16); today's figures are what they are: the
table says PASS or FAIL, never hides a step.

Usage::

    .venv/bin/python bench/e2e.py                       # 100 000 patches
    .venv/bin/python bench/e2e.py --patches 1000000
    .venv/bin/python bench/e2e.py --workspace WS.gpkg   # an existing sample, not rebuilt

Results are printed and saved to ``bench/out/e2e.json`` (keyed by size).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

from _common import OUT, load_average, print_table  # noqa: E402

ONEMAP = [str(Path(sys.executable).with_name("onemap"))]
BARE_READ = ("import sys, pyogrio\n"
             "for layer in sys.argv[2:]:\n"
             "    meta, table = pyogrio.read_arrow(sys.argv[1], layer=layer)\n"
             "    print(layer, table.num_rows)\n")


def measured(cmd: list[str], cwd: Path) -> dict:
    """Run ``cmd``; read its output; reap it with ``wait4`` to get its own resource usage."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err).pid
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        out.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{err.read().decode(errors='replace')[-3000:]}")
        tail = out.read().decode(errors="replace")[-200:]
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024), "stdout_tail": tail}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patches", type=int, default=100_000)
    parser.add_argument("--workspace", type=Path, help="an existing sample workspace (not rebuilt, not timed)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    load0 = load_average()
    tmp = Path(tempfile.mkdtemp(prefix="onemap-bench-e2e-"))
    results: dict = {"patches": args.patches, "cpus": os.cpu_count(), "load_average_at_start": load0}
    rows: list[list[object]] = []

    def row(step: str, res: dict, base: dict | None, target: float | None, absolute: str = "") -> None:
        ratio = res["wall_s"] / base["wall_s"] if base else None
        cpu_ratio = res["cpu_s"] / base["cpu_s"] if base and base["cpu_s"] else None
        verdict = ""
        if target is not None and ratio is not None:
            verdict = f"{'PASS' if ratio <= target else 'FAIL'} (≤ {target}× bare read)"
        if absolute:
            verdict = (verdict + "; " if verdict else "") + absolute
        rows.append([step, f"{res['wall_s']:.2f}", f"{res['cpu_s']:.2f}", res["peak_rss_mib"],
                     f"{ratio:.2f}" if ratio else "", f"{cpu_ratio:.2f}" if cpu_ratio else "", verdict])
        results[step] = res | ({"ratio_wall": round(ratio, 2)} if ratio else {})

    try:
        if args.workspace:
            ws = args.workspace.resolve()
        else:
            ws = tmp / "sample.gpkg"
            res = measured(ONEMAP + ["sample", str(ws), "--patches", str(args.patches)], tmp)
            ok = res["wall_s"] <= 60
            row("onemap sample", res, None, None,
                f"{'PASS' if ok else 'FAIL'} (≤ 60 s)" if args.patches >= 1_000_000 else "target ≤ 60 s at 1 M")
        import pyogrio

        layers = sorted(str(name) for name, _ in pyogrio.list_layers(ws) if str(name).startswith("DLTB_"))
        base_layer, change_layer = layers[0], layers[-1]
        base_v, change_v = base_layer.split("_", 1)[1], change_layer.split("_", 1)[1]
        n = pyogrio.read_info(ws, layer=change_layer)["features"]
        results["dltb_features"] = n

        bare_one = measured([sys.executable, "-c", BARE_READ, str(ws), change_layer], tmp)
        row(f"bare read {change_layer}", bare_one, None, None)
        row("onemap stats", measured(ONEMAP + ["stats", str(ws), "--json"], tmp), bare_one, 1.2)
        row("onemap tabulate", measured(ONEMAP + ["tabulate", str(ws), "--json"], tmp), bare_one, 2.0)

        bare_two = measured([sys.executable, "-c", BARE_READ, str(ws), base_layer, change_layer], tmp)
        row(f"bare read {base_layer} + {change_layer}", bare_two, None, None)
        copy = tmp / "changes.gpkg"
        shutil.copy(ws, copy)
        row("onemap changes", measured(ONEMAP + ["changes", str(copy), "--from", base_v, "--to", change_v,
                                                 "--json"], tmp), bare_two, 2.0)
        copy.unlink()

        delivered = tmp / "dltb_delivered.gpkg"
        frame = pyogrio.read_dataframe(ws, layer=base_layer)
        pyogrio.write_dataframe(frame, delivered, layer="DLTB")
        del frame
        bare_file = measured([sys.executable, "-c", BARE_READ, str(delivered), "DLTB"], tmp)
        row("bare read of the delivered file", bare_file, None, None)
        target = tmp / "ingest.gpkg"
        subprocess.run(ONEMAP + ["init", str(target)], check=True, capture_output=True)
        res = measured(ONEMAP + ["ingest", str(target), str(delivered), "--dataset", "DLTB",
                                 "--version", base_v, "--json"], tmp)
        ok = res["wall_s"] <= 40 and res["peak_rss_mib"] <= 2048
        row("onemap ingest", res, bare_file, None,
            f"{'PASS' if ok else 'FAIL'} (≤ 40 s, ≤ 2 GiB)" if n >= 1_000_000 else "target ≤ 40 s, ≤ 2 GiB at 1 M")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    results["load_average_at_end"] = load_average()
    print_table(f"End to end on the sample ({results.get('dltb_features', '?'):,} DLTB patches, "
                f"{os.cpu_count()} CPUs), each step a fresh process",
                ["step", "wall s", "CPU s", "peak RSS MiB", "÷ bare read (wall)", "÷ bare read (CPU)", "target"],
                rows)
    print(f"load average (1 min) at start {load0}, at end {results['load_average_at_end']}")
    OUT.mkdir(exist_ok=True)
    path = OUT / "e2e.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved[str(args.patches)] = results
    path.write_text(json.dumps(saved, indent=1, ensure_ascii=False))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
