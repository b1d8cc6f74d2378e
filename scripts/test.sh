#!/usr/bin/env bash
# Run the whole test suite (after scripts/setup.sh or scripts/install.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest -q "$@"
