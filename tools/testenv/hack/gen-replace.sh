#!/usr/bin/env bash
# Pins k8s.io/kubernetes in ../go.mod: its require line, the release's `go` and `godebug` lines,
# and one replace line per staging module.
#
# Why: k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/apiserver, ...) at
# v0.0.0 and points them at ./staging/src/... with replace lines that only work inside its own
# repository (which is also why `go install k8s.io/kubernetes/...` cannot work). A module that
# imports it has to replace each of them with the published tag: v1.X.Y is published as v0.X.Y.
# Typing that list by hand drifts from the release, so we read it from the release's own go.mod,
# fetched with the ordinary `go mod download`, and apply it with `go mod edit`.
#
# Usage: tools/testenv/hack/gen-replace.sh [v1.X.Y]   (default: the version go.mod requires now)
# Afterwards: cd tools/testenv && go mod tidy
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

version="${1:-}"
if [[ -z "$version" ]]; then
  version="$(awk '($1 == "k8s.io/kubernetes" || ($1 == "require" && $2 == "k8s.io/kubernetes")) {
    for (i = 1; i <= NF; i++) if ($i ~ /^v1\./) { print $i; exit } }' go.mod)"
fi
[[ "$version" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "need a stable v1.X.Y, got '$version'" >&2; exit 1; }
staging_version="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"

# Downloading the whole release (not just its go.mod) makes a version whose zip the proxy cannot
# serve fail here rather than in the build. Run outside our module so that our own, possibly
# half-edited, go.mod does not get in the way.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
download="$(cd "$scratch" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$version" || true)"
if grep -q '"Error"' <<<"$download"; then
  echo "cannot use k8s.io/kubernetes@$version:" >&2
  echo "$download" >&2
  exit 1
fi
release_mod="$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$download")"
[[ -f "$release_mod" ]] || { echo "no go.mod for k8s.io/kubernetes@$version" >&2; exit 1; }

go_version="$(awk '$1 == "go" { print $2; exit }' "$release_mod")"
godebug="$(awk '$1 == "godebug" && NF == 2 { print $2; exit }' "$release_mod")"

# `k8s.io/x => ./staging/src/k8s.io/x` in the release becomes `k8s.io/x => k8s.io/x v0.X.Y` here.
# Replacements of modules nothing requires (sample-*) are kept too; Go ignores unused ones.
staging=($(awk '$2 == "=>" && $3 ~ /^\.\/staging\/src\// { print $1 }' "$release_mod" | sort -u))
((${#staging[@]} > 0)) || { echo "no staging replace lines in $release_mod" >&2; exit 1; }

edits=(-go="$go_version" -require="k8s.io/kubernetes@$version")
[[ -n "$godebug" ]] && edits+=(-godebug="$godebug")
# Drop the replace lines (and their comment) a previous run wrote (k8s.io/x => k8s.io/x v0.*), so that a staging
# module the new release no longer has does not linger.
for old in $(awk '$2 == "=>" && $1 == $3 && $1 ~ /^k8s\.io\// && $4 ~ /^v0\./ { print $1 }' go.mod); do
  edits+=(-dropreplace="$old")
done
go mod edit "${edits[@]}"
# Appended as one block (go mod edit would write one `replace` statement per line).
{
  echo
  echo "// Staging modules of k8s.io/kubernetes $version at their published tag; written by hack/gen-replace.sh."
  echo "replace ("
  for m in "${staging[@]}"; do printf '\t%s => %s %s\n' "$m" "$m" "$staging_version"; done
  echo ")"
} >>go.mod
go mod edit -fmt

echo "pinned k8s.io/kubernetes $version: ${#staging[@]} staging modules at $staging_version, go $go_version${godebug:+, godebug $godebug}" >&2
