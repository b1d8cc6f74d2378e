#!/usr/bin/env bash
# Install everything OneMap needs on a fresh Debian machine (run as root or with sudo):
# system packages (CJK fonts), a virtualenv in .venv, and the Python dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

# libreoffice-writer-nogui + poppler-utils: the tests render every DOCX report to PDF and page images.
APT_PACKAGES=(fonts-noto-cjk chromium libreoffice-writer-nogui poppler-utils postgresql postgresql-15-postgis-3)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "安装系统软件包：${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY="${PYTHON:-python3}"
"$PY" - <<'PYCHECK'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"需要 Python 3.11 或更新版本，当前为 {sys.version.split()[0]}")
PYCHECK

if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv
    rm -rf .venv
    "$PY" -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'

# The web UI (MapLibre GL JS + ECharts from npm), built into src/onemap/web/dist/.
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm
fi
bash scripts/build_web.sh
echo "安装完成：.venv/bin/onemap"
