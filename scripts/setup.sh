#!/usr/bin/env bash
# One command: install everything, build the Wuzhong sample workspace, print its 三调 summary,
# and serve it as a web map at http://127.0.0.1:8000 (Ctrl+C stops the server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
WS="${ONEMAP_WS:-ws/wuzhong.gpkg}"
if [ ! -f "$WS" ]; then
  .venv/bin/onemap sample "$WS" --patches "${ONEMAP_PATCHES:-100000}"
fi
.venv/bin/onemap catalog "$WS"
.venv/bin/onemap stats "$WS" --dataset DLTB --by county --xlsx ws/wuzhong_stats.xlsx
exec .venv/bin/onemap serve "$WS" --host "${ONEMAP_HOST:-127.0.0.1}" --port "${ONEMAP_PORT:-8000}"
