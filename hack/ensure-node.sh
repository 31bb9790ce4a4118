#!/usr/bin/env bash
# Makes a Node.js >= 22.19 available. A machine whose own node is new enough is used as is;
# otherwise Node 24 LTS comes from the npm registry (the node-<os>-<arch> package ships the
# official binary) into the git-ignored bin/, which the Makefile puts first on PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
want=${BERTH_NODE_VERSION:-24.21.0}
bin="$root/bin"

new_enough() {
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)' 2>/dev/null
}

if [ -x "$bin/node" ] && new_enough "$bin/node"; then exit 0; fi
if sys=$(PATH=$(echo "$PATH" | tr ':' '\n' | grep -vx "$bin" | paste -sd:) command -v node) && new_enough "$sys"; then
  exit 0
fi

case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "unsupported OS $(uname -s)" >&2; exit 1 ;; esac
case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) echo "unsupported arch $(uname -m)" >&2; exit 1 ;; esac
pkg="node-$os-$arch"
echo "ensure-node: the machine's node is older than 22.19; installing $pkg@$want into bin/" >&2
mkdir -p "$bin/.node"
npm install --no-save --no-package-lock --prefix "$bin/.node" "$pkg@$want" >&2
ln -sf ".node/node_modules/$pkg/bin/node" "$bin/node"
new_enough "$bin/node"
