#!/bin/sh
# The image's entrypoint: one image, the process chosen by the command.
#   worker     node dist/workers/main.js   (polls the workflow queue and every vendor task queue; scale by adding replicas)
#   api        node dist/client/main.js    (stateless; put replicas behind your load balancer)
#   sandboxes  node dist/sandboxes/main.js (the vendor sandboxes: demos and staging only)
# exec: the Node process gets SIGTERM directly and drains (workers) or closes (API) before exiting.
set -eu
cd "$(dirname "$0")/.."
case "${1:-}" in
  worker) exec node dist/workers/main.js ;;
  api) exec node dist/client/main.js ;;
  sandboxes) exec node dist/sandboxes/main.js ;;
  *) echo "usage: entrypoint.sh worker|api|sandboxes (got '${1:-}')" >&2; exit 64 ;;
esac
