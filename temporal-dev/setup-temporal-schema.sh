#!/usr/bin/env bash
# Creates (or upgrades) the Temporal server's schema in PostgreSQL: the databases `temporal` and
# `temporal_visibility` (SQL advanced visibility), with the server's own tool (temporal-sql-tool, built by
# ensure-server.sh). Idempotent: an existing database is kept and only brought up to the newest version.
# Usage: setup-temporal-schema.sh HOST PORT USER   (password: $SQL_PASSWORD, may be empty with trust auth)
set -euo pipefail
HOST="${1:?host}"; PORT="${2:?port}"; USER="${3:?user}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
BIN_DIR="$("$SCRIPT_DIR/ensure-server.sh")"
SQL="$BIN_DIR/sql"
export SQL_PLUGIN=postgres12 SQL_HOST="$HOST" SQL_PORT="$PORT" SQL_USER="$USER" SQL_PASSWORD="${SQL_PASSWORD:-}"
for pair in "temporal:temporal" "temporal_visibility:visibility"; do
  db="${pair%%:*}"; dir="$BIN_DIR/schema/postgresql/v12/${pair##*:}/versioned"
  "$SQL" --db "$db" create-database >/dev/null 2>&1 || true   # exists already: fine
  # setup-schema -v 0.0 only creates the version tables; it fails harmlessly if they exist.
  "$SQL" --db "$db" setup-schema -v 0.0 >/dev/null 2>&1 || true
  "$SQL" --db "$db" update-schema -d "$dir" >&2
done
echo "schema ready" >&2
