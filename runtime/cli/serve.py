"""`patchwire serve SPEC [SPEC...]`: run the HTTP service with uvicorn.

Imported on every CLI start, so this module stays light: fastapi and uvicorn load inside the handler.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..http_guard import is_loopback, token_problem
from .common import EXIT_OK, UsageError, add_plugin_arg, add_record_arg, load_registry, prepare_store

__all__ = ["add_command", "is_loopback"]

TOKEN_ENV = "PATCHWIRE_API_TOKEN"


def add_command(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="serve pipelines over HTTP (POST /v1/pipelines/{name}/run)")
    serve.add_argument("specs", nargs="*", metavar="SPEC", help="pipeline spec files, served by their `name`")
    serve.add_argument("--published", action="append", default=[], metavar="PIPELINE",
                       help="serve the published version of this saved pipeline (id or name; repeatable)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1; anything else requires PATCHWIRE_API_TOKEN)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--max-body-bytes", type=int, default=None, metavar="N",
                       help="largest request body accepted (default 1 MiB)")
    serve.add_argument("--request-timeout", type=float, default=None, metavar="SECONDS",
                       help="cancel a run and answer 504 after this long (default 300)")
    serve.add_argument("--no-access-log", action="store_true", help="do not log every request")
    add_record_arg(serve)
    serve.add_argument("--mcp", action="store_true",
                       help="also serve the pipelines as MCP tools (Streamable HTTP) at /mcp")
    add_plugin_arg(serve)
    serve.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from ..loading import load_spec
    from ..serving.app import (
        CONFIG_ENV,
        DEFAULT_MAX_BODY_BYTES,
        DEFAULT_REQUEST_TIMEOUT_S,
        ServeConfigError,
        create_app,
    )
    from ..serving.records import health_checks, record_consumers_for

    token = os.environ.get(TOKEN_ENV) or None
    _check_settings(args, token)
    registry = load_registry(args)
    specs = [load_spec(path) for path in args.specs] + [_published_spec(name) for name in args.published]
    settings = {"max_body_bytes": args.max_body_bytes or DEFAULT_MAX_BODY_BYTES,
                "request_timeout_s": args.request_timeout or DEFAULT_REQUEST_TIMEOUT_S, "record": not args.no_record,
                "mcp": args.mcp}
    if settings["record"]:
        prepare_store()  # here, before any worker starts: migrations never race, and a bad database stops us
    settings["published"] = settings["record"] or bool(args.published)  # the database is in use: look them up
    published = _published_versions(specs, registry) if settings["published"] else {}
    try:
        app = create_app(specs, registry, api_token=token, **_app_settings(settings),  # compiles: errors before binding
                         consumers_for=record_consumers_for(settings["record"]),
                         checks=health_checks(settings["record"]), published=published)
    except ServeConfigError as exc:
        raise UsageError(str(exc)) from None
    import uvicorn

    names = ", ".join([spec.name for spec in specs] + [f"{name}@published" for name in published])
    auth = "bearer token required, docs included" if token else "no authentication"
    mcp = f", MCP at http://{args.host}:{args.port}/mcp" if args.mcp else ""
    print(f"serving {names} on http://{args.host}:{args.port} ({auth}); docs at /docs; OpenAI-compatible API at "
          f"/v1 (models `patchwire/<name>`){mcp}", file=sys.stderr)
    options = {"host": args.host, "port": args.port, "access_log": not args.no_access_log,
               "log_level": "info", "server_header": False}
    if args.workers > 1:  # each worker builds its own app from the same settings
        os.environ[CONFIG_ENV] = json.dumps({"specs": [str(Path(p).resolve()) for p in args.specs],
                                             "plugins": args.plugin, **settings})
        uvicorn.run("runtime.serving.app:app_from_env", factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(app, **options)
    return EXIT_OK


def _published_spec(name_or_id: str):  # type: ignore[no-untyped-def]
    """The spec of the published version of a saved pipeline (`patchwire publish`)."""
    from ..spec import PipelineSpec
    from ..store.pipelines import PipelineNotFound
    from ..store.publish import published_version

    try:
        return PipelineSpec.model_validate(published_version(name_or_id).spec)
    except PipelineNotFound as exc:
        raise UsageError(str(exc)) from None


def _published_versions(specs: list, registry: object) -> dict:
    """The published version of each served pipeline that has one (served as `<name>@published`); a note on
    stderr for each that cannot be served."""
    from ..serving.served import published_versions

    found, notes = published_versions([spec.name for spec in specs], registry)  # type: ignore[arg-type]
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return found


def _app_settings(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k not in ("record", "published")}


def _check_settings(args: argparse.Namespace, token: str | None) -> None:
    if not args.specs and not args.published:
        raise UsageError("give at least one spec file or `--published PIPELINE`.")
    if args.published and args.workers > 1:
        raise UsageError("--published serves from this process only: use --workers 1 (or export the published "
                         "spec to a file and serve that with more workers).")
    if args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}.")
    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, got {args.port}.")
    if not is_loopback(args.host) and not token:
        raise UsageError(
            f"refusing to serve on {args.host} without authentication: that address is reachable from other "
            f"machines. Set {TOKEN_ENV} to a long random value (clients send `Authorization: Bearer <token>`), "
            "or bind to 127.0.0.1.")
    if weak := token_problem(TOKEN_ENV, token):
        raise UsageError(weak)

