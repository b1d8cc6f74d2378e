#!/usr/bin/env bash
# Build the web UI (src/onemap/web: MapLibre GL JS + ECharts, bundled by Vite) into
# src/onemap/web/dist/, which the API serves at `/`. Needs Node.js >= 20.19 and npm.
# Idempotent and fast: skips the build when dist/ was built from the same sources
# (a SHA-256 of the sources is kept in dist/.build-hash). `--force` rebuilds anyway.
set -euo pipefail
cd "$(dirname "$0")/../src/onemap/web"

sources_hash() {
  { find src public field -type f -print0 | sort -z | xargs -0 sha256sum
    sha256sum index.html vite.config.js package.json package-lock.json
  } | sha256sum | cut -d' ' -f1
}

want="$(sources_hash)"
if [ "${1:-}" != "--force" ] && [ -f dist/index.html ] && [ -f dist/.build-hash ] \
   && [ "$(cat dist/.build-hash)" = "$want" ]; then
  echo "网页前端已是最新：src/onemap/web/dist/"
  exit 0
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "构建网页前端需要 Node.js（>= 20.19）和 npm：apt-get install nodejs npm，或使用 NodeSource 的 Node 20/22" >&2
  exit 1
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20 || (a===20 && b<19)) { console.error(`Node.js ${process.versions.node} 太旧：构建需要 >= 20.19`); process.exit(1); }'

# npm ci only when node_modules is missing or older than the lock file
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run build --silent
echo "$want" > dist/.build-hash
echo "网页前端已构建：src/onemap/web/dist/（$(du -sh dist | cut -f1)）"
