"""A fake cqlmqd for the client tests: a zmq.asyncio ROUTER that speaks
docs/protocol.md from a script the test writes.

    gw.table(cql, columns, rows)      rows for a query (pages, paging_state,
                                      streams that honour credit exactly)
    gw.fail(cql, code, message, ...)  an error reply (times=n: only n times)
    gw.silent(cql)                    never answers (a `cancel` is answered
                                      with `cancelled`)
    gw.on(cql, fn)                    fn(req) -> reply map (without id), or None
                                      for silence
    gw.forget_sessions()              a simulated cqlmqd restart: every peer
                                      gets unknown_session until it says hello
    gw.drop_prepared()                every handle becomes `unprepared`
    await gw.stop() / gw.start()      the socket closes (peers see a disconnect)

Everything received is recorded: requests (decoded, extension values left as
msgpack.ExtType / msgpack.Timestamp), raw (the bytes), cancels, credits.
Stream credit is checked on every message: violations lists any breach of
"outstanding credit <= max_credit" and any page this fake would have had to
send beyond the credit granted (it never does).
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
from typing import Any, Callable, Optional

import msgpack
import zmq
import zmq.asyncio

DEFAULT_LIMITS = {
    "max_message_bytes": 1 << 20,
    "max_in_flight": 64,
    "max_streams": 8,
    "max_credit": 8,
    "max_page_bytes": 1 << 20,
    "default_page_size": 100,
    "default_timeout_ms": 2000,
    "max_timeout_ms": 10000,
    "lease_ms": 30000,
}


def pack(m: dict) -> bytes:
    return msgpack.packb(m, use_bin_type=True)


def unpack(b: bytes) -> Any:
    return msgpack.unpackb(b, raw=False, strict_map_key=False, timestamp=0)


class _Stream:
    def __init__(self, peer: bytes, rid: int, columns: list, rows: list, page_size: int,
                 credit: int, start: int) -> None:
        self.peer = peer
        self.rid = rid
        self.columns = columns
        self.rows = rows
        self.page_size = page_size
        self.granted = credit     # initial credit + every credit message
        self.sent = 0             # pages sent
        self.pos = start          # next row
        self.max_outstanding = credit
        self.paused = False       # tests may hold pages back


class FakeGateway:
    def __init__(self, limits: Optional[dict] = None, *, protocol: int = 1) -> None:
        self.limits = dict(DEFAULT_LIMITS, **(limits or {}))
        self.protocol = protocol
        self.port: Optional[int] = None
        self.endpoint: Optional[str] = None
        self.ctx: Optional[zmq.asyncio.Context] = None
        self.sock: Optional[zmq.asyncio.Socket] = None
        self.task: Optional[asyncio.Task] = None
        self.sessions: dict = {}          # peer routing id -> session token
        self.session_seq = 0
        self.handlers: dict = {}          # cql -> fn(req) -> reply | None
        self.prepared: dict = {}          # handle -> cql
        self.prepared_meta: dict = {}     # cql -> (params, columns[, udts])
        self.streams: dict = {}           # (peer, id) -> _Stream
        self.held: dict = {}              # (peer, id) -> request left unanswered
        self.requests: list = []
        self.raw: list = []
        self.cancels: list = []
        self.credits: list = []
        self.violations: list = []
        self.hellos = 0
        self.pages_sent = 0
        self.hold_pages = False           # new streams send nothing until resumed

    # ---- script ---------------------------------------------------

    def on(self, cql: str, fn: Callable[[dict], Any]) -> None:
        self.handlers[cql] = fn

    def table(self, cql: str, columns: list, rows: list) -> None:
        self.handlers[cql] = ("table", columns, rows)

    def fail(self, cql: str, code: str, message: str = "", *, cql_code: Optional[int] = None,
             details: Optional[dict] = None, times: Optional[int] = None,
             then: Any = None) -> None:
        err = {"op": "error", "code": code, "message": message or code}
        if cql_code is not None:
            err["cql_code"] = cql_code
        if details is not None:
            err["details"] = details
        left = [times]

        def fn(req):
            if left[0] is not None:
                if left[0] <= 0:
                    return then(req) if callable(then) else {"op": "result", "kind": "void"}
                left[0] -= 1
            return dict(err)
        self.handlers[cql] = fn

    def silent(self, cql: str) -> None:
        self.handlers[cql] = lambda req: None

    def forget_sessions(self) -> None:
        self.sessions.clear()
        self.streams.clear()
        self.held.clear()

    def drop_prepared(self) -> None:
        self.prepared.clear()

    def ops(self, op: str) -> list:
        return [r for r in self.requests if r.get("op") == op]

    # ---- lifecycle ------------------------------------------------

    async def start(self) -> None:
        self.ctx = zmq.asyncio.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.sock.setsockopt(zmq.SNDHWM, 100_000)
        self.sock.setsockopt(zmq.RCVHWM, 100_000)
        if self.port is None:
            self.port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        else:
            for _ in range(50):  # the old listener may take a moment to go
                try:
                    self.sock.bind(f"tcp://127.0.0.1:{self.port}")
                    break
                except zmq.ZMQError:
                    await asyncio.sleep(0.02)
            else:
                raise RuntimeError(f"cannot bind port {self.port} again")
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.task = asyncio.get_running_loop().create_task(self._serve())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except BaseException:  # noqa: BLE001
                pass
            self.task = None
        if self.sock is not None:
            self.sock.close(0)
            self.sock = None
        if self.ctx is not None:
            self.ctx.term()
            self.ctx = None
        self.sessions.clear()
        self.streams.clear()
        self.held.clear()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    # ---- serving --------------------------------------------------

    def send(self, peer: bytes, msg: dict) -> None:
        try:
            self.sock.send_multipart([peer, pack(msg)], flags=zmq.NOBLOCK)
        except zmq.ZMQError:
            pass  # the peer is gone

    def reply(self, peer: bytes, rid: int, msg: dict) -> None:
        m = dict(msg)
        m["id"] = rid
        self.send(peer, m)

    async def _serve(self) -> None:
        while True:
            frames = await self.sock.recv_multipart()
            peer, body = frames[0], frames[1:]
            if len(body) != 1:
                self.send(peer, {"op": "error", "id": 0, "code": "bad_request",
                                 "message": "one frame per message"})
                continue
            self.raw.append(body[0])
            try:
                req = unpack(body[0])
            except Exception as e:  # noqa: BLE001
                self.violations.append(f"undecodable request: {e}")
                continue
            self.requests.append(req)
            try:
                self._handle(peer, req)
            except Exception as e:  # noqa: BLE001 - a fake must keep serving
                self.violations.append(f"fake gateway error: {e!r}")
                self.reply(peer, req.get("id", 0), {"op": "error", "code": "internal",
                                                    "message": repr(e)})

    def _handle(self, peer: bytes, req: dict) -> None:
        op, rid = req.get("op"), req.get("id")
        if not isinstance(rid, int) or not 1 <= rid < (1 << 53):
            self.violations.append(f"bad id {rid!r}")
            return
        if op == "hello":
            if req.get("protocol") != self.protocol:
                self.reply(peer, rid, {"op": "error", "code": "unsupported_version",
                                       "message": "protocol", "details": {"supported": [self.protocol]}})
                return
            self.hellos += 1
            self.session_seq += 1
            self.sessions[peer] = f"s{self.session_seq}"
            self.reply(peer, rid, {"op": "hello", "protocol": self.protocol,
                                   "server": "fakegw/0.1", "session": self.sessions[peer],
                                   "limits": self.limits})
            return
        if op == "credit":
            self.credits.append((rid, req.get("n")))
            self._on_credit(peer, rid, req.get("n"))
            return
        if op == "cancel":
            self.cancels.append(rid)
            if self.held.pop((peer, rid), None) is not None or \
                    self.streams.pop((peer, rid), None) is not None:
                self.reply(peer, rid, {"op": "error", "code": "cancelled", "message": "cancelled"})
            return
        if peer not in self.sessions:
            self.reply(peer, rid, {"op": "error", "code": "unknown_session",
                                   "message": "no session: say hello"})
            return
        if op == "ping":
            self.reply(peer, rid, {"op": "pong"})
        elif op == "stats":
            self.reply(peer, rid, {"op": "stats", "requests": len(self.requests),
                                   "in_flight": len(self.held), "streams": len(self.streams),
                                   "hosts_up": 1})
        elif op == "prepare":
            cql = req["cql"]
            handle = hashlib.sha256(cql.encode()).digest()[:16]
            self.prepared[handle] = cql
            meta = self.prepared_meta.get(cql, ([], []))  # (params, columns[, udts])
            rep = {"op": "prepared", "handle": handle, "params": meta[0], "columns": meta[1]}
            if len(meta) > 2:
                rep["udts"] = meta[2]
            self.reply(peer, rid, rep)
        elif op == "execute":
            cql = self.prepared.get(req.get("handle"))
            if cql is None:
                self.reply(peer, rid, {"op": "error", "code": "unprepared", "cql_code": 0x2500,
                                       "message": "unknown handle",
                                       "details": {"statement_id": req.get("handle")}})
                return
            self._statement(peer, rid, cql, req)
        elif op == "query":
            self._statement(peer, rid, req.get("cql"), req)
        elif op == "batch":
            fn = self.handlers.get("BATCH")
            for st in req.get("statements", []):
                if "handle" in st and st["handle"] not in self.prepared:
                    self.reply(peer, rid, {"op": "error", "code": "unprepared",
                                           "message": "unknown handle",
                                           "details": {"statement_id": st["handle"]}})
                    return
            r = fn(req) if callable(fn) else {"op": "result", "kind": "void"}
            self._answer(peer, rid, req, r)
        else:
            self.reply(peer, rid, {"op": "error", "code": "bad_request",
                                   "message": f"unknown op {op!r}"})

    def _answer(self, peer: bytes, rid: int, req: dict, r: Any) -> None:
        if r is None:
            self.held[(peer, rid)] = req
        elif isinstance(r, list):
            for m in r:
                self.reply(peer, rid, m)
        else:
            self.reply(peer, rid, r)

    def _statement(self, peer: bytes, rid: int, cql: Any, req: dict) -> None:
        h = self.handlers.get(cql)
        if isinstance(h, tuple) and h[0] == "table":
            _, columns, rows = h
            page_size = req.get("page_size") or self.limits["default_page_size"]
            ps = req.get("paging_state")
            start = struct.unpack(">I", ps)[0] if ps else 0
            if req.get("stream"):
                credit = req.get("credit", 2)
                if credit > self.limits["max_credit"]:
                    self.reply(peer, rid, {"op": "error", "code": "bad_request",
                                           "message": "credit above max_credit"})
                    return
                s = _Stream(peer, rid, columns, rows, page_size, credit, start)
                s.paused = self.hold_pages
                self.streams[(peer, rid)] = s
                self.pump(s)
                return
            chunk = rows[start:start + page_size]
            out = {"op": "result", "kind": "rows", "columns": columns, "rows": chunk}
            if start + page_size < len(rows):
                out["paging_state"] = struct.pack(">I", start + page_size)
            self.reply(peer, rid, out)
            return
        if callable(h):
            self._answer(peer, rid, req, h(req))
            return
        self.reply(peer, rid, {"op": "result", "kind": "void"})

    # ---- streams ----------------------------------------------------

    def _on_credit(self, peer: bytes, rid: int, n: Any) -> None:
        s = self.streams.get((peer, rid))
        if s is None:
            return  # ended already: the race is normal
        if not isinstance(n, int) or n < 1:
            self.violations.append(f"credit n={n!r}")
            return
        s.granted += n
        outstanding = s.granted - s.sent
        s.max_outstanding = max(s.max_outstanding, outstanding)
        if outstanding > self.limits["max_credit"]:
            self.violations.append(f"stream {rid}: outstanding credit {outstanding} "
                                   f"> max_credit {self.limits['max_credit']}")
            self.streams.pop((peer, rid), None)
            self.reply(peer, rid, {"op": "error", "code": "bad_request",
                                   "message": "credit above max_credit"})
            return
        self.pump(s)

    def pump(self, s: _Stream) -> None:
        """Sends pages while pages sent < credit granted; then `done`."""
        while not s.paused and s.sent < s.granted and (s.peer, s.rid) in self.streams:
            chunk = s.rows[s.pos:s.pos + s.page_size]
            page = {"op": "page", "id": s.rid, "seq": s.sent, "rows": chunk}
            if s.sent == 0:
                page["columns"] = s.columns
            s.pos += len(chunk)
            if s.pos < len(s.rows):
                page["paging_state"] = struct.pack(">I", s.pos)
            if s.sent >= s.granted:  # never true: kept as the fake's own check
                self.violations.append("page beyond credit")
            self.send(s.peer, page)
            s.sent += 1
            self.pages_sent += 1
            if s.pos >= len(s.rows):
                self.streams.pop((s.peer, s.rid), None)
                self.send(s.peer, {"op": "done", "id": s.rid, "pages": s.sent,
                                   "rows": len(s.rows)})
                return

    def stream_of(self, rid: int) -> Optional[_Stream]:
        for (peer, r), s in self.streams.items():
            if r == rid:
                return s
        return None


class FreezeProxy:
    """A TCP proxy between a client and a gateway that can go silent while
    keeping the connection open (a hung peer, for heartbeat tests)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.frozen = False
        self.server: Optional[asyncio.AbstractServer] = None
        self.port: Optional[int] = None
        self.writers: list = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._conn, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _conn(self, cr, cw) -> None:
        try:
            sr, sw = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            cw.close()
            return
        self.writers += [cw, sw]

        async def pipe(r, w):
            try:
                while True:
                    data = await r.read(65536)
                    if not data:
                        break
                    if self.frozen:
                        continue  # swallowed: the peer hears nothing
                    w.write(data)
                    await w.drain()
            except (OSError, asyncio.CancelledError):
                pass

        await asyncio.gather(pipe(cr, sw), pipe(sr, cw))

    async def stop(self) -> None:
        for w in self.writers:
            w.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
