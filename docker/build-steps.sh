#!/usr/bin/env bash
# The Dockerfile's steps, run on the host (no Docker daemon on the project's machines; CI runs this):
#   1. the build stage: the build context (the Dockerfile's COPY list, .gitignore'd files left out, as
#      .dockerignore does) into a fresh folder, `npm install --ignore-scripts`, `npm run build`, `npm prune --omit=dev`;
#   2. the runtime stage: only package.json, node_modules, dist and docker/entrypoint.sh, in another folder;
#   3. the image's commands from that folder, with the image's environment (APP_ENV=production, …) and
#      production settings: `entrypoint.sh api` answers /readyz and an authenticated request, `entrypoint.sh worker`
#      polls the workflow task queue and every vendor (activity) task queue of a Temporal dev server, SIGTERM stops both within 10 s, and an unknown
#      command exits 64.
# Not run: `docker build` itself, the base image (node:20-bookworm-slim), USER node, the compose file.
# Prints the durations and the runtime stage's size. Stops only what it started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/idv-image-XXXXXX")"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf 'build-steps: %s\n' "$*" >&2; }
die() {
  printf 'build-steps: FAILED: %s\n' "$*" >&2
  for f in "$WORK"/*.log; do [[ -f "$f" ]] && { printf -- '--- last lines of %s\n' "$(basename "$f")" >&2; tail -5 "$f" >&2; }; done
  exit 1
}
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
wait_until() { # what seconds command...
  local what="$1" secs="$2"; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [[ $SECONDS -lt $end ]] || die "$what: not within ${secs}s"
    sleep 1
  done
}

# The Dockerfile must copy every folder `npm run build` compiles (tsconfig.json "include"): a folder
# added there and not here fails the image build only when someone builds it, so check it here.
missing=$(node -e '
  const fs = require("fs");
  const inc = JSON.parse(fs.readFileSync("'"$ROOT"'/tsconfig.json", "utf8")).include;
  const copied = new Set([...fs.readFileSync("'"$ROOT"'/Dockerfile", "utf8").matchAll(/^COPY (\S+) \.\/\1$/gm)].map((m) => m[1]));
  console.log(inc.filter((d) => !copied.has(d)).join(" "));
')
[[ -z "$missing" ]] || die "the Dockerfile does not COPY what tsconfig.json includes: $missing"

# 1. Build stage.
start=$SECONDS
mkdir -p "$WORK/build" "$WORK/app/docker"
cd "$ROOT"
git ls-files -co --exclude-standard -- package.json package-lock.json tsconfig.json $(node -p "require('./tsconfig.json').include.join(' ')") \
  | while read -r f; do [[ -e "$f" && ! -L "$f" ]] && printf '%s\0' "$f"; done | tar --null -T - -cf - | tar -xf - -C "$WORK/build"
cd "$WORK/build"
npm install --no-audit --no-fund --ignore-scripts --loglevel=error >&2
npm run -s build >&2
npm prune --omit=dev --no-audit --no-fund --loglevel=error >&2
build_s=$((SECONDS - start))
log "build stage: ${build_s}s"

# 2. Runtime stage.
mv package.json node_modules dist "$WORK/app/"
cp "$ROOT/docker/entrypoint.sh" "$WORK/app/docker/"
cd "$WORK/app"
log "runtime stage: $(du -sh . | cut -f1) (node_modules $(du -sh node_modules | cut -f1), dist $(du -sh dist | cut -f1))"

# 3. The image's commands, with its environment.
set +e; sh docker/entrypoint.sh bogus 2>/dev/null; rc=$?; set -e
[[ $rc == 64 ]] || die "an unknown command exited $rc, not 64"
CLI="$(bash "$ROOT/temporal-dev/ensure-cli.sh")"
TPORT="$(free_port)"; APORT="$(free_port)"
mapfile -t SA < <(node -p "require('./dist/temporal-dev/search-attributes.js').cliSearchAttributeArgs().join('\n')")
"$CLI" server start-dev --ip 127.0.0.1 --port "$TPORT" --headless --log-level error "${SA[@]}" >"$WORK/temporal.log" 2>&1 &
PIDS+=($!)
wait_until "Temporal dev server" 120 "$CLI" operator namespace describe --namespace default --address "127.0.0.1:$TPORT"
key() { node -p "require('crypto').randomBytes(32).toString('base64')"; }
export NODE_ENV=production APP_ENV=production NODE_NO_WARNINGS=1 WORKER_DEPLOYMENT_NAME=idv WORKER_BUILD_ID=image-check \
  API_HOST=127.0.0.1 API_PORT="$APORT" TEMPORAL_ADDRESS="127.0.0.1:$TPORT" TEMPORAL_NAMESPACE=default \
  API_KEYS="backend:$(node -p "require('crypto').randomBytes(24).toString('hex')")" WEBHOOK_SECRET="$(key)" \
  PUBLIC_BASE_URL=https://idv.example.com PAYLOAD_KEYS="p1:$(key)" AUDIT_KEYS="a1:$(key)" \
  FINWAVE_BASE_URL=https://idgateway.finwave.com/management FINWAVE_CLIENT_TOKEN=image-check \
  EVIDENCE_DIR="$WORK/evidence" AUDIT_DIR="$WORK/audit"
TOKEN="${API_KEYS#backend:}"
run_start=$SECONDS
sh docker/entrypoint.sh api >"$WORK/api.log" 2>&1 &
API_PID=$!; PIDS+=($API_PID)
sh docker/entrypoint.sh worker >"$WORK/worker.log" 2>&1 &
WORKER_PID=$!; PIDS+=($WORKER_PID)
api_ready() { kill -0 "$API_PID" && [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APORT/readyz")" == 200 ]]; }
wait_until "api /readyz" 180 api_ready
code="$(curl -s -o "$WORK/body" -w '%{http_code}' -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$APORT/v1/verifications/finwave:image-check")"
[[ "$code" == 404 ]] && grep -q '"error"' "$WORK/body" || die "GET of an unknown verification answered $code: $(cat "$WORK/body")"
[[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APORT/v1/verifications/finwave:image-check")" == 401 ]] || die "no 401 without a key"
log "api ready in $((SECONDS - run_start))s"
VENDOR_QUEUES=$(node -p "Object.keys(require('./dist/config/vendors').vendors).join(' ')")
polling() {
  kill -0 "$WORKER_PID" || return 1
  # The image's worker is versioned (WORKER_DEPLOYMENT_NAME/WORKER_BUILD_ID) and no version is current yet, so
  # the per-version report lists no poller; the legacy report lists every poller by identity.
  "$CLI" task-queue describe --task-queue idv-workflows --address "127.0.0.1:$TPORT" --legacy-mode 2>/dev/null |
    grep -q "${WORKER_PID}@" || return 1
  for q in $VENDOR_QUEUES; do
    "$CLI" task-queue describe --task-queue "idv-$q" --address "127.0.0.1:$TPORT" --legacy-mode \
      --task-queue-type-legacy activity 2>/dev/null | grep -q "${WORKER_PID}@" || return 1
  done
}
wait_until "worker polling the workflow queue and every vendor task queue" 300 polling
log "worker polling in $((SECONDS - run_start))s"
stop_start=$SECONDS
kill -TERM "$API_PID" "$WORKER_PID"
for pid in "$API_PID" "$WORKER_PID"; do
  end=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null; do [[ $SECONDS -lt $end ]] || die "process $pid still running 10 s after SIGTERM"; sleep 0.2; done
done
log "api and worker stopped on SIGTERM in $((SECONDS - stop_start))s"
log "OK: the image's build steps and its api/worker commands work (total $((SECONDS - start))s)"
