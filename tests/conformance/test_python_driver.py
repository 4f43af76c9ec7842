"""The DataStax python driver, default settings, against a 3-node cluster.

Everything runs twice: with the driver's own protocol negotiation (it
starts above v4 and steps down on our "unsupported protocol version"
errors, ending at v4), and with protocol_version=3. The tests of one
version share one cluster and run in file order (keyspace first; the
topology test, which adds and removes nodes, last).
"""

import logging
import threading
import uuid

import pytest
from cassandra.cluster import Cluster
from cassandra.query import BatchStatement, BatchType, SimpleStatement

from conftest import start_cluster, wait_until

logging.getLogger("cassandra").setLevel(logging.ERROR)

KS = "conf"


@pytest.fixture(scope="module", params=[None, 3], ids=["negotiated-v4", "v3"])
def env(request, node_binary):
    nc = start_cluster(node_binary, nodes=3)
    kwargs = {"contact_points": nc.contact_points, "port": nc.port}
    if request.param is not None:
        kwargs["protocol_version"] = request.param
    cluster = Cluster(**kwargs)
    try:
        session = cluster.connect()
        yield {"node": nc, "cluster": cluster, "session": session,
               "version": request.param or 4}
    finally:
        cluster.shutdown()
        nc.stop_and_check()


def test_driver_negotiates_the_expected_protocol_version(env):
    assert env["cluster"].protocol_version == env["version"]


def test_driver_discovers_every_node_and_builds_a_token_map(env):
    cluster = env["cluster"]
    hosts = cluster.metadata.all_hosts()
    assert sorted(h.address for h in hosts) == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert all(h.is_up for h in hosts)
    assert {h.datacenter for h in hosts} == {"datacenter1"}
    assert {h.rack for h in hosts} == {"rack1"}
    assert len({h.host_id for h in hosts}) == 3
    ring = cluster.metadata.token_map.ring
    assert len(ring) == 3
    owners = {cluster.metadata.token_map.token_to_host_owner[t].address for t in ring}
    assert owners == {"127.0.0.1", "127.0.0.2", "127.0.0.3"}
    wait_until(lambda: len(env["session"].get_pools()) == 3, 10, what="a pool per host")


def test_ddl_creates_keyspace_and_tables_seen_in_metadata(env):
    s, cluster = env["session"], env["cluster"]
    s.execute("CREATE KEYSPACE %s WITH replication = "
              "{'class': 'SimpleStrategy', 'replication_factor': 1}" % KS)
    s.execute("CREATE TABLE %s.kv (k int PRIMARY KEY, v text)" % KS)
    s.execute("CREATE TABLE %s.rows (p int, c int, v text, PRIMARY KEY (p, c))" % KS)
    s.execute("CREATE TABLE %s.lwt (k int PRIMARY KEY, v text, n int)" % KS)
    wait_until(lambda: KS in cluster.metadata.keyspaces and
               {"kv", "rows", "lwt"} <= set(cluster.metadata.keyspaces[KS].tables),
               10, what="tables in cluster.metadata")
    t = cluster.metadata.keyspaces[KS].tables["rows"]
    assert [c.name for c in t.partition_key] == ["p"]
    assert [c.name for c in t.clustering_key] == ["c"]
    assert set(t.columns) == {"p", "c", "v"}


def test_schema_change_of_a_new_table_reaches_metadata(env):
    s, cluster = env["session"], env["cluster"]
    s.execute("CREATE TABLE %s.later (id int PRIMARY KEY, x int)" % KS)
    wait_until(lambda: "later" in cluster.metadata.keyspaces[KS].tables, 10,
               what="new table in metadata")
    s.execute("DROP TABLE %s.later" % KS)
    wait_until(lambda: "later" not in cluster.metadata.keyspaces[KS].tables, 10,
               what="dropped table gone from metadata")


def test_prepared_writes_read_back_and_route_by_token(env):
    s, control = env["session"], env["node"].control
    ins = s.prepare("INSERT INTO %s.kv (k, v) VALUES (?, ?)" % KS)
    sel = s.prepare("SELECT k, v FROM %s.kv WHERE k = ?" % KS)
    control.clear_log()
    for k in range(200):
        s.execute(ins, (k, "value-%d" % k))
    for k in range(200):
        row = s.execute(sel, (k,)).one()
        assert row is not None and row.k == k and row.v == "value-%d" % k
    executes = control.log(opcode="EXECUTE", query="%s.kv" % KS)
    assert len(executes) == 400
    assert len({e["node"] for e in executes}) == 3, "token-aware routing uses every node"


def test_paging_through_20000_rows_sees_each_row_once(env):
    s, control = env["session"], env["node"].control
    ins = s.prepare("INSERT INTO %s.rows (p, c, v) VALUES (?, ?, ?)" % KS)
    for batch_no in range(200):
        b = BatchStatement(batch_type=BatchType.UNLOGGED)
        p = batch_no % 50
        base = (batch_no // 50) * 100
        for c in range(base, base + 100):
            b.add(ins, (p, c, "v"))
        s.execute(b)
    control.clear_log()
    seen = set()
    rs = s.execute(SimpleStatement("SELECT p, c FROM %s.rows" % KS, fetch_size=1000))
    for row in rs:
        key = (row.p, row.c)
        assert key not in seen, "row %r seen twice" % (key,)
        seen.add(key)
    assert len(seen) == 20000
    pages = control.log(opcode="QUERY", query="SELECT p, c FROM %s.rows" % KS)
    assert 20 <= len(pages) <= 21, "one request per page of 1000"


def test_logged_batch_applies_every_statement(env):
    s = env["session"]
    ins = s.prepare("INSERT INTO %s.kv (k, v) VALUES (?, ?)" % KS)
    b = BatchStatement()
    b.add(ins, (1000, "a"))
    b.add(ins, (1001, "b"))
    b.add(SimpleStatement("UPDATE %s.kv SET v = 'c' WHERE k = 1002" % KS))
    s.execute(b)
    rows = {r.k: r.v for r in s.execute("SELECT k, v FROM %s.kv WHERE k IN (1000, 1001, 1002)"
                                         % KS)}
    assert rows == {1000: "a", 1001: "b", 1002: "c"}


def test_lightweight_transactions_apply_once(env):
    s = env["session"]
    first = s.execute("INSERT INTO %s.lwt (k, v, n) VALUES (1, 'x', 1) IF NOT EXISTS" % KS)
    assert first.was_applied
    second = s.execute("INSERT INTO %s.lwt (k, v, n) VALUES (1, 'y', 2) IF NOT EXISTS" % KS)
    assert not second.was_applied
    assert second.one().v == "x"
    upd = s.prepare("UPDATE %s.lwt SET v = ?, n = ? WHERE k = ? IF v = ?" % KS)
    assert s.execute(upd, ("z", 3, 1, "x")).was_applied
    assert not s.execute(upd, ("w", 4, 1, "x")).was_applied
    row = s.execute("SELECT v, n FROM %s.lwt WHERE k = 1" % KS).one()
    assert (row.v, row.n) == ("z", 3)


def test_node_goes_down_and_comes_back_up(env):
    cluster, s, control = env["cluster"], env["session"], env["node"].control

    def host(addr):
        return [h for h in cluster.metadata.all_hosts() if h.address == addr][0]

    control.stop_node(2)
    wait_until(lambda: not host("127.0.0.3").is_up, 20, what="127.0.0.3 marked down")
    assert host("127.0.0.1").is_up and host("127.0.0.2").is_up
    assert s.execute("SELECT v FROM %s.kv WHERE k = 7" % KS).one().v == "value-7"
    control.start_node(2)
    wait_until(lambda: host("127.0.0.3").is_up, 30, what="127.0.0.3 back up")
    wait_until(lambda: len(s.get_pools()) == 3, 20, what="pool to 127.0.0.3 again")
    control.clear_log()
    sel = s.prepare("SELECT v FROM %s.kv WHERE k = ?" % KS)
    for k in range(60):
        assert s.execute(sel, (k,)).one().v == "value-%d" % k
    nodes = {e["node"] for e in control.log(opcode="EXECUTE")}
    assert 2 in nodes, "requests reach the restarted node again"


def test_nodes_added_and_removed_are_followed_while_queries_go_on(env):
    """add_node / remove_node: the driver learns of the new node from
    TOPOLOGY_CHANGE NEW_NODE (it refreshes its peers after a random delay of
    up to topology_event_refresh_window = 10 s), routes to it, and drops
    nodes on REMOVED_NODE at once; a client thread's queries never fail."""
    cluster, s, control = env["cluster"], env["session"], env["node"].control
    s.execute("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = "
              "{'class': 'SimpleStrategy', 'replication_factor': 1}" % KS)
    s.execute("CREATE TABLE %s.topo (k int PRIMARY KEY, v int)" % KS)
    ins = s.prepare("INSERT INTO %s.topo (k, v) VALUES (?, ?)" % KS)
    sel = s.prepare("SELECT v FROM %s.topo WHERE k = ?" % KS)
    errors, done, stop = [], [0], threading.Event()

    def load():
        k = 0
        while not stop.is_set():
            k += 1
            try:
                s.execute(ins, (k, k))
                row = s.execute(sel, (k,)).one()
                if row is None or row.v != k:
                    errors.append("key %d read back %r" % (k, row))
                done[0] += 1
            except Exception as e:  # noqa: BLE001 - every failure is reported
                errors.append(repr(e))

    def addresses():
        return sorted(h.address for h in cluster.metadata.all_hosts())

    def queries_go_on(n=20):
        start = done[0]
        wait_until(lambda: done[0] >= start + n or errors, 20, what="%d more queries" % n)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    try:
        queries_go_on()
        new = control.add_node()
        assert (new["node"], new["address"]) == (3, "127.0.0.4")
        wait_until(lambda: "127.0.0.4" in addresses(), 30, what="127.0.0.4 in all_hosts()")
        assert addresses() == ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"]
        host = [h for h in cluster.metadata.all_hosts() if h.address == "127.0.0.4"][0]
        # the driver lists a host before it copies the peers row's host_id
        wait_until(lambda: host.is_up and len(s.get_pools()) == 4 and host.host_id, 20,
                   what="a pool to 127.0.0.4")
        assert host.host_id == uuid.UUID(new["host_id"])
        assert (host.datacenter, host.rack) == ("datacenter1", "rack1")
        tm = cluster.metadata.token_map
        owned = {t.value for t, h in tm.token_to_host_owner.items() if h is host}
        assert owned == set(new["tokens"]), "the new node's tokens are in the token map"
        control.clear_log()
        wait_until(lambda: any(e["node"] == 3 for e in control.log(opcode="EXECUTE")), 20,
                   what="requests routed to the new node")
        queries_go_on()

        control.remove_node(3)
        wait_until(lambda: "127.0.0.4" not in addresses(), 10,
                   what="127.0.0.4 gone from all_hosts()")
        queries_go_on()
        control.remove_node(1)  # one of the original nodes
        wait_until(lambda: "127.0.0.2" not in addresses(), 10,
                   what="127.0.0.2 gone from all_hosts()")
        assert addresses() == ["127.0.0.1", "127.0.0.3"]
        queries_go_on()
        control.clear_log()
        queries_go_on()
        assert {e["node"] for e in control.log(opcode="EXECUTE")} <= {0, 2}
    finally:
        stop.set()
        worker.join(10)
    assert not errors, errors[:5]
    assert [n["node"] for n in control.status()["nodes"]] == [0, 2]
