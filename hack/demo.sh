#!/usr/bin/env bash
# `make demo`: the operator on a real control plane, end to end. With no cluster configured
# (no reachable $KUBECONFIG) it starts the local one (make cluster); installs the CRDs; starts
# the operator; applies examples/; shows the requests becoming Ready; applies
# examples/preemption/ and shows demo-day (interactive priority) preempting team-ml/training
# (batch priority); runs until Ctrl-C, then stops everything it started.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
kubectl="$root/bin/kubectl"
started_cluster=""
operator_pid=""
watch_pid=""

cleanup() {
  trap - EXIT INT TERM
  if [[ -n "$watch_pid" ]]; then kill -TERM "$watch_pid" 2>/dev/null || true; fi
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

# Preemption: demo-day wants three whole GPU hosts; only two are free while training holds gpu-01.
if ! "$kubectl" wait --for=jsonpath='{.status.phase}'=Ready rr/training -n team-ml --timeout=60s >/dev/null; then
  echo "demo: team-ml/training is not Ready (demo-day applied already, on this cluster?)"
fi
echo "demo: team-ml/training holds gpu-01 at batch priority; demo-day asks for three GPU hosts at interactive priority"
echo "demo: applying examples/preemption/"
"$kubectl" apply -f examples/preemption/
if "$kubectl" wait --for=jsonpath='{.status.phase}'=Ready rr/demo-day -n team-ml --timeout=60s >/dev/null &&
  "$kubectl" wait --for=jsonpath='{.status.phase}'=Pending rr/training -n team-ml --timeout=60s >/dev/null; then
  echo "demo: demo-day is Ready on gpu-01, gpu-02 and gpu-03; training is Pending again:"
else
  echo "demo: demo-day did not preempt training within 60s (see .cluster/operator.log); as things stand:"
fi
"$kubectl" get rr training demo-day -n team-ml
echo "demo: training's Preempted condition says why:"
"$kubectl" get rr training -n team-ml -o jsonpath='{.status.conditions[?(@.type=="Preempted")].message}{"\n"}'
echo
echo "demo: the Events of both:"
"$kubectl" events -n team-ml --for rr/training
"$kubectl" events -n team-ml --for rr/demo-day
echo
echo "demo: what each team holds of its TenantQuota:"
"$kubectl" get tq -A
echo
echo "demo: the operator keeps running. Try: KUBECONFIG=$KUBECONFIG bin/kubectl delete rr notebooks -n team-ml"
echo "demo: or give training its GPUs back: KUBECONFIG=$KUBECONFIG bin/kubectl delete rr demo-day -n team-ml"
echo "demo: watching requests; Ctrl-C stops the operator${started_cluster:+ and the control plane}."
"$kubectl" get rr -A --watch &
watch_pid=$!
wait "$operator_pid"
