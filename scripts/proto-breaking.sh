#!/usr/bin/env bash
# `pnpm proto:breaking [REV]`: is the API contract in the working tree
# wire- and source-compatible with REV (default: main)? Compares the images
# (packages/proto/descriptors, see packages/proto/scripts/build-image.ts),
# since buf cannot compile proto/ offline on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:-main}"
image=packages/proto/descriptors/greeter.binpb
against="$(mktemp --suffix=.binpb)"
trap 'rm -f "$against"' EXIT

node --import tsx packages/proto/scripts/build-image.ts
if git cat-file -e "$rev:$image" 2>/dev/null; then
  git show "$rev:$image" > "$against"
  buf breaking "$image" --against "$against" --path greeter/v1/greeter.proto
else
  # Before images were committed: compare with REV's proto/ sources.
  buf breaking "$image" --against ".git#ref=$rev,subdir=proto" --path greeter/v1/greeter.proto
fi
echo "proto:breaking: no breaking change against $rev"
