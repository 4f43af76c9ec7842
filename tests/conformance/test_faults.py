"""Faults on demand, seen through the real python driver, plus the
control socket's robustness and PasswordAuthenticator logins."""

import logging
import time

import msgpack
import pytest
import zmq
from cassandra import (InvalidRequest, OperationTimedOut, ReadTimeout, Unavailable,
                       WriteTimeout)
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, NoHostAvailable
from cassandra.protocol import SyntaxException
from cassandra.query import SimpleStatement

from cqlmq_node import ControlError
from conftest import start_cluster, wait_until

logging.getLogger("cassandra").setLevel(logging.CRITICAL)

KS = "faults"


@pytest.fixture(scope="module")
def env(node_binary):
    nc = start_cluster(node_binary, nodes=2)
    cluster = Cluster(contact_points=nc.contact_points, port=nc.port)
    try:
        s = cluster.connect()
        s.execute("CREATE KEYSPACE %s WITH replication = "
                  "{'class': 'SimpleStrategy', 'replication_factor': 1}" % KS)
        s.execute("CREATE TABLE %s.t (k int PRIMARY KEY, v text)" % KS)
        s.execute("INSERT INTO %s.t (k, v) VALUES (1, 'one')" % KS)
        yield {"node": nc, "cluster": cluster, "session": s, "control": nc.control}
    finally:
        cluster.shutdown()
        nc.stop_and_check()


@pytest.fixture(autouse=True)
def clean(env):
    env["control"].clear()
    yield
    env["control"].clear()


def test_injected_read_timeout_reaches_the_driver_with_its_details(env):
    s, control = env["session"], env["control"]
    control.add_fault("error", error="read_timeout", query="FROM faults.t WHERE k = 1",
                      consistency="LOCAL_ONE", received=0, block_for=1, data_present=False)
    with pytest.raises(ReadTimeout) as exc:
        s.execute("SELECT v FROM faults.t WHERE k = 1")
    assert exc.value.consistency == 10  # LOCAL_ONE
    assert exc.value.received_responses == 0 and exc.value.required_responses == 1


def test_injected_write_timeout_and_syntax_error(env):
    s, control = env["session"], env["control"]
    control.add_fault("error", error="write_timeout", query="INSERT INTO faults.t",
                      received=1, block_for=2, write_type="SIMPLE")
    with pytest.raises(WriteTimeout):
        s.execute("INSERT INTO faults.t (k, v) VALUES (5, 'x')")
    control.clear()
    control.add_fault("error", error="syntax_error", message="no such thing", query="SELECT 42")
    with pytest.raises(SyntaxException, match="no such thing"):
        s.execute("SELECT 42 FROM faults.t")


def test_first_n_only_lets_the_retry_policy_recover(env):
    s, control = env["session"], env["control"]
    fid = control.add_fault("error", error="unavailable", query="WHERE k = 1", count=1,
                            required=1, alive=0)
    control.clear_log()
    assert s.execute("SELECT v FROM faults.t WHERE k = 1").one().v == "one"
    assert len(control.log(query="FROM faults.t WHERE k = 1")) == 2  # failed, then retried
    assert [f["remaining"] for f in control.faults() if f["id"] == fid] == [0]
    control.add_fault("error", error="unavailable", query="WHERE k = 1")
    with pytest.raises(Unavailable):  # retried once on the next host, then rethrown
        s.execute("SELECT v FROM faults.t WHERE k = 1")


def test_latency_delays_only_matching_requests(env):
    s, control = env["session"], env["control"]
    control.add_fault("latency", ms=400, query="WHERE k = 1")
    t0 = time.monotonic()
    s.execute("SELECT v FROM faults.t WHERE k = 1")
    assert time.monotonic() - t0 >= 0.38
    t0 = time.monotonic()
    s.execute("SELECT v FROM faults.t WHERE k = 2")
    assert time.monotonic() - t0 < 0.3
    control.clear()
    control.add_fault("latency", min_ms=2000, max_ms=2000, query="WHERE k = 1")
    with pytest.raises(OperationTimedOut):
        s.execute(SimpleStatement("SELECT v FROM faults.t WHERE k = 1"), timeout=0.3)


def test_forgotten_prepared_statements_are_reprepared_by_the_driver(env):
    s, control = env["session"], env["control"]
    sel = s.prepare("SELECT v FROM faults.t WHERE k = ?")
    assert s.execute(sel, (1,)).one().v == "one"
    control.forget_prepared()
    control.clear_log()
    assert s.execute(sel, (1,)).one().v == "one"
    ops = [e["opcode"] for e in control.log(query="SELECT v FROM faults.t WHERE k = ?")]
    assert "PREPARE" in ops and ops.count("EXECUTE") >= 1


def test_activity_log_records_query_text_and_consistency(env):
    s, control = env["session"], env["control"]
    control.clear_log()
    from cassandra import ConsistencyLevel
    s.execute(SimpleStatement("SELECT v FROM faults.t WHERE k = 1",
                              consistency_level=ConsistencyLevel.QUORUM))
    [e] = control.log(opcode="QUERY", query="faults.t WHERE k = 1")
    assert e["query"] == "SELECT v FROM faults.t WHERE k = 1"
    assert e["consistency"] == "QUORUM" and e["node"] in (0, 1) and e["conn"] > 0
    assert control.clear_log() and control.log(query="faults.t") == []


def test_closed_connections_are_reopened_by_the_driver(env):
    s, control = env["session"], env["control"]
    conns = control.connections()
    assert conns and all(c["state"] == "ready" for c in conns)
    assert control.disconnect(node=1) >= 1

    def used_and_reconnected():
        # the driver notices a closed idle connection when it next uses it
        try:
            s.execute("SELECT v FROM faults.t WHERE k = 1")
        except Exception:
            pass
        return len(control.connections(node=1)) >= 1

    wait_until(used_and_reconnected, 30, interval=0.2, what="the driver reconnecting to node 1")
    for _ in range(20):
        s.execute("SELECT v FROM faults.t WHERE k = 1")
    control.add_fault("close", query="WHERE k = 99", count=1)
    control.clear_log()
    # the connection dies under the request; the driver tries the next host
    assert s.execute(SimpleStatement("SELECT v FROM faults.t WHERE k = 99")).one() is None
    assert len(control.log(query="WHERE k = 99")) == 2


def test_invalid_queries_still_get_real_errors(env):
    with pytest.raises(InvalidRequest):
        env["session"].execute("SELECT * FROM faults.no_such_table")


def test_control_socket_rejects_malformed_requests_with_one_reply(env):
    control = env["control"]
    with pytest.raises(ControlError, match="unknown command"):
        control.request("explode")
    with pytest.raises(ControlError, match="no node"):
        control.stop_node(7)
    with pytest.raises(ControlError):
        control.add_fault("error", error="no_such_error")
    with pytest.raises(ControlError):
        control.add_fault("latency", min_ms=10, max_ms=5)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(env["node"].control_endpoint)
    try:
        for payload in [b"\xc1garbage", b"", msgpack.packb([1, 2, 3]), b"\xdd\x0f\xff\xff\xff",
                        msgpack.packb({"cmd": 5}), msgpack.packb({"cmd": "stop", "node": "x"})]:
            sock.send_multipart([b"", payload])
            assert sock.poll(5000), "every request gets a reply"
            reply = msgpack.unpackb(sock.recv_multipart()[-1], raw=False)
            assert reply["ok"] is False and reply["error"]
    finally:
        sock.close(0)
        ctx.term()
    assert control.ping()["ok"]


def test_password_authenticator_accepts_good_and_refuses_bad_credentials(node_binary):
    nc = start_cluster(node_binary, nodes=1, auth=["alice:s3cret"])
    try:
        good = Cluster(contact_points=nc.contact_points, port=nc.port,
                       auth_provider=PlainTextAuthProvider("alice", "s3cret"))
        try:
            assert good.connect().execute("SELECT release_version FROM system.local").one()
        finally:
            good.shutdown()
        bad = Cluster(contact_points=nc.contact_points, port=nc.port,
                      auth_provider=PlainTextAuthProvider("alice", "wrong"))
        try:
            with pytest.raises(NoHostAvailable, match="incorrect"):
                bad.connect()
        finally:
            bad.shutdown()
    finally:
        nc.stop_and_check()
