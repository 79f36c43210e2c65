#!/usr/bin/env bash
# Builds (once) the Temporal server and its SQL schema tool from the Go module proxy into the git-ignored
# temporal-dev/.bin-server/ and prints on stdout ONLY that directory's absolute path (progress on stderr).
#   temporal-dev/.bin-server/server  go.temporal.io/server/cmd/server@v1.29.1 (the version the CLI v1.5.1 embeds)
#   temporal-dev/.bin-server/sql     go.temporal.io/server/cmd/tools/sql@v1.29.1 (temporal-sql-tool)
# Idempotent and serialised with flock; only the Go toolchain and the module proxy are needed.
set -euo pipefail

SERVER_VERSION="v1.29.1"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
BIN_DIR="${TEMPORAL_SERVER_BIN_DIR:-$SCRIPT_DIR/.bin-server}"
STAMP="$BIN_DIR/.version"

log() { printf '%s\n' "$*" >&2; }
die() { printf 'ensure-server: %s\n' "$*" >&2; exit 1; }

installed() { [[ -x "$BIN_DIR/server" && -x "$BIN_DIR/sql" && -f "$STAMP" && "$(cat "$STAMP")" == "$SERVER_VERSION" ]]; }

if installed; then printf '%s\n' "$BIN_DIR"; exit 0; fi
command -v go >/dev/null 2>&1 || die "Go is not installed: install Go (https://go.dev/dl/) to build the Temporal server"
mkdir -p "$BIN_DIR"
exec 9>"$BIN_DIR/.build.lock"
flock 9
if installed; then printf '%s\n' "$BIN_DIR"; exit 0; fi

start=$SECONDS
log "Building the Temporal server ${SERVER_VERSION} and its SQL tool from the Go module proxy (first run only, minutes)…"
GOBIN="$BIN_DIR" go install "go.temporal.io/server/cmd/server@${SERVER_VERSION}" >&2 || die "go install of the server failed"
log "server built in $((SECONDS - start))s"
s2=$SECONDS
GOBIN="$BIN_DIR" go install "go.temporal.io/server/cmd/tools/sql@${SERVER_VERSION}" >&2 || die "go install of the sql tool failed"
log "sql tool built in $((SECONDS - s2))s"
# The schema directories and sample config ship inside the module; keep a copy next to the binaries.
MODDIR="$(go env GOMODCACHE)/go.temporal.io/server@${SERVER_VERSION}"
rm -rf "$BIN_DIR/schema"; mkdir -p "$BIN_DIR/schema"
cp -r "$MODDIR/schema/postgresql" "$BIN_DIR/schema/"
chmod -R u+w "$BIN_DIR/schema"
printf '%s\n' "$SERVER_VERSION" >"$STAMP"
log "Temporal server ready in $((SECONDS - start))s: $BIN_DIR"
printf '%s\n' "$BIN_DIR"
