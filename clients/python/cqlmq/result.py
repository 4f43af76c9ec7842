"""Results, prepared statements and row factories.

A row factory is a function called once per result (or stream) with the
column names; it returns the function that turns one row (a list of values
in column order) into the object the application sees. The built-ins:

  named_tuple_factory   (default) rows as named tuples; column names that are
                        not identifiers are cleaned ("[applied]" -> "applied",
                        "count(*)" -> "count"), a repeated name gets _<index>
  dict_factory          rows as dicts keyed by the column names
  tuple_factory         rows as plain tuples
  dataclass_factory(C)  rows as instances of dataclass C (columns matched to
                        fields by name; columns without a field are dropped)

Passing a dataclass itself as row_factory is the same as
dataclass_factory(it).
"""

from __future__ import annotations

import dataclasses
import functools
import keyword
import re
from collections import namedtuple
from typing import Any, Callable, Iterator, List, Optional, Sequence

from .types import Column

__all__ = [
    "Result",
    "PreparedStatement",
    "named_tuple_factory",
    "dict_factory",
    "tuple_factory",
    "dataclass_factory",
    "resolve_row_factory",
]

RowMaker = Callable[[list], Any]
RowFactory = Callable[[Sequence[str]], RowMaker]

_NON_WORD = re.compile(r"\W+")


def _clean(name: str) -> str:
    s = _NON_WORD.sub("_", name).strip("_")
    if not s:
        s = "col"
    if s[0].isdigit():
        s = "c_" + s
    if keyword.iskeyword(s):
        s += "_"
    return s


@functools.lru_cache(maxsize=512)
def _row_class(names: tuple) -> type:
    fields = []
    seen = set()
    for i, n in enumerate(names):
        c = _clean(n)
        if c in seen:
            c = f"{c}_{i}"
        seen.add(c)
        fields.append(c)
    return namedtuple("Row", fields, rename=True)


def named_tuple_factory(names: Sequence[str]) -> RowMaker:
    cls = _row_class(tuple(names))
    new = tuple.__new__
    return lambda values: new(cls, values)


def dict_factory(names: Sequence[str]) -> RowMaker:
    names = tuple(names)
    return lambda values: dict(zip(names, values))


def tuple_factory(names: Sequence[str]) -> RowMaker:
    return tuple


def dataclass_factory(cls: type) -> RowFactory:
    """Rows as instances of the dataclass cls, columns matched by field name."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    fields = {f.name for f in dataclasses.fields(cls) if f.init}

    def factory(names: Sequence[str]) -> RowMaker:
        picks = [(i, n) for i, n in enumerate(names) if n in fields]
        return lambda values: cls(**{n: values[i] for i, n in picks})

    return factory


def resolve_row_factory(f: Any) -> RowFactory:
    if f is None:
        return named_tuple_factory
    if isinstance(f, type) and dataclasses.is_dataclass(f):
        return dataclass_factory(f)
    if not callable(f):
        raise TypeError("row_factory must be callable (names -> (values -> row)) or a dataclass")
    return f


def make_rows(rows: list, names: Sequence[str], factory: RowFactory) -> list:
    if not rows:
        return []
    make = factory(names)
    if make is tuple:
        return [tuple(r) for r in rows]
    return [make(r) for r in rows]


class Result:
    """The result of execute() or batch(): one page of rows at most.

    Iterating yields the rows. Attributes:
      kind          "rows", "void", "set_keyspace" or "schema_change"
      columns       [Column(name, type), ...] ("rows" only; else [])
      udts          the user-defined types the column types name:
                    {name: [(field, type), ...]} ({} when none)
      rows          the list of rows
      paging_state  bytes to pass back as execute(paging_state=...) for the
                    next page, or None when this was the last page
      warnings      Cassandra's warnings (list of str)
      applied       for a conditional statement (first column "[applied]"):
                    whether it was applied; None for other statements
      keyspace, change, target, name: for set_keyspace / schema_change
    """

    __slots__ = ("kind", "columns", "rows", "paging_state", "warnings", "keyspace", "change",
                 "target", "name", "_raw_first", "udts")

    def __init__(self, kind: str = "void", columns: Optional[List[Column]] = None,
                 rows: Optional[list] = None, paging_state: Optional[bytes] = None,
                 warnings: Optional[List[str]] = None, keyspace: Optional[str] = None,
                 change: Optional[str] = None, target: Optional[str] = None,
                 name: Optional[str] = None, raw_first: Optional[list] = None,
                 udts: Optional[dict] = None) -> None:
        self.kind = kind
        self.columns = columns or []
        self.udts = udts or {}
        self.rows = rows if rows is not None else []
        self.paging_state = paging_state
        self.warnings = warnings or []
        self.keyspace = keyspace
        self.change = change
        self.target = target
        self.name = name
        self._raw_first = raw_first

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    def one(self) -> Any:
        """The first row, or None when there is none."""
        return self.rows[0] if self.rows else None

    def all(self) -> list:
        """All rows of this page (a list)."""
        return list(self.rows)

    @property
    def has_more_pages(self) -> bool:
        return self.paging_state is not None

    @property
    def column_names(self) -> List[str]:
        return [c.name for c in self.columns]

    @property
    def applied(self) -> Optional[bool]:
        """[applied] of a conditional statement (LWT), else None."""
        if not self.columns or self.columns[0].name != "[applied]" or not self._raw_first:
            return None
        return bool(self._raw_first[0])

    def __repr__(self) -> str:
        if self.kind == "rows":
            more = ", more pages" if self.paging_state is not None else ""
            return f"<Result rows={len(self.rows)} columns={self.column_names}{more}>"
        return f"<Result kind={self.kind}>"


class PreparedStatement:
    """A statement prepared through cqlmqd's shared cache.

    handle    cqlmqd's handle (bytes), valid while that cqlmqd runs; the
              client prepares again by itself when cqlmqd answers
              `unprepared` (for instance after a restart)
    cql       the statement text; keyspace: the keyspace it was prepared in
    params    [Column(name, type)] of the bind markers
    columns   [Column(name, type)] of the result (may be [] for writes)
    udts      the user-defined types that params and columns name:
              {name: [(field, type), ...]} ({} when none)
    """

    __slots__ = ("handle", "cql", "keyspace", "params", "columns", "udts")

    def __init__(self, handle: bytes, cql: str, keyspace: Optional[str], params: List[Column],
                 columns: List[Column], udts: Optional[dict] = None) -> None:
        self.handle = handle
        self.cql = cql
        self.keyspace = keyspace
        self.params = params
        self.columns = columns
        self.udts = udts or {}

    def __repr__(self) -> str:
        return f"<PreparedStatement {self.cql!r} params={[p.name for p in self.params]}>"


def columns_of(v: Any) -> List[Column]:
    """[[name, type], ...] from a reply -> [Column]; tolerant of junk."""
    out = []
    if isinstance(v, list):
        for c in v:
            if isinstance(c, (list, tuple)) and len(c) >= 2:
                out.append(Column(str(c[0]), str(c[1])))
    return out
