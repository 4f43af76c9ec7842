"""Fixtures: cqlmqd with its embedded node, sample data, and the app served
by uvicorn in a subprocess on a free port.

    CQLMQD=.../cqlmqd PYTHONPATH=<repo>/clients/python:<repo>/node/python \\
        /usr/bin/python3 -m pytest -q tests

cqlmqd comes from $CQLMQD (set by ctest), else <repo>/build/bin/cqlmqd;
without it the tests are skipped. `cqlmqd --embedded` logs the fault-control
endpoint of its node, which the tests use to slow down or fail reads.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

EXAMPLE = Path(__file__).resolve().parents[1]
REPO = EXAMPLE.parents[1]
for extra in (EXAMPLE, REPO / "clients" / "python", REPO / "node" / "python"):
    if extra.is_dir() and str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import cqlmq  # noqa: E402
import schema  # noqa: E402
from cqlmq_node import Control  # noqa: E402

SEEDED = 57  # sample patients


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python_path() -> str:
    parts = [str(EXAMPLE), str(REPO / "clients" / "python")]
    if os.environ.get("PYTHONPATH"):
        parts.append(os.environ["PYTHONPATH"])
    return os.pathsep.join(parts)


class EmbeddedGateway:
    """`cqlmqd --embedded` on a free port; `.control` is its node's fault
    control."""

    def __init__(self, cqlmqd: str, log_path: Path) -> None:
        self.endpoint = f"tcp://127.0.0.1:{free_port()}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen([cqlmqd, "--embedded", "--bind", self.endpoint],
                                     stdout=subprocess.DEVNULL, stderr=self._log)
        self.control = None

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cqlmqd exited: {self.log_path.read_text()[-2000:]}")
            control = self._control_endpoint()
            if control:
                try:
                    asyncio.run(self._probe())
                    self.control = Control(control)
                    return
                except cqlmq.CqlmqError:
                    pass
            time.sleep(0.1)
        raise RuntimeError("cqlmqd did not become ready")

    def _control_endpoint(self):
        for line in self.log_path.read_text().splitlines():
            entry = json.loads(line)
            if entry.get("msg") == "embedded node started":
                return entry["control"]
        return None

    async def _probe(self) -> None:
        async with cqlmq.connect(self.endpoint, connect_timeout=0.5, timeout=1) as c:
            await c.ping()

    def stop(self) -> int:
        if self.control is not None:
            self.control.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


class Server:
    """`python3 -m uvicorn app:app` on a free port."""

    def __init__(self, endpoint: str, keyspace: str, log_path: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        env = dict(os.environ, PYTHONPATH=python_path(), CQLMQ_ENDPOINT=endpoint,
                   HEALTH_KEYSPACE=keyspace)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1",
             "--port", self.url.rsplit(":", 1)[1]],
            cwd=EXAMPLE, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the app did not answer /healthz")

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
def gateway(tmp_path_factory):
    cqlmqd = os.environ.get("CQLMQD") or str(REPO / "build" / "bin" / "cqlmqd")
    if not os.access(cqlmqd, os.X_OK):
        pytest.skip("set CQLMQD to the cqlmqd binary")
    gw = EmbeddedGateway(cqlmqd, tmp_path_factory.mktemp("cqlmqd") / "cqlmqd.log")
    try:
        gw.wait_ready()
        yield gw
    finally:
        status = gw.stop()
        assert status == 0, f"cqlmqd exited with {status}: {gw.log_path.read_text()[-2000:]}"


@pytest.fixture(scope="session")
def keyspace():
    return "health_" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def seeded(gateway, keyspace):
    """Ids of the sample patients."""
    async def run():
        async with cqlmq.connect(gateway.endpoint, timeout=10) as c:
            await schema.create_schema(c, keyspace)
            return await schema.seed(c, keyspace, SEEDED, rng=random.Random(6))
    return asyncio.run(run())


@pytest.fixture(scope="session")
def server(gateway, keyspace, seeded, tmp_path_factory):
    srv = Server(gateway.endpoint, keyspace, tmp_path_factory.mktemp("uvicorn") / "uvicorn.log")
    try:
        srv.wait_ready()
        yield srv
    finally:
        status = srv.stop()
        log = srv.log_path.read_text()
        assert status == 0 and "Application shutdown complete" in log, log[-2000:]


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@pytest.fixture
def control(gateway):
    """The embedded node's fault control, with no fault left by another test."""
    gateway.control.clear()
    yield gateway.control
    gateway.control.clear()
