#!/usr/bin/env bash
# Brings a fresh machine (Node 20+ and npm only) to where `pnpm dev` and the
# tests run. Idempotent: every step checks first, so running it again is cheap.
#
#   scripts/setup.sh          pnpm (pinned) + workspace dependencies
#   scripts/setup.sh --test   … plus the system tools the tests drive:
#                             Chromium, Python grpcio, h2load, HAProxy
set -euo pipefail

PNPM_VERSION=10.34.9
# Debian packages, each for a real, independent client the tests use.
TEST_PACKAGES=(
  chromium            # the browser test (driven by playwright-core)
  python3-grpcio      # the seed talk's own gRPC stack, as an interop client
  python3-grpc-tools  # generates the Python stubs from our proto
  nghttp2-client      # h2load, the load generator of `pnpm bench`
  haproxy             # the L7 balancer of `pnpm cluster` and its tests
)

cd "$(dirname "$0")/.."

if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm@$PNPM_VERSION"
  npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION"
fi

if [ "${1:-}" = "--test" ]; then
  missing=()
  for pkg in "${TEST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# CI=true makes pnpm refuse to touch the lockfile, so a stale one fails loudly.
pnpm install --prefer-offline --reporter=silent
