"""The request API against the fake gateway: connect, execute, results,
paging, prepare, batch, ping, stats, row factories, options on the wire."""

import dataclasses
import datetime as dt
import time
import uuid

import msgpack
import pytest

import cqlmq
from fakegw import FakeGateway

UTC = dt.timezone.utc
USERS_COLS = [["id", "uuid"], ["name", "text"], ["tags", "set<text>"]]
U1 = uuid.UUID(int=1)


def users(n):
    return [[msgpack.ExtType(2, uuid.UUID(int=i).bytes), f"u{i}", ["a", "b"]] for i in range(n)]


async def test_connect_says_hello_and_learns_the_limits(gw):
    t0 = time.perf_counter()
    client = await cqlmq.connect(gw.endpoint, client_name="tests/1")
    took = time.perf_counter() - t0
    try:
        hello = gw.ops("hello")[0]
        assert hello["protocol"] == 1 and hello["client"] == "tests/1"
        assert client.server == "fakegw/0.1"
        assert client.session == "s1"
        assert client.limits["max_credit"] == gw.limits["max_credit"]
        assert client.limits["default_page_size"] == 100
        print(f"connect took {took * 1e3:.2f} ms")
        assert took < 1.0
    finally:
        await client.close()
    assert client.closed
    with pytest.raises(cqlmq.Disconnected):
        await client.execute("SELECT 1")


async def test_connect_is_also_an_async_context_manager(gw):
    async with cqlmq.connect(gw.endpoint) as client:
        assert (await client.execute("INSERT")).kind == "void"
    assert client.closed


async def test_connect_to_nobody_times_out():
    with pytest.raises(cqlmq.OperationTimedOut):
        await cqlmq.connect("tcp://127.0.0.1:9", connect_timeout=0.2)


async def test_a_malformed_endpoint_is_a_value_error():
    with pytest.raises(ValueError):
        await cqlmq.connect("nonsense://x")


async def test_connect_refused_by_a_newer_server_raises_unsupported_version():
    gw = FakeGateway(protocol=2)
    await gw.start()
    try:
        with pytest.raises(cqlmq.UnsupportedVersion) as ei:
            await cqlmq.connect(gw.endpoint)
        assert ei.value.supported == [2]
    finally:
        await gw.stop()


async def test_execute_returns_rows_as_named_tuples(gw):
    gw.table("SELECT * FROM users", USERS_COLS, users(3))
    async with cqlmq.connect(gw.endpoint) as client:
        r = await client.execute("SELECT * FROM users")
    assert r.kind == "rows"
    assert r.columns == [cqlmq.Column("id", "uuid"), ("name", "text"), ("tags", "set<text>")]
    assert r.column_names == ["id", "name", "tags"]
    assert len(r) == 3 and r.paging_state is None and not r.has_more_pages
    row = r.one()
    assert row.id == uuid.UUID(int=0) and row.name == "u0" and row.tags == {"a", "b"}
    assert row == (uuid.UUID(int=0), "u0", {"a", "b"})
    assert [x.name for x in r] == ["u0", "u1", "u2"]
    assert r.all() == list(r) and r[2].name == "u2"
    assert r.applied is None


async def test_empty_and_non_row_results(gw):
    gw.table("SELECT none", USERS_COLS, [])
    gw.on("USE app", lambda req: {"op": "result", "kind": "set_keyspace", "keyspace": "app"})
    gw.on("CREATE TABLE t", lambda req: {"op": "result", "kind": "schema_change",
                                         "change": "CREATED", "target": "TABLE",
                                         "keyspace": "app", "name": "t",
                                         "warnings": ["careful"]})
    async with cqlmq.connect(gw.endpoint) as client:
        r = await client.execute("SELECT none")
        assert r.one() is None and r.all() == [] and not r
        r = await client.execute("USE app")
        assert r.kind == "set_keyspace" and r.keyspace == "app"
        r = await client.execute("CREATE TABLE t")
        assert (r.kind, r.change, r.target, r.keyspace, r.name) == \
            ("schema_change", "CREATED", "TABLE", "app", "t")
        assert r.warnings == ["careful"]


async def test_paging_state_walks_a_result_page_by_page(gw):
    gw.table("SELECT * FROM users", USERS_COLS, users(25))
    async with cqlmq.connect(gw.endpoint) as client:
        seen, ps, pages = [], None, 0
        while True:
            r = await client.execute("SELECT * FROM users", page_size=10, paging_state=ps)
            pages += 1
            seen += [row.name for row in r]
            ps = r.paging_state
            if ps is None:
                break
            assert isinstance(ps, bytes)
    assert pages == 3 and seen == [f"u{i}" for i in range(25)]
    sent = gw.ops("query")
    assert sent[0]["page_size"] == 10 and "paging_state" not in sent[0]
    assert sent[1]["paging_state"] == b"\x00\x00\x00\x0a"


async def test_applied_reads_the_lwt_column(gw):
    gw.on("UPDATE IF", lambda req: {"op": "result", "kind": "rows",
                                    "columns": [["[applied]", "boolean"], ["v", "int"]],
                                    "rows": [[False, 7]]})
    gw.on("INSERT IF", lambda req: {"op": "result", "kind": "rows",
                                    "columns": [["[applied]", "boolean"]], "rows": [[True]]})
    async with cqlmq.connect(gw.endpoint) as client:
        r = await client.execute("UPDATE IF")
        assert r.applied is False and r.one().applied is False and r.one().v == 7
        assert (await client.execute("INSERT IF")).applied is True


async def test_options_travel_as_documented(gw):
    async with cqlmq.connect(gw.endpoint, default_consistency="QUORUM", keyspace="app",
                             timeout=3) as client:
        await client.execute("INSERT", [1, "x"], serial_consistency="local_serial",
                             idempotent=True, timestamp=1234, page_size=5)
        await client.execute("INSERT", {"a": 1}, consistency=cqlmq.ConsistencyLevel.ALL,
                             keyspace="other", timeout=0.5,
                             timestamp=dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC))
        with pytest.raises(ValueError):
            await client.execute("INSERT", consistency="most")
        with pytest.raises(ValueError):
            await client.execute("INSERT", serial_consistency="quorum")
        with pytest.raises(ValueError):
            await client.execute("INSERT", page_size=0)
    a, b = gw.ops("query")
    assert a["cql"] == "INSERT" and a["params"] == [1, "x"]
    assert a["consistency"] == "quorum" and a["serial_consistency"] == "local_serial"
    assert a["idempotent"] is True and a["timestamp"] == 1234 and a["page_size"] == 5
    assert a["keyspace"] == "app" and a["timeout_ms"] == 3000
    assert b["params"] == {"a": 1} and b["consistency"] == "all"
    assert b["keyspace"] == "other" and b["timeout_ms"] == 500 and b["timestamp"] == 1_000_000
    assert "stream" not in a


async def test_params_are_encoded_per_the_value_table(gw):
    async with cqlmq.connect(gw.endpoint) as client:
        await client.execute("INSERT", [U1, dt.date(1970, 1, 2), {1, 2}, cqlmq.UNSET, None])
    raw = gw.raw[-1]
    # the uuid and the date travel as their extension bytes
    assert bytes.fromhex("d802") + U1.bytes in raw
    assert bytes.fromhex("d60500000001") in raw
    params = gw.ops("query")[-1]["params"]
    assert params[0] == msgpack.ExtType(2, U1.bytes)
    assert params[2] == [1, 2] and params[3] == msgpack.ExtType(10, b"") and params[4] is None


async def test_row_factories(gw):
    gw.table("SELECT", [["id", "int"], ["count(*)", "bigint"], ["class", "text"]],
             [[1, 2, "x"]])

    @dataclasses.dataclass
    class Thing:
        id: int
        cls: str = "?"

    async with cqlmq.connect(gw.endpoint, row_factory=cqlmq.dict_factory) as client:
        assert (await client.execute("SELECT")).one() == {"id": 1, "count(*)": 2, "class": "x"}
        assert (await client.execute("SELECT", row_factory=cqlmq.tuple_factory)).one() == (1, 2, "x")
        row = (await client.execute("SELECT", row_factory=cqlmq.named_tuple_factory)).one()
        assert (row.id, row.count, row.class_) == (1, 2, "x")
        assert (await client.execute("SELECT", row_factory=Thing)).one() == Thing(1)
    with pytest.raises(TypeError):
        cqlmq.dataclass_factory(int)


async def test_prepare_then_execute_by_handle(gw):
    gw.table("SELECT * FROM users WHERE id = ?", USERS_COLS, users(1))
    gw.prepared_meta["SELECT * FROM users WHERE id = ?"] = ([["id", "uuid"]], USERS_COLS)
    async with cqlmq.connect(gw.endpoint, keyspace="app") as client:
        stmt = await client.prepare("SELECT * FROM users WHERE id = ?")
        assert stmt.params == [cqlmq.Column("id", "uuid")] and len(stmt.columns) == 3
        assert isinstance(stmt.handle, bytes) and stmt.keyspace == "app"
        r = await client.execute(stmt, [U1])
        assert r.one().name == "u0"
    prep = gw.ops("prepare")[0]
    assert prep["keyspace"] == "app"
    ex = gw.ops("execute")[0]
    assert ex["handle"] == stmt.handle and "cql" not in ex and "keyspace" not in ex
    assert ex["params"] == [msgpack.ExtType(2, U1.bytes)]


async def test_unprepared_handle_is_prepared_again_and_retried(gw):
    gw.table("SELECT * FROM users", USERS_COLS, users(2))
    async with cqlmq.connect(gw.endpoint) as client:
        stmt = await client.prepare("SELECT * FROM users")
        gw.drop_prepared()  # as after a cqlmqd restart
        r = await client.execute(stmt)
        assert len(r) == 2
    assert len(gw.ops("prepare")) == 2 and len(gw.ops("execute")) == 2


async def test_batch_mixes_text_and_prepared_statements(gw):
    async with cqlmq.connect(gw.endpoint) as client:
        ins = await client.prepare("INSERT INTO t (k, v) VALUES (?, ?)")
        r = await client.batch([
            ("INSERT INTO t (k, v) VALUES (1, ?)", ["a"]),
            (ins, (2, "b")),
            "DELETE FROM t WHERE k = 3",
        ], kind="unlogged", consistency="quorum", timestamp=99)
        assert r.kind == "void"
        with pytest.raises(ValueError):
            await client.batch([], kind="logged")
        with pytest.raises(ValueError):
            await client.batch(["X"], kind="sideways")
        gw.drop_prepared()
        await client.batch([(ins, (3, "c"))], kind="counter")
    b = gw.ops("batch")
    assert b[0]["kind"] == "unlogged" and b[0]["consistency"] == "quorum"
    assert b[0]["timestamp"] == 99
    assert b[0]["statements"] == [
        {"cql": "INSERT INTO t (k, v) VALUES (1, ?)", "params": ["a"]},
        {"handle": ins.handle, "params": [2, "b"]},
        {"cql": "DELETE FROM t WHERE k = 3"},
    ]
    assert [x["kind"] for x in b[1:]] == ["counter", "counter"]  # re-prepared, retried


async def test_ping_returns_the_round_trip_and_stats_the_counters(gw):
    async with cqlmq.connect(gw.endpoint) as client:
        rtt = await client.ping()
        assert 0 < rtt < 1
        st = await client.stats()
        assert st["hosts_up"] == 1 and "op" not in st and "id" not in st


async def test_many_concurrent_requests_are_routed_by_id(gw):
    import asyncio
    for i in range(50):
        gw.table(f"SELECT {i}", [["v", "int"]], [[i]])
    async with cqlmq.connect(gw.endpoint, timeout=10) as client:
        rs = await asyncio.gather(*[client.execute(f"SELECT {i % 50}") for i in range(500)])
    assert [r.one().v for r in rs] == [i % 50 for i in range(500)]
    ids = [r["id"] for r in gw.requests if r["op"] == "query"]
    assert len(set(ids)) == 500


async def test_oversize_requests_are_refused_before_sending(gw):
    gw.limits["max_message_bytes"] = 1000
    async with cqlmq.connect(gw.endpoint) as client:
        with pytest.raises(cqlmq.BadRequest):
            await client.execute("INSERT", [b"x" * 2000])
        assert (await client.execute("INSERT", [b"x" * 10])).kind == "void"
    assert len(gw.ops("query")) == 1


async def test_idle_client_pings_to_keep_its_lease(gw):
    import asyncio
    gw.limits["lease_ms"] = 300
    async with cqlmq.connect(gw.endpoint):
        await asyncio.sleep(0.5)
    assert len(gw.ops("ping")) >= 2


ADDR_UDTS = {"addr": [["street", "text"], ["loc", "frozen<tuple<double, double>>"],
                      ["tags", "frozen<set<text>>"]]}


async def test_udt_fields_are_typed_by_the_udts_of_the_reply(gw):
    addr = {"street": "Main", "loc": [1.5, -2.5], "tags": ["a", "b"]}
    gw.on("SELECT a FROM t", lambda req: {
        "op": "result", "kind": "rows", "columns": [["a", "addr"], ["l", "list<frozen<addr>>"]],
        "udts": ADDR_UDTS, "rows": [[dict(addr), [dict(addr, tags=None)]]]})
    gw.prepared_meta["INSERT INTO t (k, a) VALUES (?, ?)"] = (
        [["k", "int"], ["a", "frozen<addr>"]], [], ADDR_UDTS)
    async with cqlmq.connect(gw.endpoint) as client:
        r = await client.execute("SELECT a FROM t")
        stmt = await client.prepare("INSERT INTO t (k, a) VALUES (?, ?)")
    assert r.udts == {"addr": [("street", "text"), ("loc", "frozen<tuple<double, double>>"),
                               ("tags", "frozen<set<text>>")]}
    row = r.one()
    assert row.a == {"street": "Main", "loc": (1.5, -2.5), "tags": {"a", "b"}}
    assert type(row.a["loc"]) is tuple and type(row.a["tags"]) is set
    assert row.l == [{"street": "Main", "loc": (1.5, -2.5), "tags": None}]
    assert stmt.udts == r.udts and stmt.params[1].type == "frozen<addr>"
