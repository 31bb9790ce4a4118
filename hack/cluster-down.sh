#!/usr/bin/env bash
# Stops the control plane hack/cluster-up.sh started: SIGTERM to the PID in .cluster/pid, wait
# for it to exit (it stops kube-apiserver, then etcd, and removes its data and kubeconfig), and
# SIGKILL only if it has not gone after a grace period.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.cluster"
pidfile="$dir/pid"
datadir="$dir/data"
grace="${BERTH_CLUSTER_STOP_GRACE:-30}"

# Ours only if its command line names our data directory: a stale PID may belong to anything.
pid="$(cat "$pidfile" 2>/dev/null || true)"
if [[ -z "$pid" ]] || ! tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$datadir"; then
  # No (valid) pid file: a control plane started for this checkout whose pid file was lost.
  pid="$(pgrep -f -- "kube-controlplane --data-dir $datadir " | head -n 1 || true)"
fi
if [[ -z "$pid" ]]; then
  echo "cluster-down: not running"
  rm -rf "$pidfile" "$dir/kubeconfig" "$datadir"
  exit 0
fi

kill -TERM "$pid"
deadline=$((SECONDS + grace))
while kill -0 "$pid" 2>/dev/null; do
  if ((SECONDS >= deadline)); then
    echo "cluster-down: pid $pid still running after ${grace}s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    break
  fi
  sleep 0.1
done
# After a SIGKILL nothing cleaned up; after a clean exit these are gone already.
rm -rf "$pidfile" "$dir/kubeconfig" "$datadir"
echo "cluster-down: stopped (pid $pid)"
