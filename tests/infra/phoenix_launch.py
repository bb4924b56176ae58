"""Run `phoenix serve` with its OTLP gRPC receiver bound to 127.0.0.1 (Phoenix itself binds `[::]`).

Started by `tests.infra.fixtures.phoenix_server` with Phoenix's own interpreter (`.tools/phoenix-venv`);
Patchwire's tests send OTLP over HTTP only, but the gRPC port must not face the network either.
"""

import sys

import grpc.aio._server as grpc_server

_add_insecure_port = grpc_server.Server.add_insecure_port


def _loopback_only(self, address):  # type: ignore[no-untyped-def]
    return _add_insecure_port(self, address.replace("[::]", "127.0.0.1"))


grpc_server.Server.add_insecure_port = _loopback_only  # type: ignore[method-assign]

if __name__ == "__main__":
    from phoenix.server.main import main

    sys.argv = ["phoenix", "serve"]
    sys.exit(main())
