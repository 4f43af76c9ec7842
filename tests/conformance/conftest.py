"""Shared fixtures of the conformance tests: a cqlmq-node cluster on free
ports (node/python/cqlmq_node.py) and the real DataStax python driver
(Debian python3-cassandra) with its default settings.

Run with /usr/bin/python3 -m pytest, with CQLMQ_NODE_BIN set to the built
cqlmq-node (ctest does both).
"""

import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "node", "python"))

from cqlmq_node import NodeCluster  # noqa: E402


def wait_until(predicate, timeout=30.0, interval=0.1, what="condition"):
    """Polls predicate() until it is true; fails the test after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    pytest.fail("timed out after %.0f s waiting for %s" % (timeout, what))


@pytest.fixture(scope="module")
def node_binary():
    path = os.environ.get("CQLMQ_NODE_BIN")
    if not path or not os.path.exists(path):
        pytest.fail("CQLMQ_NODE_BIN must name the built cqlmq-node binary")
    return path


def start_cluster(node_binary, **kw):
    return NodeCluster(binary=node_binary, **kw).start()
