#!/usr/bin/env bash
# Ensures what test/web-ui-codec.test.ts needs beside Node: a headless Chromium and openssl (it generates a
# self-signed certificate for the codec's HTTPS listener). Called by the jest global setup, before any test.
#
# Prints on stdout ONLY the absolute path of the Chromium binary (progress goes to stderr).
#   1. $CHROMIUM_PATH (must be executable)
#   2. chromium / chromium-browser on PATH
#   3. as root on Debian/Ubuntu: apt-get install chromium (and openssl), once, serialised with flock
#   4. otherwise: exit 1 with ONE line saying what to install.
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }
die() { printf 'ensure-browser-tools: %s\n' "$*" >&2; exit 1; }

find_chromium() {
  if [[ -n "${CHROMIUM_PATH:-}" ]]; then
    [[ -x "$CHROMIUM_PATH" ]] || die "CHROMIUM_PATH=$CHROMIUM_PATH is not executable"
    printf '%s\n' "$CHROMIUM_PATH"
    return 0
  fi
  local c
  for c in chromium chromium-browser; do
    if c="$(command -v "$c" 2>/dev/null)" && [[ -n "$c" ]]; then
      printf '%s\n' "$c"
      return 0
    fi
  done
  return 1
}

missing=()
find_chromium >/dev/null || missing+=(chromium)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if ((${#missing[@]})); then
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    die "the Web UI test needs ${missing[*]}: install it (Debian/Ubuntu: sudo apt-get install -y ${missing[*]}), or set CHROMIUM_PATH to a Chromium/Chrome binary"
  fi
  lock=/var/lock/idv-ensure-browser-tools.lock
  exec 9>"$lock"
  flock 9
  # Another run may have installed them while we waited.
  missing=()
  find_chromium >/dev/null || missing+=(chromium)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  if ((${#missing[@]})); then
    log "Installing ${missing[*]} from Debian for the Web UI test (first run only, about a minute)…"
    start=$SECONDS
    export DEBIAN_FRONTEND=noninteractive
    out="$(mktemp)"
    trap 'rm -f "$out"' EXIT
    # A package list older than a day (or none: slim images) is refreshed first. apt's output is shown on failure only.
    if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]]; then
      apt-get update -qq >"$out" 2>&1 || { cat "$out" >&2; die "apt-get update failed (see above)"; }
    fi
    apt-get install -y -qq "${missing[@]}" >"$out" 2>&1 || { cat "$out" >&2; die "apt-get install ${missing[*]} failed (see above)"; }
    log "Installed ${missing[*]} in $((SECONDS - start))s."
  fi
fi

find_chromium || die "chromium is still not found after installing it"
