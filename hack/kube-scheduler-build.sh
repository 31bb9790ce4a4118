#!/usr/bin/env bash
# Builds the upstream kube-scheduler into bin/kube-scheduler, for the side-by-side benchmark
# (`npm run bench:e2e`, docs/benchmarks.md). Not part of `make test` or `make testenv`: the
# benchmark runs this script itself when bin/kube-scheduler is missing.
#
# It is k8s.io/kubernetes/cmd/kube-scheduler at the version tools/testenv/go.mod pins, built
# inside that module, whose replace lines already point every staging module at its published
# tag, and whose go.sum already holds every module kube-scheduler needs: nothing is added to
# go.mod or go.sum. Same flags as hack/testenv-build.sh (CGO off, -mod=readonly, -trimpath,
# -ldflags "-s -w" plus the version stamps), same Go build cache, so after `make testenv` most
# packages are already compiled. A stamp makes a second run a no-op; KUBE_SCHEDULER_FORCE=1
# rebuilds anyway.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod="$root/tools/testenv"
bin="$root/bin"
stamp="$bin/.kube-scheduler-stamp"
pkg=k8s.io/kubernetes/cmd/kube-scheduler

command -v go >/dev/null || { echo "kube-scheduler-build: Go is required (https://go.dev/dl/)" >&2; exit 1; }

# Everything that can change the output: the Go toolchain, the target, this script and the pins.
inputs_hash() {
  {
    go version
    go env GOOS GOARCH
    cat "${BASH_SOURCE[0]}" "$root/hack/lib/build-once.sh" | sha256sum
    (cd "$mod" && sha256sum go.mod go.sum)
  } | sha256sum | cut -d' ' -f1
}

up_to_date() {
  [[ -z "${KUBE_SCHEDULER_FORCE:-}" && -f "$stamp" && "$(cat "$stamp")" == "$hash" && -x "$bin/kube-scheduler" ]]
}

hash="$(inputs_hash)"
# shellcheck source=hack/lib/build-once.sh
. "$root/hack/lib/build-once.sh"
build_once kube-scheduler 'bin/kube-scheduler up to date'

cd "$mod"
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0
cores="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"

# The version stamps upstream's release build sets (hack/lib/version.sh), as testenv-build.sh does.
read -r kube_version kube_time < <(go list -m -f '{{.Version}} {{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
[[ "$kube_version" =~ ^v([0-9]+)\.([0-9]+)\. ]] || { echo "odd k8s.io/kubernetes version $kube_version" >&2; exit 1; }
kube_major="${BASH_REMATCH[1]}" kube_minor="${BASH_REMATCH[2]}"
ldflags=(-s -w)
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=(
    -X "$p.gitVersion=$kube_version"
    -X "$p.gitMajor=$kube_major"
    -X "$p.gitMinor=$kube_minor"
    -X "$p.gitCommit="
    -X "$p.gitTreeState=clean"
    -X "$p.buildDate=$kube_time"
  )
done

echo "kube-scheduler: building $pkg $kube_version ($cores cores)"
start=$SECONDS
out="$(mktemp -d "$bin/.kube-scheduler-build.XXXXXX")"
trap 'rm -rf "$out"' EXIT
go build -p "$cores" -trimpath -ldflags "${ldflags[*]}" -o "$out/kube-scheduler" "$pkg"
mv -f "$out/kube-scheduler" "$bin/kube-scheduler"
echo "$hash" >"$stamp"
echo "kube-scheduler: built in $((SECONDS - start))s: $(cd "$bin" && ls -sh kube-scheduler)"
