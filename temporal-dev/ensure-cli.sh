#!/usr/bin/env bash
# Prints on stdout ONLY the absolute path of a usable `temporal` CLI binary (progress goes to stderr).
#
# Lookup order:
#   1. $TEMPORAL_CLI (must be executable)
#   2. `temporal` on PATH
#   3. temporal-dev/.bin/temporal (built earlier by this script), if it reports version 1.5.1
#   4. build it: go install -ldflags '-X …temporalcli.Version=1.5.1' github.com/temporalio/cli/cmd/temporal@v1.5.1
#      into a temporary folder, then moved into temporal-dev/.bin/ (a running server keeps its old file).
#      Only the Go toolchain and the Go module proxy are needed; no binary is downloaded. The version is
#      stamped the way the CLI's own release build does (.goreleaser.yml); without it the banner says
#      "0.0.0-DEV". A binary built by an earlier version of this script (reporting 0.0.0-DEV) is rebuilt:
#      with Go's build cache still warm that is a relink (~20 s), otherwise a full build (~5 min on 2 cores).
#
# If a `go install github.com/temporalio/cli...` is already running (another shell, CI step, a parallel
# run of this script), we wait for it instead of starting a second build.
set -euo pipefail

CLI_VERSION="v1.5.1"
CLI_MODULE="github.com/temporalio/cli/cmd/temporal"
CLI_LDFLAGS="-s -w -X github.com/temporalio/cli/temporalcli.Version=${CLI_VERSION#v}"
BUILD_PATTERN="go install github.com/temporalio/cli"
WAIT_LIMIT_SECONDS="${TEMPORAL_CLI_BUILD_WAIT_LIMIT:-2400}"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
BIN_DIR="$SCRIPT_DIR/.bin"
BIN="$BIN_DIR/temporal"

log() { printf '%s\n' "$*" >&2; }
die() { printf 'ensure-cli: %s\n' "$*" >&2; exit 1; }

abspath() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$(cd "$(dirname "$1")" && pwd -P)" "$(basename "$1")" ;;
  esac
}

# A binary counts as usable when it runs and reports a version.
usable() { [[ -x "$1" && ! -d "$1" ]] && "$1" --version >/dev/null 2>&1; }

# Our own build must also report the version we build (not 0.0.0-DEV, not an older one).
current() { usable "$1" && [[ "$("$1" --version 2>/dev/null)" == "temporal version ${CLI_VERSION#v} "* ]]; }

build_running() { pgrep -f "$BUILD_PATTERN" >/dev/null 2>&1; }

wait_for_running_build() {
  build_running || return 0
  log "A Temporal CLI build is already running (pgrep -f '$BUILD_PATTERN'); waiting for it to finish…"
  local start=$SECONDS
  while build_running; do
    if (( SECONDS - start > WAIT_LIMIT_SECONDS )); then
      die "gave up after ${WAIT_LIMIT_SECONDS}s waiting for the running CLI build (set TEMPORAL_CLI_BUILD_WAIT_LIMIT to wait longer)"
    fi
    sleep 2
  done
  log "The running build finished after $((SECONDS - start))s of waiting."
}

# 1. explicit override
if [[ -n "${TEMPORAL_CLI:-}" ]]; then
  usable "$TEMPORAL_CLI" || die "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable temporal CLI"
  abspath "$TEMPORAL_CLI"
  exit 0
fi

# 2. on PATH
if on_path="$(command -v temporal 2>/dev/null)" && [[ -n "$on_path" ]] && usable "$on_path"; then
  abspath "$on_path"
  exit 0
fi

# 3. previously built (but never trust a file that a running `go install` may still be writing)
wait_for_running_build
if current "$BIN"; then
  printf '%s\n' "$BIN"
  exit 0
fi

# 4. build it
command -v go >/dev/null 2>&1 \
  || die "Go is not installed and no temporal CLI was found: install Go (https://go.dev/dl/) or set TEMPORAL_CLI=/path/to/temporal"

mkdir -p "$BIN_DIR"

# Serialise our own concurrent invocations (e.g. two test runs started at once).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$BIN_DIR/.build.lock"
  if ! flock -n 9; then
    log "Another ensure-cli.sh is building the Temporal CLI; waiting for it…"
    flock 9
  fi
fi
wait_for_running_build
if current "$BIN"; then
  printf '%s\n' "$BIN"
  exit 0
fi

if usable "$BIN"; then
  log "Rebuilding $BIN: it reports '$("$BIN" --version 2>/dev/null)', not ${CLI_VERSION#v} (a relink when Go's build cache is warm)…"
else
  log "Building the Temporal CLI ${CLI_VERSION} from the Go module proxy (first run only, takes a few minutes)…"
fi
start=$SECONDS
tmp_bin="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
trap 'rm -rf "$tmp_bin"' EXIT
if ! GOBIN="$tmp_bin" go install -ldflags "$CLI_LDFLAGS" "${CLI_MODULE}@${CLI_VERSION}" >&2; then
  die "go install ${CLI_MODULE}@${CLI_VERSION} failed (see the output above)"
fi
current "$tmp_bin/temporal" || die "the freshly built temporal CLI does not run or does not report ${CLI_VERSION#v}"
mv -f "$tmp_bin/temporal" "$BIN"
log "Built $BIN in $((SECONDS - start))s."
printf '%s\n' "$BIN"
