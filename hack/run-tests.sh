#!/usr/bin/env bash
# Runs mocha and ends with one plain summary line, "N passed, N failed", that CI reads.
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
npx mocha "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -Eo '^ *[0-9]+ passing' "$log" | grep -Eo '[0-9]+' | tail -1)
failed=$(grep -Eo '^ *[0-9]+ failing' "$log" | grep -Eo '[0-9]+' | tail -1)
pending=$(grep -Eo '^ *[0-9]+ pending' "$log" | grep -Eo '[0-9]+' | tail -1)
summary="${passed:-0} passed, ${failed:-0} failed"
[ -n "${pending:-}" ] && summary="$summary, $pending skipped"
echo
echo "$summary"
if [ "$rc" -eq 0 ] && [ "${passed:-0}" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$rc"
