"""A TrainJob trial locally: one process per node, with what Trainer v2 tells each node.

Trainer v2's torch runtime gives every node's container the PET_* variables torchrun reads: how
many nodes, how many processes per node, this node's rank, and where the master listens. Here
each node is a local process running the rendered command with those variables, the first node
as master on a free loopback port. Katib reads a trial's metrics from its first node's pod, so
the first node's output is the trial's; the others go to their own logs.
"""

from __future__ import annotations

import socket
from pathlib import Path

from local_runner.process import GRACE_SECONDS, ChildProcess


def free_port() -> int:
    """A loopback port nothing listens on now, for one trial's rendezvous."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def torch_node_env(nodes: int, rank: int, procs_per_node: int, port: int) -> dict[str, str]:
    """The variables Trainer v2's torch runtime sets for node `rank` of a trial."""
    return {
        "PET_NNODES": str(nodes),
        "PET_NPROC_PER_NODE": str(procs_per_node),
        "PET_NODE_RANK": str(rank),
        "PET_MASTER_ADDR": "127.0.0.1",
        "PET_MASTER_PORT": str(port),
    }


def node_log(log_file: Path, rank: int) -> Path:
    """Node 0 writes the trial's log; node N its own file beside it."""
    return log_file if rank == 0 else log_file.with_name(f"{log_file.stem}-node-{rank}.log")


class NodeGroup:
    """The processes of a trial's nodes, used as one: it ends when every node has, and fails
    when any node fails (the others are stopped, as a failed JobSet stops its jobs)."""

    def __init__(self, nodes: list[ChildProcess]):
        self.nodes = nodes
        self.log_file = nodes[0].log_file
        self._failed: ChildProcess | None = None

    def poll(self) -> int | None:
        codes = [node.poll() for node in self.nodes]
        if self._failed is None:
            self._failed = next(
                (node for node, code in zip(self.nodes, codes, strict=True) if code), None
            )
            if self._failed is not None:
                self.request_stop()
        if any(code is None for code in codes):
            return None
        return self._failed.poll() if self._failed is not None else 0

    def wait(self) -> int:
        for node in self.nodes:
            node.wait()
        code = self.poll()
        assert code is not None
        return code

    @property
    def seconds(self) -> float:
        return max(node.seconds for node in self.nodes)

    def request_stop(self, grace: float = GRACE_SECONDS) -> None:
        for node in self.nodes:
            node.request_stop(grace)

    def stop(self, grace: float = GRACE_SECONDS) -> int:
        for node in self.nodes:
            node.stop(grace)
        return self.wait()

    def tail(self, lines: int = 3) -> list[str]:
        """The failing node's last lines (the first node's when none failed)."""
        return (self._failed or self.nodes[0]).tail(lines)
