#!/usr/bin/env bash
# Start the Patchwire editor: a production build served on ONE port, 127.0.0.1:$PORT (default 3000).
# The front-end build is kept in .web/builds/ and reused until something that goes into it changes
# (pages, components, assets, packages, Reflex/bun/node versions; see editor/frontend_build.py).
#
#   PORT=3000                 the port (also PATCHWIRE_PORT)
#   PATCHWIRE_HOST=0.0.0.0    expose it beyond this machine (or pass --expose); then PATCHWIRE_AUTH_TOKEN is
#                             required, and every page, websocket and API request must carry it
#   PATCHWIRE_AUTH_TOKEN=...  the login token (also usable on loopback)
#   PATCHWIRE_DATA_DIR, DATABASE_URL   where pipelines are saved (default ~/.patchwire/patchwire.db)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--expose" ]; then
  export PATCHWIRE_HOST="${PATCHWIRE_HOST:-0.0.0.0}"
  [ "$PATCHWIRE_HOST" = "127.0.0.1" ] && export PATCHWIRE_HOST=0.0.0.0
  shift
fi
if [ $# -gt 0 ]; then
  echo "Unknown argument: $1. Usage: scripts/run.sh [--expose]" >&2
  exit 2
fi

PORT="${PATCHWIRE_PORT:-${PORT:-3000}}"
HOST="${PATCHWIRE_HOST:-127.0.0.1}"
export PATCHWIRE_PORT="$PORT" PATCHWIRE_HOST="$HOST"
export PATH="$PWD/.tools/node_modules/.bin:$PWD/.venv/bin:$PATH"
export REFLEX_USE_SYSTEM_BUN=1 REFLEX_CHECK_LATEST_VERSION=0 REFLEX_TELEMETRY_ENABLED=false
export LITELLM_LOCAL_MODEL_COST_MAP=True ANONYMIZED_TELEMETRY=False
unset REFLEX_BACKEND_HOST  # a stray value would silently re-open the port; the host is passed below

case "$HOST" in
  127.0.0.1|localhost|::1) ;;
  *)
    if [ -z "${PATCHWIRE_AUTH_TOKEN:-}" ]; then
      echo "PATCHWIRE_HOST=$HOST exposes the editor beyond this machine, so it needs a login token." >&2
      echo "Set PATCHWIRE_AUTH_TOKEN to a long random secret, e.g.:" >&2
      echo "  export PATCHWIRE_AUTH_TOKEN=\$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')" >&2
      exit 2
    fi ;;
esac

# The database first (migrated once, orphaned runs closed): a bad DATABASE_URL stops here with the reason.
.venv/bin/python -m runtime.store
echo "==> Building and starting the Patchwire editor (first start or a changed front end: ~15-25 s; later: ~6-11 s)"
if [ -n "${PATCHWIRE_AUTH_TOKEN:-}" ]; then
  echo "==> Open http://127.0.0.1:$PORT/?access_token=<your PATCHWIRE_AUTH_TOKEN> (once; a cookie keeps you in)"
else
  echo "==> Open http://127.0.0.1:$PORT"
fi
# `reflex run --env prod --single-port`, reusing the kept front-end build while its inputs are unchanged.
exec .venv/bin/python -m editor.launch --frontend-port "$PORT" --backend-host "$HOST"
