"""`python -m suggestion [--port N]`: serve Katib's Suggestion API and gRPC health until stopped."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from concurrent import futures

from storage_init.exits import ExitCode, HpoError, run_entry_point

# Katib's suggestion Deployments listen here, and its Service points here.
DEFAULT_PORT = 6789
# What Katib's probes ask the gRPC health service about.
HEALTH_SERVICE = "manager.v1beta1.Suggestion"


def serve(port: int, host: str = "[::]"):
    """The running server (not yet waited on) and the port it listens on."""
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc
    from kubeflow.katib import katib_api_pb2_grpc

    from suggestion.service import SuggestionService

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    katib_api_pb2_grpc.add_SuggestionServicer_to_server(SuggestionService(), server)
    checks = health.HealthServicer()
    for name in ("", HEALTH_SERVICE):
        checks.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    server.start()
    return server, bound


class PortUnavailable(HpoError):
    exit_code = ExitCode.UNAVAILABLE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m suggestion", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default 6789, Katib's")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        server, port = serve(args.port)
    except (OSError, RuntimeError) as e:  # grpc reports a taken port as RuntimeError
        raise PortUnavailable(str(e)) from e
    logging.info("serving Katib's Suggestion API on port %d", port)
    signal.signal(signal.SIGTERM, lambda *_: server.stop(grace=5))
    server.wait_for_termination()
    return 0


if __name__ == "__main__":
    sys.exit(run_entry_point(main, prefix="suggestion"))
