"""Streamed results with consumer-granted credit (docs/protocol.md section 7).

A Stream is an async iterator of rows (or, through .pages(), of pages). It
asks cqlmqd for `credit` pages up front and grants one more page of credit
each time the consumer has FINISHED a page (iterated all its rows, or asked
for the next page), never on receipt. So at any time:

    pages buffered here  <=  credit outstanding at cqlmqd  <=  credit

and memory stays bounded in this process and in cqlmqd, however large the
result and however slow the consumer.

Pages are kept as the raw bytes received and decoded only when the consumer
takes them, in the consumer's task: decoding costs are paid at the
consumer's pace, one page at a time, and the loop gets a turn between pages.

Leaving early cancels the stream in cqlmqd: exit the `async with` block,
call aclose(), or cancel the consuming task. (A bare `async for` that breaks
out sends the cancel when the Stream is garbage-collected.)

After a disconnect the stream fails with Disconnected; `paging_state` is
then the point to resume from (client.stream(..., paging_state=s.paging_state)):
rows after it may be delivered again, none are skipped.
"""

from __future__ import annotations

import asyncio
import collections
from typing import TYPE_CHECKING, Any, Optional

from . import _wire
from .errors import (
    OperationTimedOut,
    ProtocolError,
    Unprepared,
    UnknownSession,
    error_from_reply,
)
from .result import PreparedStatement, columns_of, make_rows

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["Stream", "Page"]


class Page(list):
    """One page of rows (a list) with its sequence number and, when the
    page ends on a Cassandra page boundary, the paging_state after it."""

    __slots__ = ("seq", "paging_state")

    def __init__(self, rows: list, seq: int, paging_state: Optional[bytes]) -> None:
        super().__init__(rows)
        self.seq = seq
        self.paging_state = paging_state


class Stream:
    """Returned by Client.stream(); see the module documentation.

    Attributes: columns ([Column], known after the first page), udts (the
    user-defined types they name, {name: [(field, type), ...]}), paging_state
    (resume point), page_count / row_count (consumed so far), done (the `done`
    reply's {pages, rows} once the stream ended normally), max_buffered (the
    most pages ever held here at once).
    """

    def __init__(self, client: "Client", msg: dict, stmt: Any, *, credit: int,
                 page_timeout: float, row_factory) -> None:
        self._client = client
        self._msg = msg                  # the request without id
        self._stmt = stmt                # str or PreparedStatement (for re-prepare)
        self._window = credit            # initial credit = the bound on buffered pages
        self._grant_batch = max(1, credit // 2)
        self._page_timeout = page_timeout
        self._row_factory = row_factory
        self._rid: Optional[int] = None
        self._gen = 0                    # the client's session generation at start
        self._state = "new"              # new -> running -> ended
        self._buf: collections.deque = collections.deque()  # raw page frames
        self._terminal: Any = None       # (op, data) or an exception
        self._waiter: Optional[asyncio.Future] = None
        self._retried = False            # one retry after unknown_session / unprepared
        self._received = 0               # pages received from cqlmqd (this attempt)
        self._granted = 0                # credit sent in `credit` messages
        self._to_grant = 0               # processed pages not yet granted back
        self._next_seq = 0
        self._pending_ps: Optional[bytes] = None
        self._rows_it: Any = None
        self.columns: list = []
        self.udts: dict = {}
        self.paging_state: Optional[bytes] = msg.get("paging_state")
        self.page_count = 0
        self.row_count = 0
        self.done: Optional[dict] = None
        self.max_buffered = 0

    # ---- lifecycle --------------------------------------------------

    async def __aenter__(self) -> "Stream":
        if self._state == "new":
            await self._start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stops the stream; cancels it in cqlmqd if it is still running."""
        self._end(send_cancel=True)

    def __del__(self) -> None:
        if self._state == "running":
            try:
                self._end(send_cancel=True)
            except Exception:  # noqa: BLE001 - interpreter or loop shutting down
                pass

    @property
    def closed(self) -> bool:
        return self._state == "ended"

    async def _start(self) -> None:
        client = self._client
        client._check_open()
        await client._ensure_session(self._page_timeout)
        self._gen = client._session_gen
        self._received = 0
        self._granted = 0
        self._buf.clear()
        self._terminal = None
        self._rid = client._register(self)
        msg = dict(self._msg)
        msg["id"] = self._rid
        self._state = "running"
        try:
            await client._send_msg(msg)
        except BaseException:
            self._end(send_cancel=True)  # harmless if it never left
            raise

    def _end(self, send_cancel: bool) -> None:
        if self._state == "running":
            if send_cancel:
                self._client._post({"op": "cancel", "id": self._rid})
            self._client._unregister(self._rid)
        self._state = "ended"
        self._buf.clear()

    # ---- called by the client's reader --------------------------------

    def _deliver(self, op: str, data: bytes) -> bool:
        """A reply for this stream; True when it is the terminal one."""
        if op == "page":
            self._buf.append(data)
            self._received += 1
            if len(self._buf) > self.max_buffered:
                self.max_buffered = len(self._buf)
            terminal = False
        else:
            self._terminal = (op, data)
            terminal = True
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)
        return terminal

    def _fail(self, exc: BaseException) -> None:
        self._terminal = exc
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    # ---- consumer side ----------------------------------------------

    def _page_processed(self) -> None:
        """The consumer finished a page: commit its resume point, grant credit."""
        if self._pending_ps is not None:
            self.paging_state = self._pending_ps
            self._pending_ps = None
        if self._state != "running" or self._terminal is not None:
            return
        self._to_grant += 1
        if self._to_grant >= self._grant_batch:
            n, self._to_grant = self._to_grant, 0
            self._granted += n
            self._client._post({"op": "credit", "id": self._rid, "n": n})

    async def _next_page(self) -> Optional[Page]:
        if self._state == "new":
            await self._start()
        while True:
            if self._buf:
                data = self._buf.popleft()
                await asyncio.sleep(0)  # a turn for the loop between pages
                return self._decode_page(data)
            if self._state == "ended":
                return None
            if self._terminal is not None:
                page = await self._finish()
                if page is None:
                    return None
                continue
            await self._wait()

    async def _wait(self) -> None:
        loop = asyncio.get_running_loop()
        self._waiter = w = loop.create_future()
        try:
            async with asyncio.timeout(self._page_timeout) as cm:
                await w
        except TimeoutError:
            if cm.expired():
                self._end(send_cancel=True)
                raise OperationTimedOut(
                    f"no page within {self._page_timeout:.3f} s", code="client_timeout") from None
            raise
        except asyncio.CancelledError:
            self._end(send_cancel=True)
            raise
        finally:
            self._waiter = None

    async def _finish(self) -> Optional[Any]:
        """Handles the terminal reply: None at the end, or raises; "retry"
        when the stream was started again."""
        t = self._terminal
        if isinstance(t, BaseException):
            self._end(send_cancel=False)
            raise t
        op, data = t
        self._client._unregister(self._rid)
        self._state = "ended"
        try:
            msg = _wire.decode(data)
        except _wire.WireError as e:
            raise ProtocolError(str(e)) from None
        if op == "done":
            self.done = {"pages": msg.get("pages"), "rows": msg.get("rows")}
            self.paging_state = None
            return None
        if op != "error":
            raise ProtocolError(f"unexpected {op!r} reply to a stream")
        err = error_from_reply(msg)
        if not self._retried and self.page_count == 0 and self._received == 0:
            if isinstance(err, UnknownSession):
                self._retried = True
                self._client._lose_session(self._gen)
                await self._start()
                return "retry"
            if isinstance(err, Unprepared) and isinstance(self._stmt, PreparedStatement):
                self._retried = True
                await self._client._reprepare(self._stmt)
                self._msg["handle"] = self._stmt.handle
                await self._start()
                return "retry"
        raise err

    def _decode_page(self, data: bytes) -> Page:
        try:
            msg = _wire.decode(data)
        except _wire.WireError as e:
            self._end(send_cancel=True)
            raise ProtocolError(str(e)) from None
        seq = msg.get("seq")
        if seq != self._next_seq:
            self._end(send_cancel=True)
            raise ProtocolError(f"stream page seq {seq!r}, expected {self._next_seq}")
        self._next_seq += 1
        if seq == 0 or "columns" in msg:
            cols = columns_of(msg.get("columns"))
            if cols or not self.columns:
                self.columns = cols
                self.udts = _wire.udts_of(msg.get("udts"))
        rows = msg.get("rows") or []
        if not isinstance(rows, list):
            self._end(send_cancel=True)
            raise ProtocolError("page rows are not an array")
        _wire.convert_rows(rows, self.columns, self.udts)
        ps = msg.get("paging_state")
        self._pending_ps = ps if isinstance(ps, bytes) else None
        self.page_count += 1
        self.row_count += len(rows)
        return Page(make_rows(rows, [c.name for c in self.columns], self._row_factory), seq, ps)

    # ---- iteration --------------------------------------------------

    def __aiter__(self) -> "Stream":
        return self

    async def __anext__(self) -> Any:
        it = self._rows_it
        if it is not None:
            for row in it:
                return row
            self._rows_it = None
            self._page_processed()
        while True:
            page = await self._next_page()
            if page is None:
                raise StopAsyncIteration
            if page:
                self._rows_it = it = iter(page)
                return next(it)
            self._page_processed()  # an empty page

    async def pages(self):
        """Async iterator of Page objects (each a list of rows). A page is
        processed (and its credit granted back) when the next one is asked
        for. Do not mix with row iteration."""
        try:
            while True:
                page = await self._next_page()
                if page is None:
                    return
                yield page
                self._page_processed()
        finally:
            if self._state == "running":
                self._end(send_cancel=True)

    async def all(self) -> list:
        """Every remaining row, as one list (for results known to be small)."""
        out = []
        async for row in self:
            out.append(row)
        return out
