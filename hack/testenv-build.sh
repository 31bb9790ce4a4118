#!/usr/bin/env bash
# Builds the test control plane tools from tools/testenv into bin/:
#   bin/kube-controlplane  kube-apiserver with etcd embedded (tools/testenv/cmd/controlplane)
#   bin/kubectl            upstream kubectl
#   bin/helm               upstream helm
# All from the Go modules pinned in tools/testenv/go.mod and go.sum, fetched through the Go
# module proxy: nothing prebuilt is downloaded. A stamp holding a hash of the sources, go.sum and
# the Go version makes a second run a no-op; the normal Go build cache makes a rebuild after a
# small change quick. Set TESTENV_FORCE=1 to rebuild anyway.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod="$root/tools/testenv"
bin="$root/bin"
stamp="$bin/.testenv-stamp"
binaries=(kube-controlplane kubectl helm)

command -v go >/dev/null || { echo "testenv-build: Go is required (https://go.dev/dl/)" >&2; exit 1; }

# Everything that can change the output. `go env` covers GOOS/GOARCH/toolchain.
inputs_hash() {
  {
    go version
    go env GOOS GOARCH
    cat "${BASH_SOURCE[0]}" "$root/hack/lib/build-once.sh" | sha256sum
    (cd "$mod" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 |
      sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}

up_to_date() {
  [[ -z "${TESTENV_FORCE:-}" && -f "$stamp" && "$(cat "$stamp")" == "$hash" ]] || return 1
  local b
  for b in "${binaries[@]}"; do [[ -x "$bin/$b" ]] || return 1; done
}

hash="$(inputs_hash)"
# shellcheck source=hack/lib/build-once.sh
. "$root/hack/lib/build-once.sh"
build_once testenv 'bin/{kube-controlplane,kubectl,helm} up to date'

cd "$mod"
# -mod=readonly: build exactly what go.mod/go.sum say, never edit them on a CI machine.
# -buildvcs=false: the binaries describe the Kubernetes release, not this repository's commit.
# CGO off, as upstream builds kube-apiserver and kubectl: no C compiler needed, static binaries.
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0
cores="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"

# The version stamps upstream's release build sets (hack/lib/version.sh, helm's Makefile),
# taken from the pinned modules so that /version, `kubectl version` and `helm version` tell
# the truth. The build date is the release's publication time, so the binaries are reproducible.
# The upstream git commit is not known from a module, so it stays empty rather than invented.
read -r kube_version kube_time < <(go list -m -f '{{.Version}} {{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
helm_version="$(go list -m -f '{{.Version}}' helm.sh/helm/v4)"
[[ "$kube_version" =~ ^v([0-9]+)\.([0-9]+)\. ]] || { echo "odd k8s.io/kubernetes version $kube_version" >&2; exit 1; }
kube_major="${BASH_REMATCH[1]}" kube_minor="${BASH_REMATCH[2]}"

ldflags=(-s -w)
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=(
    -X "$pkg.gitVersion=$kube_version"
    -X "$pkg.gitMajor=$kube_major"
    -X "$pkg.gitMinor=$kube_minor"
    -X "$pkg.gitCommit="
    -X "$pkg.gitTreeState=clean"
    -X "$pkg.buildDate=$kube_time"
  )
done
ldflags+=(
  -X "helm.sh/helm/v4/internal/version.version=$helm_version"
  -X "helm.sh/helm/v4/internal/version.metadata="
  -X "helm.sh/helm/v4/internal/version.gitCommit="
  -X "helm.sh/helm/v4/internal/version.gitTreeState=clean"
)

echo "testenv: building kube-controlplane and kubectl $kube_version, helm $helm_version ($cores cores; the first build takes a while)"
start=$SECONDS
out="$(mktemp -d "$bin/.testenv-build.XXXXXX")"
trap 'rm -rf "$out"' EXIT
# One `go build` for all three: they share most packages, so each is compiled once.
go build -p "$cores" -trimpath -ldflags "${ldflags[*]}" -o "$out/" ./cmd/controlplane ./cmd/kubectl ./cmd/helm
mv -f "$out/controlplane" "$bin/kube-controlplane"
mv -f "$out/kubectl" "$bin/kubectl"
mv -f "$out/helm" "$bin/helm"
echo "$hash" >"$stamp"
echo "testenv: built in $((SECONDS - start))s: $(cd "$bin" && ls -sh "${binaries[@]}" | tr '\n' ' ')"
