#!/usr/bin/env bash
# Hostile input against the whole OpenAPI: schemathesis (PyPI) generates requests for every operation
# (valid and invalid bodies, parameters, headers) against the real service on free ports, with our API
# key, and fails on any 5xx (the not_a_server_error check). Bounded: FUZZ_MAX_EXAMPLES per operation
# and FUZZ_TIME_LIMIT seconds overall (a run cut by the time limit fails). Prints the test-case count.
#
#   bash test/fuzz/schemathesis.sh          # from the project root; installs schemathesis into .venv-fuzz/ once
set -euo pipefail
cd "$(dirname "$0")/../.."
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-30}"
TIME_LIMIT="${FUZZ_TIME_LIMIT:-420}"
VENV=.venv-fuzz

# A venv moved from another folder keeps dead interpreter paths: rebuild it when `st` does not run.
if ! "$VENV/bin/st" --version >/dev/null 2>&1; then
  echo "Installing schemathesis into $VENV (PyPI)…"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q schemathesis
fi

LOG="$(mktemp)"
node -r ts-node/register/transpile-only test/fuzz/serve.ts >"$LOG" 2>&1 &
SERVER=$!
cleanup() { kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -f "$LOG"; }
trap cleanup EXIT

for _ in $(seq 1 120); do
  grep -q '^API ' "$LOG" && break
  if ! kill -0 "$SERVER" 2>/dev/null; then cat "$LOG" >&2; exit 1; fi
  sleep 1
done
API="$(grep '^API ' "$LOG" | head -1 | cut -d' ' -f2)"
[ -n "$API" ] || { echo "the fuzz server did not start" >&2; cat "$LOG" >&2; exit 1; }
echo "Fuzzing $API/openapi.json (max $MAX_EXAMPLES examples per operation, ${TIME_LIMIT}s)…"

OUT="$(mktemp)"
set +e
timeout --signal=INT "$TIME_LIMIT" "$VENV/bin/st" run "$API/openapi.json" \
  --checks not_a_server_error \
  --header "Authorization: Bearer test-key-0123456789abcdef" \
  --max-examples "$MAX_EXAMPLES" \
  --request-timeout 30 \
  --workers 1 \
  --no-color | tee "$OUT"
STATUS=${PIPESTATUS[0]}
set -e
CASES="$(grep -A1 '^Test cases:' "$OUT" | tail -1 | sed 's/^ *//')"
# A failed check (a 5xx) fails the run; so does no summary at all (the time limit, a crash). A run whose
# only errors are schemathesis' own (e.g. "Runtime Error" in its generator) passes with a warning.
FAILED=0
if grep -q 'failed' <<<"$CASES" || grep -qi 'server error' "$OUT" || [ -z "$CASES" ]; then FAILED=1; fi
rm -f "$OUT"
echo "schemathesis: exit $STATUS; test cases: ${CASES:-?}"
if [ "$FAILED" = 1 ]; then exit 1; fi
if [ "$STATUS" != 0 ]; then echo "warning: schemathesis reported errors of its own (no failed check, no 5xx)"; fi
exit 0
