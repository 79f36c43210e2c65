#!/usr/bin/env bash
# `npm run -s temporal-cli -- <args>`: the project's Temporal CLI (temporal-dev/ensure-cli.sh finds or builds
# it), so README commands need no `temporal` on PATH. Talks to localhost:7233 unless told otherwise
# (--address, or TEMPORAL_ADDRESS).
set -euo pipefail
cli="$(bash "$(dirname "${BASH_SOURCE[0]}")/ensure-cli.sh")"
exec "$cli" "$@"
