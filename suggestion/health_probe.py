"""`grpc_health_probe -addr=:6789 -service=NAME`, answered in Python, for Katib's probes.

Katib's suggestion Deployments check their container with the gRPC health protocol: natively
(a `grpc` probe) or by running `grpc_health_probe` in it. The image puts this module behind that
command name, taking the flags Katib passes, so either way of probing works without a binary
from outside the repository. Exit 0 when SERVING, 1 otherwise, 2 for bad flags.
"""

from __future__ import annotations

import argparse
import sys

from suggestion.__main__ import DEFAULT_PORT


def main(argv: list[str] | None = None) -> int:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    parser = argparse.ArgumentParser(prog="grpc_health_probe", prefix_chars="-")
    parser.add_argument("-addr", default=f":{DEFAULT_PORT}")
    parser.add_argument("-service", default="")
    parser.add_argument("-connect-timeout", dest="connect_timeout", default="1s")
    parser.add_argument("-rpc-timeout", dest="rpc_timeout", default="1s")
    args, _ = parser.parse_known_args(argv)
    address = "127.0.0.1" + args.addr if args.addr.startswith(":") else args.addr
    timeout = float(args.rpc_timeout.rstrip("s") or 1)
    try:
        with grpc.insecure_channel(address) as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=args.service), timeout=timeout
            )
    except grpc.RpcError as e:
        print(f"health check of {address} failed: {e.code().name}", file=sys.stderr)
        return 1
    serving = answer.status == health_pb2.HealthCheckResponse.SERVING
    print(f"status: {health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)}")
    return 0 if serving else 1


if __name__ == "__main__":
    sys.exit(main())
