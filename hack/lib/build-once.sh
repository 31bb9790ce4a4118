# Sourced by hack/testenv-build.sh and hack/kube-scheduler-build.sh: skip a build whose outputs
# are current, and run one Go build of tools/testenv at a time. Both build from the same module
# on a small machine, so whichever comes second waits, then finds its outputs current or the
# shared packages in the Go build cache. The caller defines `bin` and `up_to_date`.

# build_once LABEL DONE_MESSAGE: exits 0 when up to date (now or after waiting for another build);
# otherwise returns holding the lock until the calling script ends.
build_once() {
  local label=$1 done_message=$2
  if up_to_date; then
    echo "$label: $done_message"
    exit 0
  fi
  mkdir -p "$bin"
  if command -v flock >/dev/null; then
    exec 9>"$bin/.testenv-build.lock"
    if ! flock -n 9; then
      echo "$label: another Go build of tools/testenv is running; waiting for it"
      flock 9
      if up_to_date; then
        echo "$label: $done_message"
        exit 0
      fi
    fi
  fi
}
