#!/usr/bin/env bash
# Starts a local test control plane (bin/kube-controlplane: kube-apiserver + embedded etcd on
# 127.0.0.1) in the background and waits until it is ready. Idempotent: when one is already
# running for this checkout, it waits for it to be ready and does nothing else.
#   .cluster/pid              its PID (hack/cluster-down.sh stops it)
#   .cluster/kubeconfig       admin kubeconfig: export KUBECONFIG=$PWD/.cluster/kubeconfig
#   .cluster/controlplane.log its log
# BERTH_CLUSTER_PORT picks the API server port (default: a free one).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.cluster"
pidfile="$dir/pid"
kubeconfig="$dir/kubeconfig"
log="$dir/controlplane.log"
datadir="$dir/data"
timeout="${BERTH_CLUSTER_TIMEOUT:-120}"

# The PID of the control plane serving this checkout: the one in the pid file if that process
# is ours (a stale PID may belong to anything by now), else one whose command line names our
# data directory (say, the pid file was deleted), which is then adopted.
find_running() {
  local pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$datadir"; then
    echo "$pid"
    return
  fi
  pid="$(pgrep -f -- "kube-controlplane --data-dir $datadir " | head -n 1 || true)"
  if [[ -n "$pid" ]]; then
    echo "$pid" >"$pidfile"
    echo "$pid"
  fi
}

healthy() {
  [[ -f "$kubeconfig" ]] && "$root/bin/kubectl" --kubeconfig "$kubeconfig" get --raw /readyz \
    --request-timeout=5s >/dev/null 2>&1
}

wait_ready() {
  local pid="$1" deadline=$((SECONDS + timeout))
  until healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "cluster-up: the control plane exited; last lines of $log:" >&2
      tail -n 30 "$log" >&2 || true
      rm -f "$pidfile"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "cluster-up: not ready after ${timeout}s (pid $pid still running; see $log, or run hack/cluster-down.sh)" >&2
      return 1
    fi
    sleep 0.2
  done
}

"$root/hack/testenv-build.sh" >&2
mkdir -p "$dir"

pid="$(find_running)"
if [[ -n "$pid" ]]; then
  wait_ready "$pid" # it may still be starting
  echo "cluster-up: already running (pid $pid); export KUBECONFIG=$kubeconfig"
  exit 0
fi

# Not running: clear what a crashed run may have left, then start afresh.
rm -rf "$pidfile" "$kubeconfig" "$datadir"
args=(--data-dir "$datadir" --kubeconfig "$kubeconfig")
[[ -n "${BERTH_CLUSTER_PORT:-}" ]] && args+=(--port "$BERTH_CLUSTER_PORT")
# In its own session (setsid), so that a Ctrl-C in the terminal that ran `make cluster` does not
# reach it later, with no ties to this shell's terminal (nohup, redirections). `exec` keeps the
# PID: $! is the control plane itself, not a wrapper.
(exec setsid nohup "$root/bin/kube-controlplane" "${args[@]}" </dev/null >"$log" 2>&1) &
pid=$!
echo "$pid" >"$pidfile"
wait_ready "$pid"
server="$(sed -n 's/^controlplane ready .*"server":"\([^"]*\)".*/\1/p' "$log" | tail -n 1)"
echo "cluster-up: ready at $server (pid $pid); export KUBECONFIG=$kubeconfig"
