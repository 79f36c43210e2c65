#!/usr/bin/env bash
# Prints on stdout ONLY the directory holding PostgreSQL's server binaries (initdb, postgres), progress on stderr.
# Lookup: $PG_BIN_DIR, then /usr/lib/postgresql/<newest>/bin (Debian's packages), then `initdb` on PATH;
# else, as root on Debian/Ubuntu, installs PostgreSQL 15 with apt-get (postgresql-15, falling back to
# the distribution's `postgresql`). Idempotent. Clusters themselves are started by temporal-dev/postgres.ts.
set -euo pipefail
log() { printf '%s\n' "$*" >&2; }
die() { printf 'ensure-postgres: %s\n' "$*" >&2; exit 1; }

find_bin() {
  if [[ -n "${PG_BIN_DIR:-}" && -x "$PG_BIN_DIR/initdb" ]]; then printf '%s\n' "$PG_BIN_DIR"; return 0; fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [[ -n "$d" && -x "$d/initdb" && -x "$d/postgres" ]]; then printf '%s\n' "$d"; return 0; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

if find_bin; then exit 0; fi
[[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed: apt-get install postgresql-15 (or set PG_BIN_DIR)"
command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is not available: install PostgreSQL 15 (or set PG_BIN_DIR)"
log "Installing PostgreSQL from the distribution's packages (first run only)…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq postgresql-15 >&2 || apt-get install -y -qq postgresql >&2 || die "apt-get install postgresql failed"
find_bin || die "PostgreSQL was installed but initdb was not found"
