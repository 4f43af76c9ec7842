"""Streams: rows and pages, credit accounting, early exit, errors, resume,
and the event loop staying responsive while 200,000 rows stream."""

import asyncio
import gc
import struct
import time

import msgpack
import pytest

import cqlmq
from test_resilience import until

COLS = [["k", "int"], ["name", "text"], ["s", "set<int>"]]


def rows(n):
    return [[i, f"n{i}", [i]] for i in range(n)]


async def test_a_stream_yields_every_row_in_order(gw):
    gw.table("SELECT", COLS, rows(95))
    async with cqlmq.connect(gw.endpoint) as client:
        async with client.stream("SELECT", page_size=10) as s:
            got = [r async for r in s]
    assert [r.k for r in got] == list(range(95)) and got[3].s == {3}
    assert s.columns == [cqlmq.Column("k", "int"), ("name", "text"), ("s", "set<int>")]
    assert s.done == {"pages": 10, "rows": 95} and s.page_count == 10 and s.row_count == 95
    assert s.paging_state is None and s.closed
    q = gw.ops("query")[0]
    assert q["stream"] is True and q["credit"] == 2 and q["page_size"] == 10
    assert gw.violations == [] and gw.cancels == []


async def test_a_bare_async_for_works_and_all_collects(gw):
    gw.table("SELECT", COLS, rows(30))
    async with cqlmq.connect(gw.endpoint, row_factory=cqlmq.dict_factory) as client:
        n = 0
        async for row in client.stream("SELECT", page_size=7):
            assert row["k"] == n
            n += 1
        assert n == 30
        assert len(await client.stream("SELECT").all()) == 30


async def test_pages_come_with_seq_and_paging_state(gw):
    gw.table("SELECT", COLS, rows(25))
    async with cqlmq.connect(gw.endpoint) as client:
        async with client.stream("SELECT", page_size=10) as s:
            pages = [p async for p in s.pages()]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [p.seq for p in pages] == [0, 1, 2]
    assert pages[0].paging_state == struct.pack(">I", 10) and pages[2].paging_state is None
    assert isinstance(pages[0], cqlmq.Page) and pages[1][0].k == 10


async def test_credit_is_granted_after_processing_never_on_receipt(gw):
    gw.table("SELECT", COLS, rows(100))
    async with cqlmq.connect(gw.endpoint) as client:
        async with client.stream("SELECT", page_size=10, credit=3) as s:
            assert (await s.__anext__()).k == 0
            await until(lambda: gw.pages_sent == 3)
            await asyncio.sleep(0.05)
            assert gw.pages_sent == 3 and gw.credits == []   # nothing granted yet
            assert s.max_buffered <= 3
            for _ in range(9):
                await s.__anext__()                          # the rest of page 0
            assert gw.credits == []
            await s.__anext__()                              # page 0 finished now
            rid = gw.ops("query")[0]["id"]
            await until(lambda: gw.credits == [(rid, 1)])
            await until(lambda: gw.pages_sent == 4)
            rest = [r async for r in s]
    assert len(rest) == 89 and gw.violations == []


async def test_credit_accounting_holds_for_a_slow_consumer(gw):
    gw.limits["max_credit"] = 4
    gw.table("SELECT", COLS, rows(600))
    async with cqlmq.connect(gw.endpoint) as client:
        for credit in (1, 2, 4, 16):      # 16 is clamped to max_credit
            gw.credits.clear()
            async with client.stream("SELECT", page_size=20, credit=credit) as s:
                n = 0
                async for _ in s:
                    n += 1
                    if n % 20 == 0:
                        await asyncio.sleep(0.001)   # a consumer slower than the link
            window = min(credit, 4)
            assert n == 600 and s.page_count == 30
            assert 1 <= s.max_buffered <= window, (credit, s.max_buffered)
            q = gw.ops("query")[-1]
            assert q["credit"] == window
            granted = sum(c[1] for c in gw.credits)
            assert window + granted >= 30             # enough to finish
            assert granted <= 30 - 1                  # only for pages processed
    assert gw.violations == []


async def test_leaving_the_block_early_cancels_the_stream(gw):
    gw.table("SELECT", COLS, rows(1000))
    async with cqlmq.connect(gw.endpoint) as client:
        async with client.stream("SELECT", page_size=10) as s:
            async for row in s:
                if row.k == 15:
                    break
        rid = gw.ops("query")[0]["id"]
        await until(lambda: rid in gw.cancels)
        assert gw.stream_of(rid) is None and client._pending == {}
        assert gw.pages_sent <= 4                      # credit 2 + 1 granted back (+1)
        assert (await client.ping()) >= 0


async def test_an_abandoned_bare_iteration_is_cancelled_when_collected(gw):
    gw.table("SELECT", COLS, rows(1000))
    async with cqlmq.connect(gw.endpoint) as client:
        s = client.stream("SELECT", page_size=10)
        async for row in s:
            break
        rid = gw.ops("query")[0]["id"]
        del s, row
        gc.collect()
        await until(lambda: rid in gw.cancels)


async def test_pages_iteration_cancels_when_closed_early(gw):
    gw.table("SELECT", COLS, rows(1000))
    async with cqlmq.connect(gw.endpoint) as client:
        async with client.stream("SELECT", page_size=10) as s:
            async for page in s.pages():
                break
        await until(lambda: len(gw.cancels) == 1)


async def test_cancelling_a_task_waiting_for_a_page_cancels_the_stream(gw):
    gw.table("SELECT", COLS, rows(1000))
    gw.hold_pages = True
    async with cqlmq.connect(gw.endpoint) as client:
        s = client.stream("SELECT", page_size=10)

        async def consume():
            async for _ in s:
                pass

        task = asyncio.create_task(consume())
        await until(lambda: gw.ops("query"))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await until(lambda: len(gw.cancels) == 1)
        assert s.closed and client._pending == {}


async def test_cancelling_a_consumer_inside_async_with_cancels_the_stream(gw):
    gw.table("SELECT", COLS, rows(1000))
    async with cqlmq.connect(gw.endpoint) as client:
        async def consume():
            async with client.stream("SELECT", page_size=10) as s:
                async for _ in s:
                    await asyncio.sleep(10)  # busy elsewhere, not in the stream

        task = asyncio.create_task(consume())
        await until(lambda: gw.pages_sent >= 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await until(lambda: len(gw.cancels) == 1)


async def test_an_error_ends_the_stream_after_the_rows_before_it(gw):
    gw.on("SELECT", lambda req: [
        {"op": "page", "seq": 0, "columns": COLS, "rows": rows(3)},
        {"op": "error", "code": "read_timeout", "message": "replica slow", "cql_code": 0x1200,
         "details": {"consistency": "one", "received": 0, "block_for": 1,
                     "data_present": False}},
    ])
    async with cqlmq.connect(gw.endpoint) as client:
        got = []
        with pytest.raises(cqlmq.ReadTimeout) as ei:
            async for r in client.stream("SELECT"):
                got.append(r.k)
    assert got == [0, 1, 2] and ei.value.block_for == 1


async def test_a_gap_in_seq_is_a_protocol_error(gw):
    gw.on("SELECT", lambda req: [
        {"op": "page", "seq": 0, "columns": COLS, "rows": rows(1)},
        {"op": "page", "seq": 2, "rows": rows(1)},
    ])
    async with cqlmq.connect(gw.endpoint) as client:
        with pytest.raises(cqlmq.ProtocolError):
            async for _ in client.stream("SELECT"):
                pass
        await until(lambda: len(gw.cancels) == 1)


async def test_a_stream_started_without_session_says_hello_and_retries(gw):
    gw.table("SELECT", COLS, rows(12))
    async with cqlmq.connect(gw.endpoint) as client:
        gw.forget_sessions()
        assert len([r async for r in client.stream("SELECT", page_size=5)]) == 12
    assert gw.hellos == 2


async def test_a_prepared_statement_streams_and_is_prepared_again_if_needed(gw):
    gw.table("SELECT ?", COLS, rows(12))
    async with cqlmq.connect(gw.endpoint) as client:
        stmt = await client.prepare("SELECT ?")
        gw.drop_prepared()
        got = [r async for r in client.stream(stmt, [1], page_size=5)]
    assert len(got) == 12 and len(gw.ops("prepare")) == 2
    assert gw.ops("execute")[-1]["stream"] is True


async def test_a_silent_stream_times_out_and_is_cancelled(gw):
    gw.silent("SELECT")
    async with cqlmq.connect(gw.endpoint, deadline_margin=0.01) as client:
        with pytest.raises(cqlmq.OperationTimedOut):
            async for _ in client.stream("SELECT", timeout=0.05):
                pass
        await until(lambda: len(gw.cancels) == 1)


async def test_a_disconnect_ends_the_stream_and_paging_state_resumes_it(gw):
    gw.table("SELECT", COLS, rows(100))
    async with cqlmq.connect(gw.endpoint) as client:
        got = []
        with pytest.raises(cqlmq.Disconnected):
            async with client.stream("SELECT", page_size=10) as s:
                async for r in s:
                    got.append(r.k)
                    if r.k == 34:
                        await gw.stop()            # cqlmqd goes away mid-stream
                        await asyncio.sleep(0.3)   # pages already here are still delivered
        # resume: every row after the resume point arrives, none is skipped
        assert s.paging_state == struct.pack(">I", len(got) // 10 * 10)
        await gw.start()
        gw.table("SELECT", COLS, rows(100))
        rest = [r.k async for r in client.stream("SELECT", page_size=10,
                                                 paging_state=s.paging_state, timeout=3)]
        resumed_at = struct.unpack(">I", s.paging_state)[0]
        assert rest == list(range(resumed_at, 100))
        assert sorted(set(got) | set(rest)) == list(range(100))


async def test_the_event_loop_never_stalls_while_200000_rows_stream(gw):
    n_rows = 200_000
    ext_uuid = msgpack.ExtType(2, bytes(range(16)))
    ts = msgpack.Timestamp(1_700_000_000, 0)
    big = [[i, "name-%d" % i, ext_uuid, ts, 1.5] for i in range(n_rows)]
    # the fake's 1M row objects are not the client's: keep them out of the
    # cyclic GC's passes (with them a full collection alone stalls ~45 ms)
    gc.freeze()
    gw.table("BIG", [["k", "int"], ["name", "text"], ["id", "uuid"], ["at", "timestamp"],
                     ["x", "double"]], big)
    loop = asyncio.get_running_loop()
    gaps = []
    stop = False

    async def ticker():
        last = loop.time()
        while not stop:
            await asyncio.sleep(0.001)
            now = loop.time()
            gaps.append(now - last)
            last = now

    async with cqlmq.connect(gw.endpoint) as client:
        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0.01)
        t0 = time.perf_counter()
        n = 0
        async with client.stream("BIG", page_size=1000) as s:
            async for row in s:
                n += 1
        took = time.perf_counter() - t0
        stop = True
        await tick
    gw.handlers.clear()
    del big
    gc.unfreeze()
    assert n == n_rows and gw.violations == []
    lags = sorted(g - 0.001 for g in gaps)
    worst = lags[-1]
    p99 = lags[int(len(lags) * 0.99)]
    print(f"\n200000 rows in {took:.2f} s ({n_rows / took:,.0f} rows/s, fake gateway in the "
          f"same loop); loop lag max {worst * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, "
          f"{len(gaps)} ticks; client buffered at most {s.max_buffered} pages")
    assert worst < 0.100
    assert s.max_buffered <= 2


async def test_udts_of_the_first_page_type_the_udt_fields_of_every_page(gw):
    cols = [["k", "int"], ["a", "addr"]]
    udts = {"addr": [["loc", "frozen<tuple<int, int>>"], ["tags", "frozen<set<int>>"]]}
    gw.on("SELECT", lambda req: [
        {"op": "page", "seq": 0, "columns": cols, "udts": udts,
         "rows": [[0, {"loc": [0, 1], "tags": [1]}]]},
        {"op": "page", "seq": 1, "rows": [[1, {"loc": [2, 3], "tags": []}]]},
        {"op": "done", "pages": 2, "rows": 2},
    ])
    async with cqlmq.connect(gw.endpoint) as client:
        async with client.stream("SELECT") as s:
            got = [r async for r in s]
    assert [r.a for r in got] == [{"loc": (0, 1), "tags": {1}}, {"loc": (2, 3), "tags": set()}]
    assert s.udts == {"addr": [("loc", "frozen<tuple<int, int>>"), ("tags", "frozen<set<int>>")]}
