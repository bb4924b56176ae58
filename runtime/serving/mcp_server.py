"""Pipelines as MCP tools, with the official `mcp` SDK (low-level `Server`): over stdio or Streamable HTTP.

Each served pipeline is one tool: its name (letters, digits, `_`, `-`, `.`), its description, `inputSchema`
from its `io.input` nodes, `outputSchema` from its outputs, structured content in the result. A failed run
is a tool error naming the node and the message. While a run goes on, the caller gets a progress
notification as each node starts and ends (when it sent a progress token). Only the pipelines given are
reachable: the tool list is fixed at start.

`McpEndpoint` is what `patchwire serve --mcp` mounts at `/mcp` (stateless, behind the same guard as every
other route); `serve_stdio` is `patchwire mcp`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager
from typing import Any

import mcp_types as types
from mcp.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError

from ..api import execute
from ..events import TERMINAL_NODE_EVENTS, NodeStarted
from ..issues import InvalidInputs
from ..results import ResultCollector, RunResult, jsonable

__all__ = ["build_server", "McpEndpoint", "serve_stdio", "tool_name", "MCP_PATH"]

MCP_PATH = "/mcp"
SERVER_NAME = "patchwire"
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_.-]")
Report = Callable[[float, float | None, str | None], Awaitable[None]]


def tool_name(pipeline: str) -> str:
    """The pipeline's name as an MCP tool name (`[A-Za-z0-9_.-]{1,128}`)."""
    return _NOT_IN_NAME.sub("_", pipeline)[:128]


def build_server(pipelines: dict[str, Any], runner: Any) -> Server:
    """A low-level MCP `Server` with one tool per pipeline, each run through `runner` (time limit, records)."""
    tools: dict[str, tuple[Any, types.Tool]] = {}
    for pipeline in pipelines.values():
        name = tool_name(pipeline.name)
        if name in tools:
            raise ValueError(f"Pipelines `{tools[name][0].name}` and `{pipeline.name}` are both the MCP tool "
                             f"`{name}`: rename one of them (tool names keep letters, digits, `_`, `-` and `.`).")
        tools[name] = (pipeline, _tool(name, pipeline))

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[tool for _, tool in tools.values()])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        entry = tools.get(params.name)
        if entry is None:
            known = ", ".join(f"`{n}`" for n in tools)
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool `{params.name}`. Tools: {known}.")
        return await run_tool(runner, entry[0], params.arguments or {}, ctx.session.report_progress)

    server: Server = Server(SERVER_NAME, version="1", instructions="Each tool runs one Patchwire pipeline.",
                            on_list_tools=list_tools, on_call_tool=call_tool,
                            get_tool_input_schema=lambda name: tools[name][1].input_schema if name in tools else None)
    server.middleware.clear()  # no OpenTelemetry middleware: the service reports to no one
    return server


def _tool(name: str, pipeline: Any) -> types.Tool:
    """The pipeline as a tool, from serve's descriptions (served.py: masked like an export, no secret values)."""
    detail = pipeline.detail
    description = detail["description"] or f"Run the Patchwire pipeline `{pipeline.name}`."
    return types.Tool(name=name, title=pipeline.name, description=description, input_schema=detail["inputs_schema"],
                      output_schema=_hoisted_defs(detail["outputs_schema"]))


def _hoisted_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """Move each property's `$defs` to the root, where its `#/$defs/...` references point."""
    defs: dict[str, Any] = {}
    properties = {}
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        defs.update(prop.pop("$defs", {}))
        properties[name] = prop
    hoisted = {**schema, "properties": properties}
    if defs:
        hoisted["$defs"] = defs
    return hoisted


async def run_tool(runner: Any, pipeline: Any, arguments: dict[str, Any], report: Report) -> types.CallToolResult:
    """One run of `pipeline`: its outputs as structured content, or a tool error saying what failed where."""
    try:
        execution = execute(pipeline.plan, arguments)
    except InvalidInputs as exc:
        problems = " ".join(_as_argument(problem) for problem in exc.problems)
        return _tool_error(f"Invalid arguments for `{tool_name(pipeline.name)}`: {problems}")
    collector = ResultCollector()
    progress = _Progress(len(pipeline.plan.nodes))
    async with aclosing(runner.events(pipeline, execution)) as events:
        async for event in events:
            collector(event)
            if (note := progress.note(event)) is not None:
                await report(*note)
    result = collector.result
    assert result is not None
    if result.status != "succeeded":
        return _tool_error(_failure(pipeline, result, runner.timeout_s))
    outputs = jsonable(result.outputs)
    text = json.dumps(outputs, ensure_ascii=False)
    return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=outputs)


class _Progress:
    """Progress counted in node steps: each node starts and ends (a node that never started, e.g. skipped or
    cached, takes both steps at once), so the count only grows and ends at the total."""

    def __init__(self, nodes: int):
        self.total, self.done = 2 * nodes, 0
        self.started: set[str] = set()

    def note(self, event: Any) -> tuple[float, float, str] | None:
        kind = event.__class__
        if kind is NodeStarted and event.node_id not in self.started:
            self.started.add(event.node_id)
            self.done += 1
            return self.done, self.total, f"running `{event.node_id}`"
        if kind in TERMINAL_NODE_EVENTS:
            self.done += 1 if event.node_id in self.started else 2
            return self.done, self.total, f"`{event.node_id}` {_PAST.get(kind.__name__, 'done')}"
        return None


_PAST = {"NodeFinished": "finished", "NodeFailed": "failed", "NodeCached": "cached", "NodeSkipped": "skipped",
         "NodeCancelled": "cancelled"}


_CLI_FIX = re.compile(r"pass it with `--input ([^=`]+)=\.\.\.` \(or give the io.input node a `default`\)")


def _as_argument(problem: str) -> str:
    """An input problem phrased for a tool call (the CLI's `--input` advice becomes the argument's name)."""
    return _CLI_FIX.sub(lambda m: f"add `{m.group(1)}` to the tool's arguments", problem)


def _failure(pipeline: Any, result: RunResult, timeout_s: float) -> str:
    if result.status == "failed":
        node = next((nid for nid, n in result.nodes.items() if n.status == "failed" and n.error), None)
        message = (result.error or {}).get("message", "a node failed")
        message = message.removeprefix(f"Node `{node}` failed: ")
        plan = pipeline.plan
        where = f" at node `{node}` (`{plan.nodes[plan.by_id[node]].component_id}`)" if node else ""
        return f"Pipeline `{pipeline.name}` failed{where}: {message} (run {result.run_id})."
    return (f"Pipeline `{pipeline.name}` was cancelled after the {timeout_s:g} s time limit (run {result.run_id}); "
            "raise --request-timeout for longer runs.")


def _tool_error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


class McpEndpoint:
    """The Streamable HTTP endpoint at `/mcp` (stateless: any number of workers behind a load balancer)."""

    def __init__(self, pipelines: dict[str, Any], runner: Any, max_body_bytes: int):
        self.server = build_server(pipelines, runner)
        # Host, Origin and the token are checked by ServeGuard in front of the whole app.
        self.manager = StreamableHTTPSessionManager(app=self.server, stateless=True, security_settings=None,
                                                    max_request_body_size=max_body_bytes)

    @asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        async with self.manager.run():
            yield

    def mount(self, app: Any) -> None:
        from starlette.routing import Route

        app.router.routes.append(Route(MCP_PATH, endpoint=StreamableHTTPASGIApp(self.manager)))


async def serve_stdio(pipelines: dict[str, Any], runner: Any) -> None:
    """Answer MCP on this process's stdin and stdout until the host closes them."""
    from mcp.server.stdio import stdio_server

    server = build_server(pipelines, runner)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
