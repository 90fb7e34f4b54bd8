#!/usr/bin/env bash
# Runs a root pnpm script on the project's Node and pnpm, after setup:
#   bash scripts/run.sh [--test] SCRIPT [ARGS…]
# --test sets up the test tools too. The root package.json's commands go
# through here, so `npm test` on a machine with Node 20 runs on Node 24.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
setup=()
if [ "${1:-}" = "--test" ]; then setup=(--test); shift; fi
node "$root/scripts/setup.mjs" "${setup[@]}"
export PATH="$root/.tools/bin:$PATH"
cd "$root"
exec pnpm run "$@"
