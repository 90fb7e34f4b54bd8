#!/usr/bin/env bash
# Builds what the container image runs, into OUT_DIR:
#   OUT_DIR/server  the server with its production dependencies only (pnpm deploy)
#   OUT_DIR/web     the built web app (WEB_ROOT)
# deploy/Dockerfile runs it; apps/server/test/deploy/container-bundle.test.ts
# runs it too and starts the result, since no Docker engine runs in CI.
set -euo pipefail
out="${1:?usage: deploy/build-bundle.sh OUT_DIR}"
cd "$(dirname "$0")/.."

pnpm run build
rm -rf "$out"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# --legacy: deploy with the workspace packages linked as they are, rather
# than requiring inject-workspace-packages for the whole workspace.
pnpm --filter @greeter/server deploy --prod --legacy "$out/server" >/dev/null
cp -r apps/web/dist "$out/web"
echo "bundle: $out (server/dist/main.js, web/)"
