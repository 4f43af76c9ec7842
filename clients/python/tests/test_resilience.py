"""Cancellation, deadlines, session recovery and disconnects."""

import asyncio
import time

import msgpack
import pytest

import cqlmq
from fakegw import FakeGateway, FreezeProxy


async def until(cond, timeout=3.0):
    """Waits for cond() to hold (polling the loop), or fails."""
    t_end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > t_end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


async def test_cancelling_the_awaiting_task_sends_cancel(gw):
    gw.silent("SLOW")
    async with cqlmq.connect(gw.endpoint) as client:
        task = asyncio.create_task(client.execute("SLOW"))
        await until(lambda: gw.ops("query"))
        rid = gw.ops("query")[0]["id"]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await until(lambda: rid in gw.cancels)
        assert client._pending == {}
        # the `cancelled` reply that follows is dropped, the client goes on
        assert (await client.execute("OTHER")).kind == "void"


async def test_the_client_deadline_raises_operation_timed_out_and_cancels(gw):
    gw.silent("SLOW")
    async with cqlmq.connect(gw.endpoint, deadline_margin=0.05) as client:
        t0 = time.monotonic()
        with pytest.raises(cqlmq.OperationTimedOut) as ei:
            await client.execute("SLOW", timeout=0.1)
        took = time.monotonic() - t0
        assert ei.value.code == "client_timeout"
        assert 0.14 <= took < 1.0          # timeout_ms + margin, not less
        q = gw.ops("query")[0]
        assert q["timeout_ms"] == 100
        await until(lambda: q["id"] in gw.cancels)


async def test_a_timeout_reply_from_cqlmqd_is_operation_timed_out(gw):
    gw.fail("Q", "timeout", "deadline passed in cqlmqd")
    async with cqlmq.connect(gw.endpoint) as client:
        with pytest.raises(cqlmq.OperationTimedOut) as ei:
            await client.execute("Q")
    assert ei.value.code == "timeout"


async def test_a_late_reply_after_the_deadline_is_ignored(gw):
    gw.silent("SLOW")
    async with cqlmq.connect(gw.endpoint, deadline_margin=0.01) as client:
        with pytest.raises(cqlmq.OperationTimedOut):
            await client.execute("SLOW", timeout=0.05)
        (peer, rid), _ = next(iter(gw.held.items()))
        gw.reply(peer, rid, {"op": "result", "kind": "void"})
        gw.sock.send_multipart([peer, b"\xc1 not msgpack"])
        gw.sock.send_multipart([peer, msgpack.packb([1, 2])])
        assert await client.ping() >= 0
        assert (await client.execute("OTHER")).kind == "void"


async def test_unknown_session_makes_the_client_hello_again_and_retry(gw):
    gw.table("SELECT", [["v", "int"]], [[1]])
    async with cqlmq.connect(gw.endpoint) as client:
        gw.forget_sessions()  # cqlmqd "restarted" (or the lease expired)
        rs = await asyncio.gather(*[client.execute("SELECT") for _ in range(20)])
        assert all(r.one().v == 1 for r in rs)
        assert gw.hellos == 2 and client.hellos == 2  # one shared re-handshake
        assert len(gw.ops("query")) == 40             # each retried once
        assert client.session == "s2"


async def test_unknown_session_is_retried_only_once(gw):
    gw.fail("Q", "unknown_session", "still no session")
    async with cqlmq.connect(gw.endpoint) as client:
        with pytest.raises(cqlmq.UnknownSession):
            await client.execute("Q")
    assert len(gw.ops("query")) == 2 and gw.hellos == 2


async def test_requests_in_flight_fail_with_disconnected_and_the_client_recovers(gw):
    gw.silent("SLOW")
    async with cqlmq.connect(gw.endpoint) as client:
        tasks = [asyncio.create_task(client.execute("SLOW")) for _ in range(3)]
        await until(lambda: len(gw.ops("query")) == 3)
        await gw.stop()                     # cqlmqd goes away
        for t in tasks:
            with pytest.raises(cqlmq.Disconnected):
                await t
        assert client.disconnects == 1 and client.session is None
        await gw.start()                    # and comes back on the same port
        r = await client.execute("OTHER", timeout=2)
        assert r.kind == "void" and client.hellos == 2


async def test_a_silent_peer_is_detected_by_heartbeats():
    gw = FakeGateway()
    await gw.start()
    proxy = FreezeProxy(gw.port)
    await proxy.start()
    gw.silent("SLOW")
    try:
        async with cqlmq.connect(f"tcp://127.0.0.1:{proxy.port}", heartbeat_ivl=0.1,
                                 heartbeat_timeout=0.3, timeout=10) as client:
            task = asyncio.create_task(client.execute("SLOW"))
            await until(lambda: gw.ops("query"))
            proxy.frozen = True             # the TCP connection stays, nothing passes
            t0 = time.monotonic()
            with pytest.raises(cqlmq.Disconnected):
                await task
            took = time.monotonic() - t0
            print(f"dead peer noticed after {took * 1e3:.0f} ms")
            assert took < 2.0
    finally:
        await proxy.stop()
        await gw.stop()


async def test_close_fails_what_is_in_flight(gw):
    gw.silent("SLOW")
    client = await cqlmq.connect(gw.endpoint)
    task = asyncio.create_task(client.execute("SLOW"))
    await until(lambda: gw.ops("query"))
    await client.close()
    with pytest.raises(cqlmq.Disconnected):
        await task
    await client.close()  # idempotent


async def test_in_flight_requests_are_bounded_by_the_servers_limit(gw):
    gw.limits["max_in_flight"] = 4
    gw.silent("SLOW")
    async with cqlmq.connect(gw.endpoint) as client:
        tasks = [asyncio.create_task(client.execute("SLOW")) for _ in range(10)]
        await until(lambda: len(gw.ops("query")) == 4)
        await asyncio.sleep(0.05)
        assert len(gw.ops("query")) == 4     # the others wait in the client
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await until(lambda: len(gw.cancels) == 4)


async def test_the_deadline_covers_waiting_for_a_slot(gw):
    gw.limits["max_in_flight"] = 1
    gw.silent("SLOW")
    async with cqlmq.connect(gw.endpoint, deadline_margin=0.01) as client:
        first = asyncio.create_task(client.execute("SLOW", timeout=5))
        await until(lambda: gw.ops("query"))
        with pytest.raises(cqlmq.OperationTimedOut):
            await client.execute("SLOW", timeout=0.05)
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)


async def test_a_forked_worker_gets_its_own_connection(gw):
    """Pre-fork servers (gunicorn, celery): a child process connects on its
    own, with its own ZeroMQ context, while the parent keeps working."""
    import os

    gw.table("SELECT", [["v", "int"]], [[7]])
    async with cqlmq.connect(gw.endpoint) as client:
        assert (await client.execute("SELECT")).one().v == 7
        pid = os.fork()
        if pid == 0:  # the child: a fresh loop, a fresh context
            code = 1
            try:
                async def child():
                    async with cqlmq.connect(gw.endpoint, connect_timeout=3) as c:
                        return (await c.execute("SELECT")).one().v
                code = 0 if asyncio.run(child()) == 7 else 2
            finally:
                os._exit(code)
        loop = asyncio.get_running_loop()
        _, status = await loop.run_in_executor(None, os.waitpid, pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert (await client.execute("SELECT")).one().v == 7
    assert gw.hellos == 2
