"""The transport under Client: one ZeroMQ DEALER socket to cqlmqd, no threads.

Structure (docs/protocol.md is the contract):

  * ONE reader task receives every reply and routes it by `id` to the
    future of a plain request or to a Stream. Nothing else ever awaits a
    recv on the socket, and the reader is cancelled only by close() (a
    cancelled pyzmq recv can lose a message: pyzmq #1925).
  * A monitor task watches the socket's ZeroMQ events: on DISCONNECTED
    (the TCP connection closed, or ZMTP heartbeats timed out) every request
    in flight fails with Disconnected and the session is forgotten; the
    next request says `hello` again.
  * A keepalive task pings while the client is idle, so the session's
    lease (limits.lease_ms) does not expire.
  * Every request has a client-side deadline slightly above the timeout_ms
    it sends: on expiry it raises OperationTimedOut and sends `cancel`.
    Cancelling the awaiting task sends `cancel` too.
  * An `unknown_session` reply (cqlmqd restarted, or the lease expired)
    makes the client say `hello` again and retry that request once; an
    `unprepared` reply to a prepared statement makes it prepare again
    (Client._reprepare_in) and retry once.
  * At most limits.max_in_flight plain requests are in flight; more wait
    (inside their deadline) instead of being refused with `busy`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import weakref
from typing import Any, Optional

import zmq
import zmq.asyncio
from zmq.utils.monitor import parse_monitor_message

from . import _wire
from .errors import (
    BadRequest,
    CqlmqError,
    Disconnected,
    OperationTimedOut,
    ProtocolError,
    Unprepared,
    UnknownSession,
    error_from_reply,
)

__version__ = "0.1.0"
PROTOCOL_VERSION = 1
log = logging.getLogger("cqlmq")

_ID_MAX = (1 << 53) - 1

# used until the first hello tells the real limits
_DEFAULT_LIMITS = {
    "max_message_bytes": 16 << 20,
    "max_in_flight": 1024,
    "max_streams": 32,
    "max_credit": 16,
    "max_page_bytes": 1 << 20,
    "default_page_size": 5000,
    "default_timeout_ms": 12000,
    "max_timeout_ms": 120000,
    "lease_ms": 60000,
}

_contexts: dict = {}


def _default_context() -> zmq.asyncio.Context:
    """One ZeroMQ context per process (a forked child gets its own)."""
    pid = os.getpid()
    ctx = _contexts.get(pid)
    if ctx is None or ctx.closed:
        _contexts.clear()
        ctx = _contexts[pid] = zmq.asyncio.Context()
    return ctx


class Connection:
    """Socket, tasks, session and request plumbing (see the module doc).
    Client adds the public API on top."""

    def __init__(self, endpoint: str, *, timeout: Optional[float], connect_timeout: float,
                 client_name: Optional[str], context: Optional[zmq.asyncio.Context],
                 heartbeat_ivl: float, heartbeat_timeout: float,
                 deadline_margin: float) -> None:
        self.endpoint = endpoint
        self.timeout = timeout                       # default request timeout (s) or None
        self.connect_timeout = connect_timeout
        self.client_name = client_name or f"cqlmq-python/{__version__}"
        self.deadline_margin = deadline_margin
        self._heartbeat = (heartbeat_ivl, heartbeat_timeout)
        self._ctx = context
        self._sock: Optional[zmq.asyncio.Socket] = None
        self._mon: Optional[zmq.asyncio.Socket] = None
        self._tasks: list = []
        self._pending: dict = {}                     # id -> Future | weakref to a Stream
        self._ids = itertools.count(1)
        self._closed = False
        self._session: Optional[str] = None
        self._session_gen = 0                        # bumped when a session is lost
        self._hello_task: Optional[asyncio.Task] = None
        self._inflight: Optional[asyncio.Semaphore] = None
        self._last_send = 0.0
        self.limits: dict = dict(_DEFAULT_LIMITS)
        self.server: Optional[str] = None
        self.hellos = 0                              # handshakes done (1 + re-hellos)
        self.disconnects = 0                         # DISCONNECTED events seen

    # ---- lifecycle --------------------------------------------------

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        ctx = self._ctx or _default_context()
        sock = ctx.socket(zmq.DEALER)
        try:
            sock.setsockopt(zmq.LINGER, 0)
            ivl, tmo = self._heartbeat
            if ivl and ivl > 0:
                sock.setsockopt(zmq.HEARTBEAT_IVL, int(ivl * 1000))
                sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, int(tmo * 1000))
                sock.setsockopt(zmq.HEARTBEAT_TTL, int(tmo * 1000))
            sock.setsockopt(zmq.SNDHWM, 100_000)
            sock.setsockopt(zmq.RCVHWM, 100_000)
            self._mon = sock.get_monitor_socket(zmq.EVENT_DISCONNECTED)
            sock.connect(self.endpoint)
        except zmq.ZMQError as e:
            if self._mon is not None:
                self._mon.close(0)
                self._mon = None
            sock.close(0)
            raise ValueError(f"cannot connect to {self.endpoint!r}: {e}") from None
        self._sock = sock
        self._last_send = loop.time()
        self._tasks = [
            loop.create_task(self._read_loop(), name="cqlmq-reader"),
            loop.create_task(self._monitor_loop(), name="cqlmq-monitor"),
        ]
        try:
            await self._ensure_session(self.connect_timeout)
        except BaseException:
            await self.close()
            raise
        self._tasks.append(loop.create_task(self._keepalive_loop(), name="cqlmq-keepalive"))

    async def close(self) -> None:
        """Fails what is in flight with Disconnected, stops the tasks and closes
        the socket. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._fail_all("client closed")
        tasks = self._tasks + ([self._hello_task] if self._hello_task else [])
        for t in tasks:
            t.cancel()
        for t in tasks:
            try:
                await t
            except BaseException:  # noqa: BLE001 - they were cancelled
                pass
        if self._sock is not None:
            try:
                self._sock.disable_monitor()
            except zmq.ZMQError:
                pass
            if self._mon is not None:
                self._mon.close(0)
            self._sock.close(0)

    async def __aenter__(self) -> "Connection":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def session(self) -> Optional[str]:
        return self._session

    def _check_open(self) -> None:
        if self._closed:
            raise Disconnected("client closed")

    # ---- the reader, the monitor, the keepalive -------------------------

    async def _read_loop(self) -> None:
        sock = self._sock
        pending = self._pending
        while True:
            try:
                frames = await sock.recv_multipart()
            except asyncio.CancelledError:
                raise
            except zmq.ZMQError as e:  # socket closed under us
                log.debug("cqlmq reader stops: %s", e)
                return
            if len(frames) != 1:
                log.warning("cqlmq: dropped a %d-frame message", len(frames))
                continue
            data = frames[0]
            try:
                op, rid = _wire.peek_head(data)
            except _wire.WireError as e:
                log.warning("cqlmq: dropped an undecodable message: %s", e)
                continue
            if rid not in pending:
                continue  # a late reply to a request given up (timeout, cancel)
            try:
                self._route(rid, op, data)
            except Exception:  # noqa: BLE001 - never let one reply stop the reader
                log.exception("cqlmq: routing a reply failed")

    def _route(self, rid: int, op: str, data: bytes) -> None:
        # a function of its own so that no reference to a stream outlives
        # the call (streams are held weakly: see _register)
        pending = self._pending
        entry = pending[rid]
        if isinstance(entry, asyncio.Future):
            del pending[rid]
            if not entry.done():
                entry.set_result((op, data))
            return
        stream = entry()
        if stream is None:
            del pending[rid]
            if op == "page":
                self._post({"op": "cancel", "id": rid})
        elif stream._deliver(op, data):
            pending.pop(rid, None)

    async def _monitor_loop(self) -> None:
        mon = self._mon
        while True:
            try:
                frames = await mon.recv_multipart()
            except zmq.ZMQError:
                return
            try:
                ev = parse_monitor_message(frames)["event"]
            except Exception:  # noqa: BLE001
                continue
            if ev == zmq.EVENT_DISCONNECTED:
                self.disconnects += 1
                self._lose_session()
                self._fail_all(f"connection to {self.endpoint} lost")
            elif ev == zmq.EVENT_MONITOR_STOPPED:
                return

    async def _keepalive_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            period = max(0.05, self.limits.get("lease_ms", 60000) / 3000.0)
            await asyncio.sleep(period)
            if self._session is None or loop.time() - self._last_send < period:
                continue
            try:
                await self._request({"op": "ping"}, ("pong",), timeout=period)
            except CqlmqError as e:
                log.debug("cqlmq keepalive ping failed: %s", e)

    def _fail_all(self, why: str) -> None:
        """Every request in flight fails with its own Disconnected(why)."""
        entries = list(self._pending.values())
        self._pending.clear()
        for e in entries:
            if isinstance(e, asyncio.Future):
                if not e.done():
                    e.set_exception(Disconnected(why))
            else:
                stream = e()
                if stream is not None:
                    stream._fail(Disconnected(why))

    # ---- sessions ---------------------------------------------------

    def _lose_session(self, gen: Optional[int] = None) -> None:
        """Forgets the session (the next request says hello). With gen: only
        if no new session was made since (a late unknown_session reply to an
        older request must not end the fresh one)."""
        if self._session is not None and (gen is None or gen == self._session_gen):
            self._session = None
            self._session_gen += 1

    async def _ensure_session(self, timeout: float) -> None:
        if self._session is not None:
            return
        self._check_open()
        t = self._hello_task
        if t is None or t.done():
            t = self._hello_task = asyncio.get_running_loop().create_task(self._hello(timeout))
            t.add_done_callback(_swallow)
        await asyncio.shield(t)

    async def _hello(self, timeout: float) -> None:
        msg = {"op": "hello", "protocol": PROTOCOL_VERSION, "client": self.client_name}
        try:
            async with asyncio.timeout(timeout) as cm:
                op, data = await self._roundtrip(msg)
        except TimeoutError:
            if cm.expired():
                raise OperationTimedOut(f"no hello reply from {self.endpoint} within {timeout} s",
                                        code="client_timeout") from None
            raise
        reply = self._decode(data)
        if op == "error":
            raise error_from_reply(reply)
        if op != "hello":
            raise ProtocolError(f"unexpected {op!r} reply to hello")
        limits = reply.get("limits")
        if isinstance(limits, dict):
            new = dict(_DEFAULT_LIMITS)
            new.update({k: v for k, v in limits.items() if isinstance(v, int)})
            if self._inflight is None or new["max_in_flight"] != self.limits["max_in_flight"]:
                self._inflight = asyncio.Semaphore(max(1, new["max_in_flight"]))
            self.limits = new
        elif self._inflight is None:
            self._inflight = asyncio.Semaphore(self.limits["max_in_flight"])
        self.server = reply.get("server")
        self._session = str(reply.get("session", ""))
        self.hellos += 1

    # ---- sending and receiving ------------------------------------------

    def _new_id(self) -> int:
        rid = next(self._ids)
        if rid > _ID_MAX:
            self._ids = itertools.count(2)
            rid = 1
        return rid

    def _register(self, entry: Any) -> int:
        """A new id routed to entry: a Future (held), or a Stream (held
        weakly, so a stream the application dropped is collected, and its
        __del__ or the next page for it sends `cancel`)."""
        rid = self._new_id()
        self._pending[rid] = entry if isinstance(entry, asyncio.Future) else weakref.ref(entry)
        return rid

    def _unregister(self, rid: Optional[int]) -> None:
        if rid is not None:
            self._pending.pop(rid, None)

    async def _send_msg(self, msg: dict) -> None:
        data = _wire.pack(msg)
        limit = self.limits.get("max_message_bytes", 0)
        if limit and len(data) > limit:
            raise BadRequest(f"request of {len(data)} bytes exceeds max_message_bytes {limit}")
        self._check_open()
        try:
            await self._sock.send(data)
        except zmq.ZMQError as e:
            raise Disconnected(f"send failed: {e}") from None
        self._last_send = asyncio.get_running_loop().time()

    def _post(self, msg: dict) -> None:
        """Sends a message that has no reply (cancel, credit) without waiting;
        ordered after every send already started."""
        if self._closed or self._sock is None:
            return
        try:
            fut = self._sock.send(_wire.pack(msg))
        except (zmq.ZMQError, RuntimeError):
            return
        fut.add_done_callback(_swallow)

    async def _roundtrip(self, msg: dict) -> tuple:
        """Sends msg under a new id and waits for its reply: (op, raw bytes).
        If the wait is cancelled (task cancelled, deadline), sends `cancel`."""
        fut = asyncio.get_running_loop().create_future()
        rid = self._register(fut)
        msg["id"] = rid
        try:
            await self._send_msg(msg)
            return await fut
        except BaseException:
            if self._pending.pop(rid, None) is not None and msg.get("op") != "hello":
                self._post({"op": "cancel", "id": rid})
            raise

    @staticmethod
    def _decode(data: bytes) -> dict:
        try:
            return _wire.decode(data)
        except _wire.WireError as e:
            raise ProtocolError(str(e)) from None

    def _timeouts(self, timeout: Optional[float]) -> tuple:
        """(timeout_ms to send or None, client-side deadline in seconds)."""
        t = self.timeout if timeout is None else timeout
        if t is None:
            server = self.limits.get("default_timeout_ms", 12000) / 1000.0
            return None, server + self.deadline_margin + 0.05 * server
        if t <= 0:
            raise ValueError("timeout must be positive")
        ms = max(1, min(int(t * 1000), self.limits.get("max_timeout_ms", 1 << 31)))
        return ms, ms / 1000.0 + self.deadline_margin + 0.05 * ms / 1000.0

    async def _request(self, msg: dict, expect: tuple, *, timeout: Optional[float] = None,
                       stmt: Any = None) -> dict:
        """One request with its deadline, session recovery and re-prepare.
        Returns the decoded reply (its op in `expect`) or raises."""
        self._check_open()
        ms, deadline = self._timeouts(timeout)
        if ms is not None and msg.get("op") in ("query", "execute", "batch"):
            msg["timeout_ms"] = ms
        try:
            async with asyncio.timeout(deadline) as cm:
                retried = False
                while True:
                    await self._ensure_session(deadline)
                    gen = self._session_gen
                    async with self._inflight:
                        op, data = await self._roundtrip(msg)
                    reply = self._decode(data)
                    if op in expect:
                        return reply
                    if op != "error":
                        raise ProtocolError(f"unexpected {op!r} reply to {msg.get('op')!r}")
                    err = error_from_reply(reply)
                    if not retried and isinstance(err, UnknownSession):
                        retried = True
                        self._lose_session(gen)
                        continue
                    if not retried and isinstance(err, Unprepared) and stmt is not None:
                        retried = True
                        await self._reprepare_in(msg, stmt, err)
                        continue
                    raise err
        except TimeoutError:
            if cm.expired():
                raise OperationTimedOut(
                    f"no reply to {msg.get('op')!r} within {deadline:.3f} s",
                    code="client_timeout") from None
            raise

    async def _reprepare_in(self, msg: dict, stmt: Any, err: CqlmqError) -> None:
        raise err  # Client prepares again; a bare Connection cannot


def _swallow(fut: asyncio.Future) -> None:
    if not fut.cancelled():
        fut.exception()
