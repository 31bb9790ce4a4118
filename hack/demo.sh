#!/usr/bin/env bash
# `make demo`: the operator on a real control plane, end to end. With no cluster configured
# (no reachable $KUBECONFIG) it starts the local one (make cluster); installs the CRDs; starts
# the operator; applies examples/; shows the requests becoming Ready; runs until Ctrl-C, then
# stops everything it started.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
kubectl="$root/bin/kubectl"
started_cluster=""
operator_pid=""

cleanup() {
  trap - EXIT INT TERM
  if [[ -n "$operator_pid" ]] && kill -0 "$operator_pid" 2>/dev/null; then
    echo; echo "demo: stopping the operator (pid $operator_pid)"
    kill -TERM "$operator_pid" 2>/dev/null || true
    wait "$operator_pid" 2>/dev/null || true
  fi
  if [[ -n "$started_cluster" ]]; then
    echo "demo: stopping the local control plane"
    hack/cluster-down.sh || true
  fi
}
trap cleanup EXIT
trap 'exit 0' INT TERM

if [[ -n "${KUBECONFIG:-}" ]] && "$kubectl" get --raw /readyz --request-timeout=5s >/dev/null 2>&1; then
  echo "demo: using the cluster of KUBECONFIG=$KUBECONFIG"
else
  if [[ ! -f .cluster/pid ]]; then started_cluster=1; fi
  hack/cluster-up.sh
  export KUBECONFIG="$root/.cluster/kubeconfig"
fi

echo "demo: installing the CRDs"
"$kubectl" apply -f crds/
"$kubectl" wait --for=condition=Established crd --all --timeout=60s >/dev/null

mkdir -p .cluster
echo "demo: starting the operator (log: .cluster/operator.log)"
node dist/src/cli/main.js run --config "${CONFIG:-examples/config/operatorconfig.yaml}" \
  --lease-namespace default --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
  >.cluster/operator.log 2>&1 &
operator_pid=$!

echo "demo: applying examples/"
"$kubectl" apply -f examples/
for rr in $("$kubectl" get rr -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{" "}{end}'); do
  ns=${rr%%/*}; name=${rr#*/}
  "$kubectl" wait --for=jsonpath='{.status.phase}' "rr/$name" -n "$ns" --timeout=60s >/dev/null 2>&1 || true
done
echo
"$kubectl" get berth -A
echo
echo "demo: every request has a phase; huge-model stays Pending and says why:"
"$kubectl" get rr huge-model -n team-ml -o jsonpath='{.status.explanation.summary}{"\n"}'
echo
echo "demo: the operator keeps running. Try: KUBECONFIG=$KUBECONFIG bin/kubectl delete rr notebooks -n team-ml"
echo "demo: watching requests; Ctrl-C stops the operator${started_cluster:+ and the control plane}."
"$kubectl" get rr -A --watch &
wait "$operator_pid"
