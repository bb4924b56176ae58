"""Print the SHA256 of pyproject.toml's dependency lists: what requirements.lock was generated from."""

import hashlib
import json
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
wanted = {"dependencies": project.get("dependencies", []),
          "optional-dependencies": project.get("optional-dependencies", {})}
print(hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest())
