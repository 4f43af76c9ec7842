"""The public client API: execute, stream, prepare, batch, ping, stats.

`connect()` returns a ready Client. The transport underneath (one DEALER
socket, one reader task routing replies by id, deadlines, cancels, session
recovery, disconnect detection) is cqlmq._conn.Connection.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
from typing import Any, Iterable, Optional, Union

import zmq.asyncio

from . import _wire
from ._conn import PROTOCOL_VERSION, Connection, __version__, log
from .errors import CqlmqError, ProtocolError
from .result import (
    PreparedStatement,
    Result,
    columns_of,
    make_rows,
    resolve_row_factory,
)
from .stream import Stream
from .types import CONSISTENCY_NAMES, SERIAL_CONSISTENCY_NAMES

__all__ = ["Client", "connect", "PROTOCOL_VERSION", "__version__"]

_BATCH_KINDS = ("logged", "unlogged", "counter")


def _consistency(v: Optional[str], allowed=CONSISTENCY_NAMES, what="consistency") -> Optional[str]:
    if v is None:
        return None
    s = str(v).lower()
    if s not in allowed:
        raise ValueError(f"unknown {what} {v!r}")
    return s


def _micros(ts: Union[int, _dt.datetime]) -> int:
    if isinstance(ts, _dt.datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=_dt.timezone.utc)
        d = ts - _wire._EPOCH
        return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds
    if isinstance(ts, int) and not isinstance(ts, bool):
        return ts
    raise TypeError("timestamp must be int microseconds or a datetime")


class Client(Connection):
    """A connection to cqlmqd. Make one with `await cqlmq.connect(...)`."""

    def __init__(self, endpoint: str, *, timeout: Optional[float] = None,
                 connect_timeout: float = 5.0, client_name: Optional[str] = None,
                 default_consistency: Optional[str] = None,
                 serial_consistency: Optional[str] = None, keyspace: Optional[str] = None,
                 row_factory: Any = None, context: Optional[zmq.asyncio.Context] = None,
                 heartbeat_ivl: float = 5.0, heartbeat_timeout: float = 15.0,
                 deadline_margin: float = 0.5) -> None:
        super().__init__(endpoint, timeout=timeout, connect_timeout=connect_timeout,
                         client_name=client_name, context=context, heartbeat_ivl=heartbeat_ivl,
                         heartbeat_timeout=heartbeat_timeout, deadline_margin=deadline_margin)
        self.default_consistency = _consistency(default_consistency)
        self.serial_consistency = _consistency(serial_consistency, SERIAL_CONSISTENCY_NAMES,
                                               "serial consistency")
        self.keyspace = keyspace
        self.row_factory = resolve_row_factory(row_factory)

    async def __aenter__(self) -> "Client":
        return self

    # ---- public API -------------------------------------------------

    def _common(self, msg: dict, consistency, serial_consistency, idempotent, keyspace,
                timestamp) -> dict:
        cl = _consistency(consistency) or self.default_consistency
        if cl:
            msg["consistency"] = cl
        scl = _consistency(serial_consistency, SERIAL_CONSISTENCY_NAMES,
                           "serial consistency") or self.serial_consistency
        if scl:
            msg["serial_consistency"] = scl
        if idempotent is not None:
            msg["idempotent"] = bool(idempotent)
        ks = keyspace or self.keyspace
        if ks and msg["op"] != "execute":
            msg["keyspace"] = ks
        if timestamp is not None:
            msg["timestamp"] = _micros(timestamp)
        return msg

    def _statement(self, statement: Any, params: Any, page_size, paging_state) -> dict:
        if isinstance(statement, PreparedStatement):
            msg = {"op": "execute", "handle": statement.handle}
        elif isinstance(statement, str):
            msg = {"op": "query", "cql": statement}
        else:
            raise TypeError("statement must be a CQL str or a PreparedStatement")
        p = _wire.encode_params(params)
        if p is not None:
            msg["params"] = p
        if page_size is not None:
            if not isinstance(page_size, int) or page_size <= 0:
                raise ValueError("page_size must be a positive int")
            msg["page_size"] = page_size
        if paging_state is not None:
            msg["paging_state"] = bytes(paging_state)
        return msg

    async def execute(self, statement: Union[str, PreparedStatement], params: Any = None, *,
                      consistency: Optional[str] = None, serial_consistency: Optional[str] = None,
                      timeout: Optional[float] = None, page_size: Optional[int] = None,
                      paging_state: Optional[bytes] = None, idempotent: Optional[bool] = None,
                      keyspace: Optional[str] = None,
                      timestamp: Union[int, _dt.datetime, None] = None,
                      row_factory: Any = None) -> Result:
        """Runs one statement; returns a Result holding at most one page
        (pass result.paging_state back for the next one)."""
        msg = self._statement(statement, params, page_size, paging_state)
        self._common(msg, consistency, serial_consistency, idempotent, keyspace, timestamp)
        reply = await self._request(msg, ("result",), timeout=timeout,
                                    stmt=statement if isinstance(statement, PreparedStatement)
                                    else None)
        factory = self.row_factory if row_factory is None else resolve_row_factory(row_factory)
        return _result_of(reply, factory)

    def stream(self, statement: Union[str, PreparedStatement], params: Any = None, *,
               page_size: Optional[int] = None, credit: int = 2,
               paging_state: Optional[bytes] = None, consistency: Optional[str] = None,
               timeout: Optional[float] = None, idempotent: Optional[bool] = None,
               keyspace: Optional[str] = None, row_factory: Any = None) -> Stream:
        """A Stream of the statement's rows, paced by the consumer (see
        cqlmq.stream). Nothing is sent before iteration or `async with`."""
        self._check_open()
        if not isinstance(credit, int) or credit < 1:
            raise ValueError("credit must be an int >= 1")
        credit = min(credit, self.limits.get("max_credit", credit))
        msg = self._statement(statement, params, page_size, paging_state)
        self._common(msg, consistency, None, idempotent, keyspace, None)
        ms, page_deadline = self._timeouts(timeout)
        if ms is not None:
            msg["timeout_ms"] = ms
        msg["stream"] = True
        msg["credit"] = credit
        factory = self.row_factory if row_factory is None else resolve_row_factory(row_factory)
        return Stream(self, msg, statement, credit=credit, page_timeout=page_deadline,
                      row_factory=factory)

    async def prepare(self, cql: str, *, keyspace: Optional[str] = None,
                      timeout: Optional[float] = None) -> PreparedStatement:
        """Prepares cql through cqlmqd's shared cache."""
        msg = {"op": "prepare", "cql": cql}
        ks = keyspace or self.keyspace
        if ks:
            msg["keyspace"] = ks
        reply = await self._request(msg, ("prepared",), timeout=timeout)
        handle = reply.get("handle")
        if not isinstance(handle, bytes):
            raise ProtocolError("prepared reply without a handle")
        return PreparedStatement(handle, cql, ks, columns_of(reply.get("params")),
                                 columns_of(reply.get("columns")),
                                 _wire.udts_of(reply.get("udts")))

    async def _reprepare(self, stmt: PreparedStatement) -> None:
        fresh = await self.prepare(stmt.cql, keyspace=stmt.keyspace)
        stmt.handle = fresh.handle
        stmt.params = fresh.params
        stmt.columns = fresh.columns
        stmt.udts = fresh.udts

    async def _reprepare_in(self, msg: dict, stmt: Any, err: CqlmqError) -> None:
        if isinstance(stmt, PreparedStatement):
            await self._reprepare(stmt)
            msg["handle"] = stmt.handle
            return
        # a batch: [(PreparedStatement | None, statement map)]
        sid = err.statement_id
        for ps, entry in stmt:
            if ps is not None and (sid is None or ps.handle == sid):
                await self._reprepare(ps)
                entry["handle"] = ps.handle

    async def batch(self, statements: Iterable[Any], kind: str = "logged", *,
                    consistency: Optional[str] = None, serial_consistency: Optional[str] = None,
                    timeout: Optional[float] = None, idempotent: Optional[bool] = None,
                    keyspace: Optional[str] = None,
                    timestamp: Union[int, _dt.datetime, None] = None) -> Result:
        """Runs a BATCH of (statement, params) pairs (a bare statement means
        no params). kind: "logged", "unlogged" or "counter"."""
        if kind not in _BATCH_KINDS:
            raise ValueError(f"batch kind must be one of {_BATCH_KINDS}, not {kind!r}")
        entries = []
        prepared = []
        for item in statements:
            if isinstance(item, (str, PreparedStatement)):
                st, params = item, None
            else:
                st, params = item
            if isinstance(st, PreparedStatement):
                e = {"handle": st.handle}
                prepared.append((st, e))
            elif isinstance(st, str):
                e = {"cql": st}
            else:
                raise TypeError("batch statements are CQL strs or PreparedStatements")
            p = _wire.encode_params(params)
            if p is not None:
                e["params"] = p
            entries.append(e)
        if not entries:
            raise ValueError("a batch needs at least one statement")
        msg = {"op": "batch", "kind": kind, "statements": entries}
        self._common(msg, consistency, serial_consistency, idempotent, keyspace, timestamp)
        reply = await self._request(msg, ("result",), timeout=timeout,
                                    stmt=prepared or None)
        return _result_of(reply, self.row_factory)

    async def ping(self, *, timeout: Optional[float] = None) -> float:
        """Round trip to cqlmqd; returns its time in seconds."""
        loop = asyncio.get_running_loop()
        await self._ensure_session(self.connect_timeout)
        t0 = loop.time()
        await self._request({"op": "ping"}, ("pong",), timeout=timeout)
        return loop.time() - t0

    async def stats(self, *, timeout: Optional[float] = None) -> dict:
        """cqlmqd's counters and gauges (docs/operations.md)."""
        reply = await self._request({"op": "stats"}, ("stats",), timeout=timeout)
        reply.pop("op", None)
        reply.pop("id", None)
        return reply

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("ready" if self._session else "no session")
        return f"<cqlmq.Client {self.endpoint} {state} server={self.server!r}>"


def _result_of(reply: dict, factory) -> Result:
    kind = reply.get("kind")
    warnings = reply.get("warnings")
    warnings = [str(w) for w in warnings] if isinstance(warnings, list) else []
    for w in warnings:
        log.warning("cqlmq: Cassandra warning: %s", w)
    if kind == "rows":
        columns = columns_of(reply.get("columns"))
        udts = _wire.udts_of(reply.get("udts"))
        rows = reply.get("rows") or []
        if not isinstance(rows, list):
            raise ProtocolError("result rows are not an array")
        _wire.convert_rows(rows, columns, udts)
        first = rows[0] if rows else None
        ps = reply.get("paging_state")
        return Result("rows", columns, make_rows(rows, [c.name for c in columns], factory),
                      ps if isinstance(ps, bytes) else None, warnings, raw_first=first,
                      udts=udts)
    if kind in ("void", "set_keyspace", "schema_change"):
        return Result(kind, warnings=warnings, keyspace=reply.get("keyspace"),
                      change=reply.get("change"), target=reply.get("target"),
                      name=reply.get("name"))
    raise ProtocolError(f"unknown result kind {kind!r}")


class _Connector:
    """What connect() returns: await it for a Client, or use it with
    `async with` to close the client at the end of the block."""

    def __init__(self, endpoint: str, kwargs: dict) -> None:
        self._endpoint = endpoint
        self._kwargs = kwargs
        self._client: Optional[Client] = None

    async def _connect(self) -> Client:
        client = Client(self._endpoint, **self._kwargs)
        await client._start()
        self._client = client
        return client

    def __await__(self):
        return self._connect().__await__()

    async def __aenter__(self) -> Client:
        return await self._connect()

    async def __aexit__(self, *exc) -> None:
        if self._client is not None:
            await self._client.close()


def connect(endpoint: str, *, timeout: Optional[float] = None, connect_timeout: float = 5.0,
            client_name: Optional[str] = None, default_consistency: Optional[str] = None,
            serial_consistency: Optional[str] = None, keyspace: Optional[str] = None,
            row_factory: Any = None, context: Optional[zmq.asyncio.Context] = None,
            heartbeat_ivl: float = 5.0, heartbeat_timeout: float = 15.0,
            deadline_margin: float = 0.5) -> _Connector:
    """Connects to cqlmqd at endpoint ("tcp://host:port", "ipc:///path").

    `await connect(...)` returns a ready Client (the `hello` is done);
    `async with connect(...) as client:` also closes it at the end.

      timeout              default request timeout in seconds (None: cqlmqd's
                           default_timeout_ms); the client waits that long
                           plus deadline_margin (and 5 %) before it gives up
      connect_timeout      how long to wait for the hello reply
      client_name          sent in hello ("name/version")
      default_consistency  for requests that name none (None: cqlmqd's,
                           local_one); serial_consistency likewise
      keyspace             default keyspace of query / prepare / batch
      row_factory          named_tuple_factory (default), dict_factory,
                           tuple_factory, a dataclass, or your own
      heartbeat_ivl / heartbeat_timeout  ZMTP heartbeats, seconds (0: off):
                           a silent cqlmqd is declared lost after the timeout
    """
    return _Connector(endpoint, dict(
        timeout=timeout, connect_timeout=connect_timeout, client_name=client_name,
        default_consistency=default_consistency, serial_consistency=serial_consistency,
        keyspace=keyspace, row_factory=row_factory, context=context,
        heartbeat_ivl=heartbeat_ivl, heartbeat_timeout=heartbeat_timeout,
        deadline_margin=deadline_margin))
