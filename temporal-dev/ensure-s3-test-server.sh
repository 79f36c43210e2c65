#!/usr/bin/env bash
# Installs (once) moto's S3-compatible server (Apache-2.0, from PyPI) into the git-ignored venv
# temporal-dev/.moto/ and prints on stdout ONLY the path of its `moto_server` executable (progress on stderr).
# Used by the tests of the S3 evidence store (test/helpers/s3.ts starts it on a free loopback port).
# Idempotent, serialised with flock. Needs python3 (>= 3.9) with the venv module.
set -euo pipefail

MOTO_VERSION="5.2.5"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
VENV="${MOTO_VENV_DIR:-$SCRIPT_DIR/.moto}"
BIN="$VENV/bin/moto_server"
STAMP="$VENV/.install-stamp"

log() { printf '%s\n' "$*" >&2; }
die() { printf 'ensure-s3-test-server: %s\n' "$*" >&2; exit 1; }
installed() { [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$MOTO_VERSION" ]]; }

if installed; then printf '%s\n' "$BIN"; exit 0; fi
PY="$(command -v python3 || true)"
[[ -n "$PY" ]] || die "python3 is not installed (apt-get install python3 python3-venv)"
mkdir -p "$(dirname "$VENV")"
exec 9>"$(dirname "$VENV")/.moto.lock"
flock 9
if installed; then printf '%s\n' "$BIN"; exit 0; fi

start=$SECONDS
log "Installing moto[server,s3] ${MOTO_VERSION} from PyPI into $VENV (first run only)…"
rm -rf "$VENV"
"$PY" -m venv "$VENV" >&2 || die "python3 -m venv failed (apt-get install python3-venv)"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server,s3]==${MOTO_VERSION}" >&2 || die "pip install moto failed"
[[ -x "$BIN" ]] || die "moto_server was not installed"
printf '%s\n' "$MOTO_VERSION" >"$STAMP"
log "moto installed in $((SECONDS - start))s"
printf '%s\n' "$BIN"
