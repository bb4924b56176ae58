"""`patchwire mcp SPEC [SPEC...]`: the pipelines as MCP tools over stdio, for MCP hosts (Claude Desktop, IDEs).

Imported on every CLI start, so this module stays light: the mcp SDK and the serving stack load inside the
handler. stdout carries the protocol; everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio

from .common import EXIT_OK, UsageError, add_plugin_arg, add_record_arg, load_registry, prepare_store

__all__ = ["add_command"]


def add_command(sub: argparse._SubParsersAction) -> None:
    mcp = sub.add_parser("mcp", help="serve pipelines as MCP tools over stdio (one tool per spec)")
    mcp.add_argument("specs", nargs="+", metavar="SPEC", help="pipeline spec files; only these are reachable")
    mcp.add_argument("--request-timeout", type=float, default=None, metavar="SECONDS",
                     help="cancel a tool's run after this long (default 300)")
    add_record_arg(mcp)
    add_plugin_arg(mcp)
    mcp.set_defaults(handler=cmd_mcp)


def cmd_mcp(args: argparse.Namespace) -> int:
    from ..consumers import default_consumers
    from ..loading import load_spec
    from ..serving.app import DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT_S
    from ..serving.mcp_server import serve_stdio
    from ..serving.runner import Runner
    from ..serving.served import ServeConfigError, compile_pipelines

    timeout = args.request_timeout or DEFAULT_REQUEST_TIMEOUT_S
    if timeout <= 0:
        raise UsageError(f"--request-timeout must be positive, got {timeout:g}.")
    registry = load_registry(args)
    try:
        pipelines = compile_pipelines([load_spec(path) for path in args.specs], registry)
    except ServeConfigError as exc:
        raise UsageError(str(exc)) from None
    if not args.no_record:
        prepare_store()
    runner = Runner(timeout, tuple(default_consumers("mcp", record=not args.no_record)), DEFAULT_MAX_BODY_BYTES)
    try:
        asyncio.run(serve_stdio(pipelines, runner))
    except ValueError as exc:  # two pipelines with the same tool name
        raise UsageError(str(exc)) from None
    return EXIT_OK
