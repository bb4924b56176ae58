"""`scripts/run.sh`'s server: `reflex run --env prod --single-port ...` that rebuilds the front end only when
something that goes into it changed (see editor/frontend_build.py and editor/single_port.py).

Reflex still compiles the pages on every start (under its own lock on `.web`; the app is imported to serve
anyway), then calls `build.setup_frontend_prod`, which this module replaces: write env.json for one port,
patch React Flow (editor/react_flow_patch.py), hash the compiled tree, and run Reflex's bundler only for a key
that has no kept build. The server then mounts that key's build.
Usage: `python -m editor.launch --frontend-port 3000 --backend-host 127.0.0.1`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from . import frontend_build, react_flow_patch, single_port

__all__ = ["main"]


def main(argv: list[str]) -> None:
    from reflex.reflex import cli
    from reflex.utils import build

    build.setup_frontend_prod = setup_frontend_reused
    cli.main(args=["run", "--env", "prod", "--single-port", *argv], prog_name="reflex")


def setup_frontend_reused(root: Path) -> None:
    """Reflex's `setup_frontend_prod` (env.json, then the bundler), reusing a kept build for the same key."""
    from reflex.utils import build, prerequisites
    from reflex_base import constants

    build.setup_frontend(root)
    web_dir = prerequisites.get_web_dir()
    _write_one_port_frontend(web_dir)
    with frontend_build.build_lock(web_dir):
        tools = {**_tool_versions(), "react-flow-patch": react_flow_patch.apply(web_dir, _say)}
        key = frontend_build.build_key(web_dir, tools, os.environ)
        kept = frontend_build.kept_build(web_dir, key)
        if kept is not None:
            frontend_build.mark_used(kept)
            _say(f"Front end unchanged since it was built: reusing {_shown(kept)} (no rebuild)")
        else:
            _say(f"Front end changed or never built: building it (key {key})")
            started = time.monotonic()
            build.build()
            kept = frontend_build.keep_build(web_dir, key, {"reflex": constants.Reflex.VERSION,
                                                             "built": time.strftime("%Y-%m-%dT%H:%M:%S")})
            _say(f"Front end built in {time.monotonic() - started:.0f} s: {_shown(kept)}")
    # What the server mounts (reflex.utils.exec.get_frontend_mount reads it when the worker builds the app;
    # the workers are forked from this process). A later start never changes this directory.
    constants.Dirs.STATIC = f"{frontend_build.BUILDS}/{key}/client"


def _write_one_port_frontend(web_dir: Path) -> None:
    env_json = web_dir / "env.json"
    env_json.write_text(json.dumps(single_port.portless_env(json.loads(env_json.read_text()))))
    state_js = web_dir / single_port.STATE_JS
    text = state_js.read_text()
    patched = single_port.patch_backend_url(text)
    if patched != text:
        state_js.write_text(patched)


def _tool_versions() -> dict[str, str]:
    from reflex.utils import js_runtimes
    from reflex_base import constants

    return {"reflex": constants.Reflex.VERSION, "bun": str(js_runtimes.get_bun_version()),
            "node": str(js_runtimes.get_node_version())}


def _shown(build: Path) -> str:
    return str(build.relative_to(Path.cwd())) if build.is_relative_to(Path.cwd()) else str(build)


def _say(message: str) -> None:
    print(f"==> {message}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
