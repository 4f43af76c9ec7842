"""End-to-end tests against a real cqlmqd with its embedded node.

Skipped unless CQLMQD names the cqlmqd binary:

    CQLMQD=build/bin/cqlmqd /usr/bin/python3 -m pytest -q tests/test_e2e.py -s

The fixture starts `cqlmqd --embedded --bind tcp://127.0.0.1:<free port>`
and stops it at the end. CQLMQ_E2E_ROWS sets the size of the streaming
test (default 200000).
"""

import asyncio
import datetime as dt
import decimal
import ipaddress
import os
import socket
import subprocess
import time
import uuid

import pytest

import cqlmq

CQLMQD = os.environ.get("CQLMQD", "")
pytestmark = pytest.mark.skipif(
    not (CQLMQD and os.access(CQLMQD, os.X_OK)),
    reason="set CQLMQD=/path/to/cqlmqd to run the end-to-end tests",
)
KS = "cqlmq_py_e2e"
UTC = dt.timezone.utc


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self) -> None:
        self.port = _free_port()
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen([CQLMQD, "--embedded", "--bind", self.endpoint],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cqlmqd exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                asyncio.run(self._probe())
                return
            except cqlmq.CqlmqError:
                time.sleep(0.1)
        raise RuntimeError("cqlmqd did not answer hello within 15 s")

    async def _probe(self) -> None:
        async with cqlmq.connect(self.endpoint, connect_timeout=0.5) as c:
            await c.ping()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def daemon():
    d = Daemon()
    d.start()

    async def schema():
        async with cqlmq.connect(d.endpoint, timeout=10) as c:
            await c.execute(f"CREATE KEYSPACE IF NOT EXISTS {KS} WITH replication = "
                            "{'class': 'SimpleStrategy', 'replication_factor': 1}")
    asyncio.run(schema())
    yield d
    d.stop()


async def test_connect_ping_and_stats(daemon):
    t0 = time.perf_counter()
    async with cqlmq.connect(daemon.endpoint) as c:
        took = time.perf_counter() - t0
        rtt = await c.ping()
        st = await c.stats()
    print(f"\nconnect {took * 1e3:.2f} ms, ping {rtt * 1e6:.0f} us, stats {sorted(st)}")
    assert c.server and c.limits["max_credit"] >= 1


async def test_write_read_page_and_lwt(daemon):
    async with cqlmq.connect(daemon.endpoint, keyspace=KS, timeout=10) as c:
        await c.execute("CREATE TABLE IF NOT EXISTS kv (k int, c int, v text, "
                        "PRIMARY KEY (k, c))")
        ins = await c.prepare("INSERT INTO kv (k, c, v) VALUES (?, ?, ?)")
        await asyncio.gather(*[c.execute(ins, [1, i, f"v{i}"]) for i in range(250)])
        r = await c.execute("SELECT c, v FROM kv WHERE k = ?", [1], page_size=100)
        seen = [row.c for row in r]
        while r.paging_state is not None:
            r = await c.execute("SELECT c, v FROM kv WHERE k = ?", [1], page_size=100,
                                paging_state=r.paging_state)
            seen += [row.c for row in r]
        assert seen == list(range(250))
        r = await c.execute("INSERT INTO kv (k, c, v) VALUES (2, 0, 'x') IF NOT EXISTS")
        assert r.applied is True
        r = await c.execute("INSERT INTO kv (k, c, v) VALUES (2, 0, 'y') IF NOT EXISTS")
        assert r.applied is False
        await c.batch([(ins, [3, 0, "a"]), ("INSERT INTO kv (k, c, v) VALUES (3, 1, ?)", ["b"])],
                      kind="logged")
        r = await c.execute("SELECT v FROM kv WHERE k = 3")
        assert [row.v for row in r] == ["a", "b"]


async def test_errors_map_to_exceptions(daemon):
    async with cqlmq.connect(daemon.endpoint, keyspace=KS, timeout=10) as c:
        with pytest.raises(cqlmq.SyntaxException):
            await c.execute("SELEKT * FROM nowhere")
        with pytest.raises(cqlmq.InvalidRequest):
            await c.execute("SELECT * FROM no_such_table")
        with pytest.raises(cqlmq.AlreadyExists) as ei:
            await c.execute(f"CREATE KEYSPACE {KS} WITH replication = "
                            "{'class': 'SimpleStrategy', 'replication_factor': 1}")
        assert ei.value.keyspace == KS


async def test_every_value_type_round_trips(daemon):
    values = {
        "u": uuid.uuid4(), "ts": dt.datetime(2024, 2, 29, 12, 0, 1, 123000, tzinfo=UTC),
        "d": dt.date(1969, 7, 20), "tm": dt.time(23, 59, 59, 999999),
        "dec": decimal.Decimal("-123.4500"), "vi": 2**80, "ip": ipaddress.ip_address("::1"),
        "du": cqlmq.Duration(1, 2, 3_000_000_000), "l": [3, 1, 2], "s": {"a", "b"},
        "m": {"x": 1}, "tu": (1, "one"), "b": b"\x00\xff", "bo": True, "f": 1.5,
        "db": 2.25, "bi": -(2**63), "ti": -128,
    }
    async with cqlmq.connect(daemon.endpoint, keyspace=KS, timeout=10) as c:
        await c.execute(
            "CREATE TABLE IF NOT EXISTS types (k int PRIMARY KEY, u uuid, ts timestamp, "
            "d date, tm time, dec decimal, vi varint, ip inet, du duration, l list<int>, "
            "s set<text>, m map<text, int>, tu frozen<tuple<int, text>>, b blob, "
            "bo boolean, f float, db double, bi bigint, ti tinyint)")
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        await c.execute(f"INSERT INTO types (k, {cols}) VALUES (1, {marks})",
                        list(values.values()))
        row = (await c.execute(f"SELECT {cols} FROM types WHERE k = 1",
                               row_factory=cqlmq.dict_factory)).one()
    assert row == values


async def test_streaming_keeps_the_loop_responsive(daemon):
    n_rows = int(os.environ.get("CQLMQ_E2E_ROWS", "200000"))
    async with cqlmq.connect(daemon.endpoint, keyspace=KS, timeout=30) as c:
        await c.execute("CREATE TABLE IF NOT EXISTS big (p int, c int, v text, "
                        "PRIMARY KEY (p, c))")
        ins = await c.prepare("INSERT INTO big (p, c, v) VALUES (?, ?, ?)")
        per = 100
        for start in range(0, n_rows, per * 50):
            await asyncio.gather(*[
                c.batch([(ins, [b, i, f"value-{b}-{i}"]) for i in range(per)], kind="unlogged")
                for b in range(start // per, min(n_rows, start + per * 50) // per)])
        loop = asyncio.get_running_loop()
        gaps, stop = [], False

        async def ticker():
            last = loop.time()
            while not stop:
                await asyncio.sleep(0.001)
                now = loop.time()
                gaps.append(now - last)
                last = now

        tick = asyncio.create_task(ticker())
        t0 = time.perf_counter()
        n = 0
        async with c.stream("SELECT p, c, v FROM big", page_size=1000) as s:
            async for _ in s:
                n += 1
        took = time.perf_counter() - t0
        stop = True
        await tick
    lags = sorted(g - 0.001 for g in gaps)
    print(f"\ncqlmqd: {n} rows in {took:.2f} s ({n / took:,.0f} rows/s); loop lag max "
          f"{lags[-1] * 1e3:.1f} ms, p99 {lags[int(len(lags) * 0.99)] * 1e3:.1f} ms; "
          f"client buffered at most {s.max_buffered} pages")
    assert n == n_rows and lags[-1] < 0.100 and s.max_buffered <= 2


async def test_a_cqlmqd_restart_is_survived(daemon):
    async with cqlmq.connect(daemon.endpoint, timeout=5) as c:
        await c.ping()
        daemon.stop()
        await asyncio.sleep(0.2)
        with pytest.raises((cqlmq.Disconnected, cqlmq.OperationTimedOut)):
            await c.ping(timeout=0.5)
        await asyncio.get_running_loop().run_in_executor(None, daemon.start)
        assert await c.ping() >= 0   # hello again on the new process
        assert c.hellos >= 2
