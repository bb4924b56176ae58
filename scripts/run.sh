#!/usr/bin/env bash
# Start Patchwire on its embedded defaults. Until the editor lands, this runs the example
# pipeline headless and prints every step.
set -euo pipefail
cd "$(dirname "$0")/.."
QUESTION="${QUESTION:-What does Patchwire run in parallel?}"
echo "==> Running examples/hello.json headless (the editor is not built yet)"
exec .venv/bin/patchwire run examples/hello.json --input query="$QUESTION"
