"""Fixtures: a cqlmq-node test cluster with fault control, and cqlmqd in
front of it.

    CQLMQD=.../cqlmqd CQLMQ_NODE_BIN=.../cqlmq-node \\
    PYTHONPATH=<repo>/clients/python:<repo>/node/python \\
        /usr/bin/python3 -m pytest -q tests

The binaries come from $CQLMQD and $CQLMQ_NODE_BIN (set by ctest), else
from <repo>/build/bin; without them the tests are skipped. The node runs as
its own process (--control lets the tests inject faults) and cqlmqd reaches
it with --contact-points, as it would a real cluster.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1]
REPO = EXAMPLE.parents[1]
for extra in (EXAMPLE, REPO / "clients" / "python", REPO / "node" / "python"):
    if extra.is_dir() and str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import cqlmq  # noqa: E402
from cqlmq_node import NodeCluster  # noqa: E402


def binary(env: str, name: str) -> str:
    path = os.environ.get(env) or str(REPO / "build" / "bin" / name)
    if not os.access(path, os.X_OK):
        pytest.skip(f"set {env} to the {name} binary")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python_path() -> str:
    """PYTHONPATH for child processes: what this process imports from."""
    parts = [str(EXAMPLE), str(REPO / "clients" / "python"), str(REPO / "node" / "python")]
    if os.environ.get("PYTHONPATH"):
        parts.append(os.environ["PYTHONPATH"])
    return os.pathsep.join(parts)


class Gateway:
    """cqlmqd on a free port, pointed at a node cluster; logs to a file."""

    def __init__(self, cqlmqd: str, node_port: int, log_path: Path) -> None:
        self.endpoint = f"tcp://127.0.0.1:{free_port()}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [cqlmqd, "--contact-points", f"127.0.0.1:{node_port}", "--bind", self.endpoint,
             "--log-level", "warn"],
            stdout=subprocess.DEVNULL, stderr=self._log)

    def wait_ready(self, hosts: int, timeout: float = 15.0) -> None:
        """Until cqlmqd answers and sees `hosts` Cassandra hosts up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cqlmqd exited: {self.log_path.read_text()[-2000:]}")
            try:
                if asyncio.run(self._hosts_up()) >= hosts:
                    return
            except cqlmq.CqlmqError:
                pass
            time.sleep(0.1)
        raise RuntimeError("cqlmqd did not become ready")

    async def _hosts_up(self) -> int:
        async with cqlmq.connect(self.endpoint, connect_timeout=0.5, timeout=1) as c:
            return (await c.stats()).get("hosts_up", 0)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture(scope="session")
def cluster():
    """A 3-node cqlmq-node process; `.control` injects faults. It must exit
    cleanly at the end (a sanitizer build's reports fail the run)."""
    nc = NodeCluster(nodes=3, binary=binary("CQLMQ_NODE_BIN", "cqlmq-node")).start()
    try:
        yield nc
    finally:
        nc.stop_and_check()


@pytest.fixture(scope="session")
def gateway(cluster, tmp_path_factory):
    gw = Gateway(binary("CQLMQD", "cqlmqd"), cluster.port,
                 tmp_path_factory.mktemp("cqlmqd") / "cqlmqd.log")
    try:
        gw.wait_ready(hosts=cluster.nodes)
        yield gw
    finally:
        status = gw.stop()
        assert status == 0, f"cqlmqd exited with {status}: {gw.log_path.read_text()[-2000:]}"


@pytest.fixture
def control(cluster):
    """The node's fault control, with no fault rule left by another test."""
    cluster.control.clear()
    yield cluster.control
    cluster.control.clear()
