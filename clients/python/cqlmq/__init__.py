"""cqlmq: an asyncio client for cqlmqd (Cassandra through ZeroMQ + msgpack).

    import cqlmq

    async with cqlmq.connect("tcp://127.0.0.1:9043") as client:
        result = await client.execute("SELECT id, name FROM app.users WHERE id = ?", [uid])
        async with client.stream("SELECT * FROM app.events", page_size=1000) as rows:
            async for row in rows:
                ...

No threads, no blocking call: one ZeroMQ socket driven by the event loop.
See README.md for the whole API and docs/protocol.md for the wire contract.
"""

from .client import PROTOCOL_VERSION, Client, __version__, connect
from .errors import *  # noqa: F401,F403 - the exception classes are public API
from .errors import __all__ as _errors_all
from .result import (
    PreparedStatement,
    Result,
    dataclass_factory,
    dict_factory,
    named_tuple_factory,
    tuple_factory,
)
from .stream import Page, Stream
from .types import (
    EMPTY,
    UNSET,
    Column,
    ConsistencyLevel,
    Duration,
    FrozenDict,
    OutOfRangeDate,
    OutOfRangeTimestamp,
)

__all__ = [
    "connect",
    "Client",
    "Result",
    "PreparedStatement",
    "Stream",
    "Page",
    "Column",
    "ConsistencyLevel",
    "Duration",
    "UNSET",
    "EMPTY",
    "OutOfRangeDate",
    "OutOfRangeTimestamp",
    "FrozenDict",
    "named_tuple_factory",
    "dict_factory",
    "tuple_factory",
    "dataclass_factory",
    "PROTOCOL_VERSION",
    "__version__",
] + [n for n in _errors_all if n != "error_from_reply"]
