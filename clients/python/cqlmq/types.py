"""Python types for CQL values that have no exact built-in equivalent.

The full mapping between CQL, msgpack and Python (docs/protocol.md section 8)
lives in cqlmq._wire; this module holds the few types the mapping needs:

  Duration             CQL duration (months, days, nanoseconds)
  UNSET                a bind value "not set" (leave the column unchanged)
  EMPTY                the empty value of a non-text type (rare; Thrift-era)
  OutOfRangeDate       a CQL date outside datetime.date's years 1..9999,
                       kept as signed days since 1970-01-01
  OutOfRangeTimestamp  a CQL timestamp outside datetime's range, kept as
                       signed milliseconds since the epoch
  FrozenDict           a hashable dict: frozen maps / UDTs found inside
                       sets or map keys
  Column               (name, type) of a result column
  ConsistencyLevel     the consistency names of the protocol
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "Duration",
    "UNSET",
    "EMPTY",
    "OutOfRangeDate",
    "OutOfRangeTimestamp",
    "FrozenDict",
    "Column",
    "ConsistencyLevel",
    "CONSISTENCY_NAMES",
    "SERIAL_CONSISTENCY_NAMES",
]


class Duration(NamedTuple):
    """A CQL duration. All three parts carry the same sign (or are 0).

    months and days are int32, nanoseconds int64; CQL keeps them apart
    because a month or a day has no fixed length.
    """

    months: int = 0
    days: int = 0
    nanoseconds: int = 0


class _Sentinel:
    """A named singleton (UNSET, EMPTY); survives copy and pickle."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"cqlmq.{self._name}"

    def __reduce__(self):
        return self._name

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


#: Bind value meaning "not set": the column is left unchanged (msgpack ext 10).
UNSET = _Sentinel("UNSET")
#: The empty value of a non-text type (msgpack ext 9), distinct from null.
EMPTY = _Sentinel("EMPTY")


class OutOfRangeDate(int):
    """A CQL date that datetime.date cannot hold: signed days since 1970-01-01.

    CQL dates span 2^32 days (about +-5.8 million years); Python's cover the
    years 1 to 9999. Such a date decodes to this int subclass and encodes
    back as a date, so it round-trips.
    """

    def __repr__(self) -> str:
        return f"OutOfRangeDate({int(self)})"


class OutOfRangeTimestamp(int):
    """A CQL timestamp that datetime cannot hold: milliseconds since the epoch.

    Decodes from, and encodes back to, a CQL timestamp.
    """

    def __repr__(self) -> str:
        return f"OutOfRangeTimestamp({int(self)})"


class FrozenDict(dict):
    """A read-only, hashable dict for frozen maps and UDTs that sit inside a
    set or a map key (where Python needs hashable values)."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def _readonly(self, *args, **kwargs):
        raise TypeError("FrozenDict is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore
    __ior__ = _readonly  # type: ignore

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


class Column(NamedTuple):
    """A result column: its name and its CQL type string ("map<text, int>")."""

    name: str
    type: str


class ConsistencyLevel:
    """Consistency names accepted by the protocol (case-insensitive strings
    work too: "LOCAL_QUORUM", "local_quorum")."""

    ANY = "any"
    ONE = "one"
    TWO = "two"
    THREE = "three"
    QUORUM = "quorum"
    ALL = "all"
    LOCAL_QUORUM = "local_quorum"
    EACH_QUORUM = "each_quorum"
    SERIAL = "serial"
    LOCAL_SERIAL = "local_serial"
    LOCAL_ONE = "local_one"


CONSISTENCY_NAMES = frozenset(
    v for k, v in vars(ConsistencyLevel).items() if not k.startswith("_")
)
SERIAL_CONSISTENCY_NAMES = frozenset({"serial", "local_serial"})
