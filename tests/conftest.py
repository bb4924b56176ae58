"""Test-wide environment: a private data directory, no network surprises from litellm."""

from __future__ import annotations

import os
import tempfile

# Set before any test module imports the stack: nothing writes to ~/.patchwire, litellm
# never fetches its cost map, Chroma never phones home.
os.environ["PATCHWIRE_DATA_DIR"] = tempfile.mkdtemp(prefix="patchwire-tests-")
os.environ.pop("DATABASE_URL", None)
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.pop("PATCHWIRE_PLUGINS", None)
