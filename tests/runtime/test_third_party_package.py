"""A third-party package adds a component through the `patchwire.components` entry point, as the
catalog does, and the CLI finds and runs it — no change to Patchwire needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PLUGIN_SOURCE = '''
from pydantic import BaseModel, Field
from runtime import Component, RunContext, component

class ShoutIn(BaseModel):
    text: str = Field(description="Text to shout")

class ShoutOut(BaseModel):
    text: str = Field(description="The text, upper-cased")

@component(id="acme.shout", version=1, title="Shout", category="Acme")
class Shout(Component):
    """Upper-case the text."""
    async def run(self, inputs: ShoutIn, ctx: RunContext) -> ShoutOut:
        return ShoutOut(text=inputs.text.upper() + "!")
'''


def install_fake_package(site: Path) -> None:
    """What `pip install acme-patchwire` leaves on disk: the module and its dist-info with entry points."""
    (site / "acme_components.py").write_text(PLUGIN_SOURCE)
    dist = site / "acme_patchwire-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-patchwire\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[patchwire.components]\nacme = acme_components\n")


def test_an_installed_package_contributes_components_through_its_entry_point(tmp_path: Path):
    install_fake_package(tmp_path)
    spec = {"name": "shout", "nodes": [
        {"id": "q", "component": "io.input"}, {"id": "shout", "component": "acme.shout"},
        {"id": "out", "component": "io.output"}],
        "edges": [{"source": {"node": "q", "port": "value"}, "target": {"node": "shout", "port": "text"}},
                  {"source": {"node": "shout", "port": "text"}, "target": {"node": "out", "port": "value"}}]}
    spec_path = tmp_path / "shout.json"
    spec_path.write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    patchwire = str(Path(sys.executable).with_name("patchwire"))

    listed = subprocess.run([patchwire, "components", "--json"], capture_output=True, text=True, env=env, timeout=60)
    shout = next(c for c in json.loads(listed.stdout)["components"] if c["id"] == "acme.shout")
    assert shout["source"] == "entry point `acme` (acme_components)"
    assert shout["inputs"] == [{"name": "text", "type": "str", "required": True, "description": "Text to shout"}]

    ran = subprocess.run([patchwire, "run", str(spec_path), "--input", "q=hey", "--json"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["outputs"] == {"out": "HEY!"}
