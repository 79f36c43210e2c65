#!/usr/bin/env bash
# Builds (once) the Temporal Web UI server from the Go module proxy into the git-ignored
# temporal-dev/.bin-ui/ and prints on stdout ONLY that directory's absolute path (progress on stderr).
#   temporal-dev/.bin-ui/server  github.com/temporalio/ui-server/v2/cmd/server@v2.42.1 (the UI the CLI v1.5.1 embeds;
#                                its go.mod has no `replace`, so `go install` works; the web assets are embedded)
# Idempotent and serialised with flock; only the Go toolchain and the module proxy are needed.
# TEMPORAL_UI_BIN_DIR overrides the directory.
set -euo pipefail

UI_VERSION="v2.42.1"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
BIN_DIR="${TEMPORAL_UI_BIN_DIR:-$SCRIPT_DIR/.bin-ui}"
STAMP="$BIN_DIR/.version"

log() { printf '%s\n' "$*" >&2; }
die() { printf 'ensure-ui-server: %s\n' "$*" >&2; exit 1; }

installed() { [[ -x "$BIN_DIR/server" && -f "$STAMP" && "$(cat "$STAMP")" == "$UI_VERSION" ]]; }

if installed; then printf '%s\n' "$BIN_DIR"; exit 0; fi
command -v go >/dev/null 2>&1 || die "Go is not installed: install Go (https://go.dev/dl/) to build the Temporal Web UI server"
mkdir -p "$BIN_DIR"
exec 9>"$BIN_DIR/.build.lock"
flock 9
if installed; then printf '%s\n' "$BIN_DIR"; exit 0; fi

start=$SECONDS
log "Building the Temporal Web UI server ${UI_VERSION} from the Go module proxy (first run only, a minute or more)…"
GOBIN="$BIN_DIR" go install "github.com/temporalio/ui-server/v2/cmd/server@${UI_VERSION}" >&2 || die "go install of the UI server failed"
printf '%s\n' "$UI_VERSION" >"$STAMP"
log "Temporal Web UI server built in $((SECONDS - start))s: $BIN_DIR"
printf '%s\n' "$BIN_DIR"
