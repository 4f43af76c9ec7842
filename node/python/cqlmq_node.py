"""cqlmq_node: run an embedded cqlmq test cluster from Python tests.

Needs /usr/bin/python3 with python3-zmq and python3-msgpack (Debian).

    from cqlmq_node import NodeCluster

    with NodeCluster(nodes=3) as cluster:          # free port, free control port
        # cluster.contact_points == ["127.0.0.1"]; cluster.port is the CQL port
        cluster.control.stop_node(1)               # 127.0.0.2 goes down
        cluster.control.start_node(1)
        cluster.control.add_fault("error", error="read_timeout", query="FROM ks.t",
                                  count=1, received=0, block_for=1)
        entries = cluster.control.log(opcode="QUERY")
        new = cluster.control.add_node()           # {"node": 3, "address": "127.0.0.4", ...}
        cluster.control.remove_node(new["node"])

The binary is found from the `binary` argument or $CQLMQ_NODE_BIN. The
process binds --port 0 (one free port shared by every node) and
--control tcp://127.0.0.1:* and reports both on its ready line, so
concurrent test runs never collide. It is always killed on exit/stop.
"""

import os
import re
import select
import signal
import subprocess
import time

import msgpack
import zmq

__all__ = ["NodeCluster", "Control", "ControlError"]

_READY = re.compile(rb"cqlmq-node ready port=(\d+) control=(\S+) nodes=(\d+)")


class ControlError(Exception):
    """The node answered a control command with {"ok": false}."""


class Control:
    """Client of the fault-control socket (a DEALER speaking the REQ envelope).

    Every method sends one command and returns the reply dict; an error
    reply raises ControlError, no reply within `timeout` raises TimeoutError.
    """

    def __init__(self, endpoint, timeout=5.0):
        self.endpoint = endpoint
        self.timeout = timeout
        self._ctx = zmq.Context()
        self._sock = None
        self._connect()

    def _connect(self):
        if self._sock is not None:
            self._sock.close(linger=0)
        self._sock = self._ctx.socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.connect(self.endpoint)

    def close(self):
        if self._sock is not None:
            self._sock.close(linger=0)
            self._sock = None
        self._ctx.term()

    def request(self, cmd, **fields):
        """Sends {"cmd": cmd, **fields} (None values dropped); returns the reply."""
        msg = {"cmd": cmd}
        msg.update({k: v for k, v in fields.items() if v is not None})
        self._sock.send_multipart([b"", msgpack.packb(msg, use_bin_type=True)])
        if not self._sock.poll(int(self.timeout * 1000)):
            self._connect()  # drop the late reply, if any
            raise TimeoutError("no reply to %r from %s" % (cmd, self.endpoint))
        parts = self._sock.recv_multipart()
        reply = msgpack.unpackb(parts[-1], raw=False)
        if not reply.get("ok"):
            raise ControlError(reply.get("error", "unknown error"))
        return reply

    # ---- helpers, one per command ----
    def ping(self):
        return self.request("ping")

    def status(self):
        return self.request("status")

    def stop_node(self, node):
        return self.request("stop", node=node)

    def start_node(self, node):
        return self.request("start", node=node)

    def pause(self, node):
        return self.request("pause", node=node)

    def resume(self, node):
        return self.request("resume", node=node)

    def add_fault(self, action, **match_and_details):
        """action: "error" | "latency" | "close" | "drop"; returns the fault id.

        Match: opcode ("QUERY"...), query (substring), node, count (first N).
        Latency: ms, or min_ms/max_ms. Error: error ("unavailable", ...),
        message, consistency, required, alive, received, block_for,
        num_failures, data_present, write_type, keyspace, table, function,
        arg_types, prepared_id.
        """
        return self.request("fault", action=action, **match_and_details)["id"]

    def remove_fault(self, fault_id):
        return self.request("unfault", id=fault_id)

    def faults(self):
        return self.request("faults")["faults"]

    def clear(self):
        return self.request("clear")

    def close_after(self, frames, node=None, conn=None):
        return self.request("close_after", frames=frames, node=node, conn=conn)["connections"]

    def disconnect(self, node=None, conn=None):
        return self.request("disconnect", node=node, conn=conn)["connections"]

    def forget_prepared(self, node=None):
        return self.request("forget_prepared", node=node)

    def log(self, node=None, opcode=None, query=None, since=None):
        return self.request("log", node=node, opcode=opcode, query=query, since=since)["entries"]

    def clear_log(self):
        return self.request("clear_log")

    def connections(self, node=None):
        return self.request("connections", node=node)["connections"]

    def add_node(self, dc=None, rack=None):
        """Adds a node at the lowest free index (TOPOLOGY_CHANGE NEW_NODE).

        Returns the reply: node (index), address, host_id, dc, rack, tokens.
        """
        return self.request("add_node", dc=dc, rack=rack)

    def remove_node(self, node):
        """Removes node `node` from the cluster (TOPOLOGY_CHANGE REMOVED_NODE)."""
        return self.request("remove_node", node=node)


class NodeCluster:
    """A cqlmq-node process on free ports; use as a context manager."""

    def __init__(self, nodes=1, dc=None, auth=None, binary=None, extra_args=(),
                 start_timeout=15.0):
        self.binary = binary or os.environ.get("CQLMQ_NODE_BIN")
        if not self.binary:
            raise RuntimeError("set CQLMQ_NODE_BIN to the cqlmq-node binary")
        self.nodes = nodes
        self.dc = dc
        self.auth = list(auth or [])
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.proc = None
        self.returncode = None
        self.stderr_output = b""
        self.port = None
        self.control_endpoint = None
        self.control = None

    @property
    def contact_points(self):
        return ["127.0.0.1"]

    @property
    def addresses(self):
        """The addresses of the nodes the cluster started with (add_node and
        remove_node change the cluster: control.status() lists it now)."""
        return ["127.0.0.%d" % (i + 1) for i in range(self.nodes)]

    def start(self):
        args = [self.binary, "--port", "0", "--control", "tcp://127.0.0.1:*"]
        if self.dc:
            args += ["--dc", self.dc]
        else:
            args += ["--nodes", str(self.nodes)]
        for cred in self.auth:
            args += ["--auth", cred]
        args += self.extra_args
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = self._read_ready_line()
            m = _READY.search(line)
            if not m:
                raise RuntimeError("cqlmq-node did not start: %r %r"
                                   % (line, self._stderr_tail()))
            self.port = int(m.group(1))
            self.control_endpoint = m.group(2).decode()
            self.nodes = int(m.group(3))
            self.control = Control(self.control_endpoint)
        except BaseException:
            self.stop()
            raise
        return self

    def _read_ready_line(self):
        deadline = time.monotonic() + self.start_timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("cqlmq-node printed no ready line")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break  # exited
                buf += chunk
        return buf

    def _stderr_tail(self):
        if self.proc and self.proc.poll() is not None:
            return self.proc.stderr.read()[-2000:]
        return b""

    def stop_and_check(self):
        """stop(), then raise if the process did not exit cleanly."""
        self.stop()
        if self.returncode != 0:
            raise RuntimeError("cqlmq-node exited with %s: %s"
                               % (self.returncode, self.stderr_output[-4000:].decode(errors="replace")))

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s; always reaps the process.

        Afterwards `returncode` is the exit status (0 after a clean stop) and
        `stderr_output` what the process wrote to stderr (sanitizer reports)."""
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:  # communicate() drains the pipes, so a chatty exit cannot block
                _, err = self.proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                _, err = self.proc.communicate()
            except (OSError, ValueError):
                self.proc.wait()
                err = b""
            self.stderr_output = err or b""
            self.returncode = self.proc.returncode
            self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def __del__(self):
        try:
            self.stop()
        except Exception:
            pass
