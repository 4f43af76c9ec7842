"""The msgpack side of the cqlmq protocol: messages and CQL values.

One place for docs/protocol.md section 8 in Python:

  CQL             Python (decoded)                      encoded from
  null            None                                  None
  empty value     EMPTY                                 EMPTY
  not set         -                                     UNSET
  boolean         bool                                  bool
  int types       int                                   int (any size)
  varint          int (ext 4 beyond 64 bits)            int
  float, double   float                                 float
  decimal         decimal.Decimal (ext 1)               Decimal
  text, ascii     str                                   str
  blob, custom    bytes                                 bytes, bytearray, memoryview
  uuid, timeuuid  uuid.UUID (ext 2)                     UUID
  timestamp       aware datetime in UTC (ext -1)        datetime (naive = UTC),
                  OutOfRangeTimestamp beyond year 9999  OutOfRangeTimestamp
  date            datetime.date (ext 5),                date, OutOfRangeDate
                  OutOfRangeDate outside years 1..9999
  time            datetime.time (ext 6; below a         time (tzinfo ignored)
                  microsecond truncated)                or int nanoseconds
  duration        Duration (ext 7)                      Duration
  inet            IPv4Address / IPv6Address (ext 8)     ipaddress objects
  list            list                                  list, tuple
  set             set (frozenset when nested in a set   set, frozenset
                  or a map key)
  map             dict                                  dict
  tuple           tuple                                 tuple, list
  UDT             dict field -> value                   dict

Inside set elements and map keys collections come back hashable: lists and
tuples as tuples, sets as frozensets, maps and UDTs as FrozenDict.

The fields of a UDT column are converted by their types from the reply's
`udts` map (docs/protocol.md section 6): a tuple field becomes a tuple, a
set field a set, and so on, in UDTs nested at any depth.

Decoding is one msgpack.unpackb per reply (C speed, one ext_hook call per
extension value), then a pass only over the columns whose type needs a
Python-side change (sets, tuples, and collections of them): a page of plain
columns is never walked in Python except to build the row objects.
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import functools
import ipaddress as _ip
import re
import uuid as _uuid
from typing import Any, Callable, Optional

import msgpack

from .types import (
    EMPTY,
    UNSET,
    Duration,
    FrozenDict,
    OutOfRangeDate,
    OutOfRangeTimestamp,
)

# ---- extension codes (docs/protocol.md section 8) ----------------------
EXT_DECIMAL = 1
EXT_UUID = 2
EXT_VARINT = 4
EXT_DATE = 5
EXT_TIME = 6
EXT_DURATION = 7
EXT_INET = 8
EXT_EMPTY = 9
EXT_NOT_SET = 10
EXT_TIMESTAMP = -1

_INT64_MIN = -(1 << 63)
_UINT64_MAX = (1 << 64) - 1
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_NS_PER_DAY = 86_400 * 1_000_000_000
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
_MIN_DAYS = _dt.date.min.toordinal() - _EPOCH_ORDINAL
_MAX_DAYS = _dt.date.max.toordinal() - _EPOCH_ORDINAL
_UTC = _dt.timezone.utc
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_UTC)


class WireError(ValueError):
    """A message that does not follow the protocol."""


# ======================================================================
# Python -> msgpack (requests and bind values)
# ======================================================================


def _signed_bytes(n: int) -> bytes:
    """Minimal two's-complement big-endian bytes of n (at least one)."""
    return n.to_bytes(((n if n >= 0 else ~n).bit_length() // 8) + 1, "big", signed=True)


def _enc_int(v: int) -> Any:
    if _INT64_MIN <= v <= _UINT64_MAX:
        return v
    return msgpack.ExtType(EXT_VARINT, _signed_bytes(v))


def _enc_decimal(v: _decimal.Decimal) -> msgpack.ExtType:
    sign, digits, exp = v.as_tuple()
    if not isinstance(exp, int):
        raise ValueError(f"cannot encode {v!r}: CQL decimal has no NaN or Infinity")
    unscaled = 0
    for d in digits:
        unscaled = unscaled * 10 + d
    if sign:
        unscaled = -unscaled
    scale = -exp
    if not _INT32_MIN <= scale <= _INT32_MAX:
        raise ValueError(f"cannot encode {v!r}: scale beyond int32")
    return msgpack.ExtType(EXT_DECIMAL, scale.to_bytes(4, "big", signed=True) + _signed_bytes(unscaled))


def _enc_datetime(v: _dt.datetime) -> msgpack.Timestamp:
    # naive datetimes are taken as UTC (documented), aware ones converted
    if v.tzinfo is not None:
        v = v.astimezone(_UTC).replace(tzinfo=None)
    delta = v - _EPOCH.replace(tzinfo=None)
    us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    sec, rem_us = divmod(us, 1_000_000)
    return msgpack.Timestamp(sec, rem_us * 1000)


def _enc_timestamp_ms(ms: int) -> msgpack.Timestamp:
    sec, rem = divmod(int(ms), 1000)
    return msgpack.Timestamp(sec, rem * 1_000_000)


def _enc_date(v: _dt.date) -> msgpack.ExtType:
    return _ext_days(v.toordinal() - _EPOCH_ORDINAL)


def _ext_days(days: int) -> msgpack.ExtType:
    if not _INT32_MIN <= days <= _INT32_MAX:
        raise ValueError(f"date of {days} days is beyond the int32 range of CQL dates")
    return msgpack.ExtType(EXT_DATE, days.to_bytes(4, "big", signed=True))


def _enc_time(v: _dt.time) -> msgpack.ExtType:
    ns = ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000_000 + v.microsecond * 1000
    return msgpack.ExtType(EXT_TIME, ns.to_bytes(8, "big", signed=True))


def _enc_duration(v: Duration) -> msgpack.ExtType:
    months, days, ns = int(v[0]), int(v[1]), int(v[2])
    if not (_INT32_MIN <= months <= _INT32_MAX and _INT32_MIN <= days <= _INT32_MAX
            and _INT64_MIN <= ns < (1 << 63)):
        raise ValueError(f"{v!r} is out of the CQL duration range")
    if (months < 0 or days < 0 or ns < 0) and (months > 0 or days > 0 or ns > 0):
        raise ValueError(f"{v!r}: a duration's parts must share one sign")
    return msgpack.ExtType(
        EXT_DURATION,
        months.to_bytes(4, "big", signed=True) + days.to_bytes(4, "big", signed=True)
        + ns.to_bytes(8, "big", signed=True),
    )


_EXT_EMPTY = msgpack.ExtType(EXT_EMPTY, b"")
_EXT_NOT_SET = msgpack.ExtType(EXT_NOT_SET, b"")

_PASS = (type(None), bool, float, str, bytes, msgpack.ExtType, msgpack.Timestamp)


def encode_value(v: Any) -> Any:
    """Turns one Python bind value into what msgpack packs per section 8.

    Raises TypeError for a type with no CQL form, ValueError for a value out
    of its CQL type's range."""
    t = type(v)
    if t in _PASS:
        return v
    if t is int:
        return _enc_int(v)
    if t is list or t is tuple:
        return [encode_value(x) for x in v]
    if t is dict or t is FrozenDict:
        return {_key(k): encode_value(x) for k, x in v.items()}
    if v is UNSET:
        return _EXT_NOT_SET
    if v is EMPTY:
        return _EXT_EMPTY
    # subclasses and the remaining types, most specific first
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, OutOfRangeDate):
        return _ext_days(int(v))
    if isinstance(v, OutOfRangeTimestamp):
        return _enc_timestamp_ms(int(v))
    if isinstance(v, int):
        return _enc_int(int(v))
    if isinstance(v, _uuid.UUID):
        return msgpack.ExtType(EXT_UUID, v.bytes)
    if isinstance(v, _dt.datetime):
        return _enc_datetime(v)
    if isinstance(v, _dt.date):
        return _enc_date(v)
    if isinstance(v, _dt.time):
        return _enc_time(v)
    if isinstance(v, _decimal.Decimal):
        return _enc_decimal(v)
    if isinstance(v, (_ip.IPv4Address, _ip.IPv6Address)):
        return msgpack.ExtType(EXT_INET, v.packed)
    if isinstance(v, Duration):
        return _enc_duration(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, str):
        return str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, (set, frozenset)):
        return [encode_value(x) for x in v]
    if isinstance(v, (list, tuple)):
        return [encode_value(x) for x in v]
    if isinstance(v, dict):
        return {_key(k): encode_value(x) for k, x in v.items()}
    raise TypeError(f"no CQL value for a {t.__module__}.{t.__qualname__}")


def _hashable(v: Any) -> Any:
    if type(v) is list:
        return tuple(_hashable(x) for x in v)
    if type(v) is dict:
        return FrozenDict((k, _hashable(x)) for k, x in v.items())
    return v


def _key(k: Any) -> Any:
    """A map key, encoded and kept hashable (msgpack packs tuples as arrays)."""
    return _hashable(encode_value(k))


def encode_params(params: Any) -> Any:
    """Bind values: a sequence (by position) or a mapping (by name)."""
    if params is None:
        return None
    if isinstance(params, dict):
        out = {}
        for k, v in params.items():
            if not isinstance(k, str):
                raise TypeError(f"named parameters need str names, got {k!r}")
            out[k] = _named(k, v)
        return out
    if isinstance(params, (str, bytes)):
        raise TypeError("params must be a sequence or a mapping, not a str/bytes")
    return [_positional(i, v) for i, v in enumerate(params)]


def _named(k: str, v: Any) -> Any:
    try:
        return encode_value(v)
    except (TypeError, ValueError) as e:
        raise type(e)(f"parameter {k!r}: {e}") from None


def _positional(i: int, v: Any) -> Any:
    try:
        return encode_value(v)
    except (TypeError, ValueError) as e:
        raise type(e)(f"parameter {i}: {e}") from None


_packer_local = msgpack.Packer(use_bin_type=True, autoreset=True)


def pack(msg: dict) -> bytes:
    """Encodes one message map (values already encoded)."""
    return _packer_local.pack(msg)


# ======================================================================
# msgpack -> Python (replies and CQL values)
# ======================================================================

_UUID = _uuid.UUID
_SAFE_UNKNOWN = _uuid.SafeUUID.unknown
_new = object.__new__
_setattr = object.__setattr__
_from_bytes = int.from_bytes
_fromordinal = _dt.date.fromordinal
_time = _dt.time
_ip4 = _ip.IPv4Address
_ip6 = _ip.IPv6Address
_Decimal = _decimal.Decimal


def _dec_uuid(data: bytes) -> _uuid.UUID:
    # uuid.UUID(bytes=...) validates and is ~3x slower; this is what it
    # builds (slots 'int' and 'is_safe')
    u = _new(_UUID)
    _setattr(u, "int", _from_bytes(data, "big"))
    _setattr(u, "is_safe", _SAFE_UNKNOWN)
    return u


def _dec_decimal(data: bytes) -> _decimal.Decimal:
    if len(data) < 5:
        raise WireError(f"decimal extension of {len(data)} bytes")
    scale = _from_bytes(data[:4], "big", signed=True)
    unscaled = _from_bytes(data[4:], "big", signed=True)
    digits = tuple(int(c) for c in str(abs(unscaled)))
    return _Decimal((1 if unscaled < 0 else 0, digits, -scale))


def _dec_date(data: bytes) -> Any:
    days = _from_bytes(data, "big", signed=True)
    if _MIN_DAYS <= days <= _MAX_DAYS:
        return _fromordinal(days + _EPOCH_ORDINAL)
    return OutOfRangeDate(days)


def _dec_time(data: bytes) -> Any:
    ns = _from_bytes(data, "big", signed=True)
    if not 0 <= ns < _NS_PER_DAY:
        return ns  # not a time of day: hand the raw nanoseconds over
    us, _ = divmod(ns, 1000)  # below a microsecond is truncated (documented)
    s, us = divmod(us, 1_000_000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return _time(h, m, s, us)


def _dec_duration(data: bytes) -> Duration:
    if len(data) != 16:
        raise WireError(f"duration extension of {len(data)} bytes")
    return Duration(
        _from_bytes(data[0:4], "big", signed=True),
        _from_bytes(data[4:8], "big", signed=True),
        _from_bytes(data[8:16], "big", signed=True),
    )


def _dec_inet(data: bytes) -> Any:
    if len(data) == 4:
        return _ip4(data)
    if len(data) == 16:
        return _ip6(data)
    raise WireError(f"inet extension of {len(data)} bytes")


def ext_hook(code: int, data: bytes) -> Any:
    """msgpack ext_hook: one call per extension value."""
    if code == EXT_UUID:
        if len(data) != 16:
            raise WireError(f"uuid extension of {len(data)} bytes")
        return _dec_uuid(data)
    if code == EXT_DATE:
        if len(data) != 4:
            raise WireError(f"date extension of {len(data)} bytes")
        return _dec_date(data)
    if code == EXT_TIME:
        if len(data) != 8:
            raise WireError(f"time extension of {len(data)} bytes")
        return _dec_time(data)
    if code == EXT_DECIMAL:
        return _dec_decimal(data)
    if code == EXT_VARINT:
        return _from_bytes(data, "big", signed=True)
    if code == EXT_INET:
        return _dec_inet(data)
    if code == EXT_DURATION:
        return _dec_duration(data)
    if code == EXT_EMPTY:
        return EMPTY
    if code == EXT_NOT_SET:
        return UNSET
    return msgpack.ExtType(code, data)


def _freeze(v: Any) -> Any:
    """A hashable form of a decoded value (for set elements and map keys)."""
    if isinstance(v, (list, tuple)):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, (set, frozenset)):
        return frozenset(_freeze(x) for x in v)
    if isinstance(v, dict):
        return FrozenDict((_freeze(k), _freeze(x)) for k, x in v.items())
    return v


def _pairs_hook(pairs: list) -> dict:
    try:
        return dict(pairs)
    except TypeError:  # a list or map as a key
        return {_freeze(k): v for k, v in pairs}


def _timestamp_of(ts: msgpack.Timestamp) -> Any:
    # exact integers: Timestamp.to_datetime() adds float seconds, which is off
    # by microseconds far from 1970 (9999-12-31T23:59:59.999 -> .998993)
    sec, ns = ts.seconds, ts.nanoseconds
    try:
        return _EPOCH + _dt.timedelta(seconds=sec, microseconds=ns // 1000)
    except (OverflowError, ValueError):
        return OutOfRangeTimestamp(sec * 1000 + ns // 1_000_000)


def _fix_timestamps(v: Any) -> Any:
    t = type(v)
    if t is msgpack.Timestamp:
        return _timestamp_of(v)
    if t is list:
        return [_fix_timestamps(x) for x in v]
    if t is tuple:
        return tuple(_fix_timestamps(x) for x in v)
    if t is frozenset:
        return frozenset(_fix_timestamps(x) for x in v)
    if t is dict or t is FrozenDict:
        return t((_fix_timestamps(k), _fix_timestamps(x)) for k, x in v.items())
    return v


def decode(data: bytes) -> dict:
    """Decodes one reply. The fast path is a single unpackb; values it cannot
    give in one pass (timestamps beyond datetime, lists or maps as map keys)
    take a slower, exact path. Raises WireError."""
    try:
        msg = msgpack.unpackb(data, raw=False, strict_map_key=False, timestamp=3, ext_hook=ext_hook)
    except WireError:
        raise
    except Exception:  # noqa: BLE001 - retried exactly below, or reported
        try:
            msg = msgpack.unpackb(data, raw=False, strict_map_key=False, timestamp=0,
                                  ext_hook=ext_hook, object_pairs_hook=_pairs_hook)
            msg = _fix_timestamps(msg)
        except WireError:
            raise
        except Exception as e:  # noqa: BLE001 - RecursionError included
            raise WireError(f"undecodable reply: {e}") from e
    if not isinstance(msg, dict):
        raise WireError("a reply must be a msgpack map")
    return msg


def peek_head(data: bytes) -> tuple:
    """(op, id) of a message without building its other fields (a page's rows
    are decoded later, by the task that consumes them). Raises WireError."""
    u = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=max(len(data), 1024))
    u.feed(data)
    op = rid = None
    try:
        n = u.read_map_header()
        for _ in range(n):
            k = u.unpack()
            if k == "op":
                op = u.unpack()
            elif k == "id":
                rid = u.unpack()
            else:
                u.skip()
            if op is not None and rid is not None:
                break
    except (ValueError, TypeError, msgpack.UnpackException, StopIteration) as e:
        raise WireError(f"undecodable message: {e}") from e
    if not isinstance(op, str) or not isinstance(rid, int) or isinstance(rid, bool):
        raise WireError("a message without op or id")
    return op, rid


# ---- per-column conversions driven by the CQL type string ---------------

_TOKEN = re.compile(r"\s*(?:(\"(?:[^\"]|\"\")*\")|('(?:[^']|'')*')|([<>,])|([^\s<>,\"']+))")


def _parse_type(s: str) -> tuple:
    """CQL type string -> (name, [args]) tree. Unknown syntax gives a leaf."""
    toks = []
    pos = 0
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if m is None or m.end() == pos:
            break
        toks.append(m.group(1) or m.group(2) or m.group(3) or m.group(4))
        pos = m.end()
    pos = [0]

    def peek() -> Optional[str]:
        return toks[pos[0]] if pos[0] < len(toks) else None

    def node() -> tuple:
        name = peek()
        pos[0] += 1
        args = []
        if peek() == "<":
            pos[0] += 1
            while peek() is not None and peek() != ">":
                args.append(node())
                if peek() == ",":
                    pos[0] += 1
            pos[0] += 1
        if name and name[0] not in "\"'":
            name = name.lower()
        return (name or "", args)

    if not toks:
        return ("", [])
    return node()


Conv = Optional[Callable[[Any], Any]]

_SCALARS = frozenset(
    "ascii bigint blob boolean counter date decimal double duration float inet int smallint "
    "text time timestamp timeuuid tinyint uuid varchar varint".split()
)


_NO_UDTS: dict = {}
_MAX_UDT_NESTING = 32  # UDTs inside UDTs deeper than this are left as decoded


def _conv_of(t: tuple, frozen: bool, udts: dict = _NO_UDTS, seen: frozenset = frozenset()) -> Conv:
    """A function turning a decoded non-null value of type t into its Python
    form, or None when msgpack's form is already it. frozen: the value is a
    set element or a map key, so it must be hashable. udts: the reply's UDT
    definitions ({name: ((field, type), ...)}); seen: the UDTs being
    expanded (a UDT that contains itself is left as decoded)."""
    name, args = t
    if name == "frozen" and len(args) == 1:
        return _conv_of(args[0], frozen, udts, seen)
    if name == "list" and len(args) == 1:
        c = _conv_of(args[0], frozen, udts, seen)
        if frozen:
            if c is None:
                return tuple
            return lambda v: tuple(None if x is None else c(x) for x in v)
        if c is None:
            return None
        return lambda v: [None if x is None else c(x) for x in v]
    if name == "set" and len(args) == 1:
        c = _conv_of(args[0], True, udts, seen)
        mk = frozenset if frozen else set
        if c is None:
            return mk
        return lambda v: mk(None if x is None else c(x) for x in v)
    if name == "map" and len(args) == 2:
        ck = _conv_of(args[0], True, udts, seen)
        cv = _conv_of(args[1], frozen, udts, seen)
        if ck is None and cv is None:
            return FrozenDict if frozen else None
        ck = ck or _identity
        cv = cv or _identity
        mk = FrozenDict if frozen else dict
        return lambda v: mk((ck(k), None if x is None else cv(x)) for k, x in v.items())
    if name == "tuple" and args:
        cs = [_conv_of(a, frozen, udts, seen) or _identity for a in args]
        n = len(cs)

        def tup(v, cs=cs, n=n):
            return tuple(None if x is None or i >= n else cs[i](x) for i, x in enumerate(v))
        return tup
    if name == "vector" and args:
        c = _conv_of(args[0], frozen, udts, seen)
        if frozen:
            return tuple if c is None else (lambda v: tuple(c(x) for x in v))
        return None if c is None else (lambda v: [c(x) for x in v])
    if name in _SCALARS:
        return None
    if not args and name in udts and name not in seen and len(seen) < _MAX_UDT_NESTING:
        return _udt_conv(udts[name], frozen, udts, seen | {name})
    if not frozen:
        return None
    # a UDT the reply did not describe (or a type this client does not
    # know): as decoded, made hashable where it has to be
    return _freeze


def _udt_conv(fields: tuple, frozen: bool, udts: dict, seen: frozenset) -> Conv:
    """A UDT value (a map of field name -> value) with each field converted
    by its type from the reply's `udts`."""
    convs = []
    for f, ft in fields:
        c = _conv_of(_parse_type(ft), frozen, udts, seen)
        if c is not None:
            convs.append((f, c))
    if not convs:
        return FrozenDict if frozen else None
    if frozen:
        def frozen_udt(v, convs=convs):
            d = dict(v)
            for f, c in convs:
                x = d.get(f)
                if x is not None:
                    d[f] = c(x)
            return FrozenDict(d)
        return frozen_udt

    def udt(v, convs=convs):
        if type(v) is not dict:
            v = dict(v)
        for f, c in convs:
            x = v.get(f)
            if x is not None:
                v[f] = c(x)
        return v
    return udt


def _identity(v: Any) -> Any:
    return v


def _udt_key(name: str) -> str:
    """A UDT name as _parse_type names it (unquoted names fold to lower case)."""
    name = name.strip()
    return name if name[:1] == '"' else name.lower()


def udts_of(v: Any) -> dict:
    """The `udts` of a reply ({name: [[field, type], ...]}) ->
    {name: [(field, type), ...]}; tolerant of junk (None: {})."""
    out: dict = {}
    if isinstance(v, dict):
        for name, fields in v.items():
            if not isinstance(name, str) or not isinstance(fields, (list, tuple)):
                continue
            out[_udt_key(name)] = [(str(f[0]), str(f[1])) for f in fields
                                   if isinstance(f, (list, tuple)) and len(f) >= 2
                                   and isinstance(f[0], str) and isinstance(f[1], str)]
    return out


def _udts_frozen(udts: Optional[dict]) -> tuple:
    """A hashable form of udts_of()'s map (the converter cache's key)."""
    if not udts:
        return ()
    return tuple(sorted((k, tuple(v)) for k, v in udts.items()))


@functools.lru_cache(maxsize=1024)
def _converter(type_str: str, udts: tuple) -> Conv:
    return _conv_of(_parse_type(type_str), False, dict(udts) if udts else _NO_UDTS)


def converter(type_str: str, udts: Optional[dict] = None) -> Conv:
    """The conversion for a column of this CQL type (None: none needed).
    udts (from udts_of) gives the fields of the UDTs the type names."""
    return _converter(type_str, _udts_frozen(udts))


def convert_rows(rows: list, columns: list, udts: Optional[dict] = None) -> list:
    """Applies the per-column conversions to decoded rows, in place. udts:
    the reply's UDT definitions (udts_of), for UDT fields."""
    key = _udts_frozen(udts)
    convs = [(i, c) for i, c in enumerate(_converter(col[1], key) for col in columns)
             if c is not None]
    if not convs or not rows:
        return rows
    for r in rows:
        for i, c in convs:
            v = r[i]
            if v is not None:
                r[i] = c(v)
    return rows
