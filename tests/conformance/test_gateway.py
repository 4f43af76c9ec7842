"""cqlmqd cross-checked against the real DataStax python driver, type by type.

One cqlmq-node cluster (2 nodes, free ports, node/python/cqlmq_node.py) and
one cqlmqd process pointed at it (--contact-points / --bind on free ports).
The real driver (cassandra.cluster.Cluster, default settings) and the cqlmq
asyncio client (clients/python) both talk to the same cluster:

  1. every value of CASES is written through cqlmqd four ways (query with
     positional params, query with named params, prepared execute, batch)
     and read back with the driver: the driver must see exactly the
     intended value (and null in every other column);
  2. every value is written with the driver and read through cqlmqd: the
     client must return the same value the driver returns for that row.
     Rows written through cqlmqd are read back through it the same way.

Then: the column type strings cqlmqd reports (results, prepared columns and
bind markers) against the driver's cluster.metadata; values only one side can
show (empty values, UNSET, timestamps beyond datetime, a decimal scale the
driver's compiled decoder gets wrong); what cqlmqd puts on the wire where the
Python client hides it (nanoseconds of a time, varint forms, float32); the
whole table streamed; values the types cannot take.

The two libraries represent some CQL values differently in Python; both
sides are turned into one canonical form by `canon()`, driven by the CQL type
of the column, which also checks that each library returns the Python type it
documents (driver: util.Date / util.Time / util.Duration, str for inet,
SortedSet, OrderedMapSerializedKey, namedtuples for UDTs, naive UTC
datetimes; cqlmq: see clients/python/README.md "Values"). The few legitimate
differences are spelled out where they are normalised; anything else is a
mismatch. Known mismatches are xfail(strict=True) with the reason (KNOWN).

Run with /usr/bin/python3 -m pytest; ctest (conformance.gateway) sets
CQLMQ_NODE_BIN, CQLMQD and PYTHONPATH.
"""

import asyncio
import datetime as dt
import decimal
import ipaddress
import logging
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
for _p in (os.path.join(HERE, "..", "..", "node", "python"),
           os.path.join(HERE, "..", "..", "clients", "python")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import msgpack  # noqa: E402
import zmq  # noqa: E402
from cassandra import util as cutil  # noqa: E402
from cassandra.cluster import Cluster  # noqa: E402
from cassandra.query import dict_factory  # noqa: E402

import cqlmq  # noqa: E402
from cqlmq_node import NodeCluster  # noqa: E402

logging.getLogger("cassandra").setLevel(logging.ERROR)

KS = "gwconf"
UTC = dt.timezone.utc
D = decimal.Decimal
IP = ipaddress.ip_address
EPOCH_NAIVE = dt.datetime(1970, 1, 1)
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

# ---------------------------------------------------------------------------
# Schema: a column of every CQL type (counter in its own table), a few nested
# and frozen combinations, and a user-defined type.
# ---------------------------------------------------------------------------

UDT_FIELDS = [("street", "text"), ("num", "int"), ("loc", "frozen<tuple<double, double>>"),
              ("tags", "frozen<set<text>>")]
UDT_DDL = "CREATE TYPE %s.addr (street text, num int, loc tuple<double, double>, " \
          "tags frozen<set<text>>)" % KS

COLUMNS = [  # (name, CQL type as declared)
    ("c_ascii", "ascii"), ("c_bigint", "bigint"), ("c_blob", "blob"),
    ("c_boolean", "boolean"), ("c_date", "date"), ("c_decimal", "decimal"),
    ("c_double", "double"), ("c_duration", "duration"), ("c_float", "float"),
    ("c_inet", "inet"), ("c_int", "int"), ("c_smallint", "smallint"),
    ("c_text", "text"), ("c_varchar", "varchar"), ("c_time", "time"),
    ("c_timestamp", "timestamp"), ("c_timeuuid", "timeuuid"), ("c_tinyint", "tinyint"),
    ("c_uuid", "uuid"), ("c_varint", "varint"),
    ("c_list", "list<int>"), ("c_set", "set<text>"), ("c_map", "map<text, int>"),
    ("c_nested", "map<text, frozen<list<int>>>"),
    ("c_tuple", "tuple<int, text, double>"),
    ("c_udt", "frozen<addr>"),
    ("c_fset", "frozen<set<int>>"),
    ("c_lkey", "map<frozen<list<int>>, text>"),
    ("c_settup", "set<frozen<tuple<int, text>>>"),
    ("c_ludt", "list<frozen<addr>>"),
    ("c_linet", "list<inet>"),
    ("c_tmap", "map<date, time>"),
    ("c_stamps", "set<timestamp>"),
]
TABLE_DDL = "CREATE TABLE %s.types (k int PRIMARY KEY, %s)" % (
    KS, ", ".join("%s %s" % c for c in COLUMNS))
COUNTER_DDL = "CREATE TABLE %s.counters (k int PRIMARY KEY, c counter)" % KS
TS_DDL = "CREATE TABLE %s.stamps (k int PRIMARY KEY, ts timestamp)" % KS

# ---------------------------------------------------------------------------
# Values. V(cqlmq_input, expected=same): what goes through cqlmqd, and the
# value intended (the driver writes `expected` in its own Python form).
# ---------------------------------------------------------------------------

SAME = object()


class V:
    def __init__(self, value, expected=SAME, label=None):
        self.value = value
        self.expected = value if expected is SAME else expected
        self.label = label


NAN, INF = float("nan"), float("inf")
U4 = uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")
T1 = uuid.UUID("d2177dd0-eaa2-11de-a572-001b779c76e3")
DUR = cqlmq.Duration
ORD = cqlmq.OutOfRangeDate


def utc(*a):
    return dt.datetime(*a, tzinfo=UTC)


VALUES = {
    "c_ascii": [V("", label="empty"), V("abc"), V("\x00\x7f", label="nul_del"), V("~" * 1000, label="long")],
    "c_bigint": [V(0), V(1), V(-2**63, label="min"), V(2**63 - 1, label="max")],
    "c_blob": [V(b"", label="empty"), V(b"\x00", label="nul"), V(bytes(range(256)), label="all_bytes"),
               V(b"\xff" * 70000, label="70k"), V(bytearray(b"ab"), b"ab", label="bytearray"),
               V(memoryview(b"cd"), b"cd", label="memoryview")],
    "c_boolean": [V(True), V(False)],
    "c_date": [V(dt.date(1970, 1, 1), label="epoch"), V(dt.date(1969, 12, 31), label="1969"),
               V(dt.date(1, 1, 1), label="year1"), V(dt.date(9999, 12, 31), label="year9999"),
               V(dt.date(2000, 2, 29), label="leap"), V(dt.date(1582, 10, 4), label="julian_end"),
               V(ORD(-2**31), label="cql_min"), V(ORD(2**31 - 1), label="cql_max"),
               V(ORD(-719163), label="year0"), V(ORD(2932897), label="year10000"),
               V("1969-07-20", dt.date(1969, 7, 20), label="str")],
    "c_decimal": [V(D("0")), V(D("123.45")), V(D("-123.45")), V(D("1.10"), label="trailing_zero"),
                  V(D("1E+30"), label="neg_scale"),
                  V(D("-0.000000000000000000000000000000000000001"), label="tiny_neg"),
                  V(D("3.14159265358979323846264338327950288419716939937510582097494459"),
                    label="pi_62"),
                  V(D("1267650600228229401496703205376E-50"), label="2p100_scale50"),
                  V(D("-1E-2147483647"), label="scale_int32_max"),
                  V("123.45", D("123.45"), label="str"), V(42, D("42"), label="int"),
                  V(0.5, D("0.5"), label="float")],
    "c_double": [V(0.0), V(-0.0, label="neg0"), V(0.1), V(-1e-300), V(NAN, label="nan"),
                 V(INF, label="inf"), V(-INF, label="-inf"), V(1.7976931348623157e308, label="max"),
                 V(5e-324, label="min_subnormal"),
                 V(2**53 + 1, float(2**53), label="int_2p53p1")],
    "c_duration": [V(DUR(0, 0, 0), label="zero"), V(DUR(1, 2, 3), label="pos"),
                   V(DUR(-1, -2, -3), label="neg"), V(DUR(0, 0, 1), label="1ns"),
                   V(DUR(0, -3, 0), label="neg_days"),
                   V(DUR(2**31 - 1, 2**31 - 1, 2**63 - 1), label="max"),
                   V(DUR(-2**31, -2**31, -2**63), label="min"),
                   V("1y2mo3w4d5h6m7s8ms9us10ns", DUR(14, 25, 18367008009010), label="str"),
                   V("-3d", DUR(0, -3, 0), label="str_neg")],
    "c_float": [V(0.0), V(-0.0, label="neg0"), V(1.5), V(-2.25), V(0.1, label="0.1_rounded"),
                V(NAN, label="nan"), V(INF, label="inf"), V(-INF, label="-inf"),
                V(3.4028234663852886e38, label="max"), V(1.401298464324817e-45, label="min_subnormal"),
                V(7, 7.0, label="int")],
    "c_inet": [V(IP("127.0.0.1")), V(IP("0.0.0.0")), V(IP("255.255.255.255")), V(IP("::")),
               V(IP("::1")), V(IP("2001:db8::ff00:42:8329")), V(IP("::ffff:192.0.2.1"), label="v4mapped"),
               V(IP("fe80::1")), V("10.1.2.3", IP("10.1.2.3"), label="str4"),
               V("2001:db8::1", IP("2001:db8::1"), label="str6")],
    "c_int": [V(0), V(-1), V(-2**31, label="min"), V(2**31 - 1, label="max")],
    "c_smallint": [V(0), V(-32768, label="min"), V(32767, label="max")],
    "c_text": [V("", label="empty"), V("abc"), V("héllo wörld", label="latin"),
               V("🐍 snake", label="emoji"), V("a\x00b", label="nul"), V("ß" * 40000, label="80kB")],
    "c_varchar": [V("v"), V("", label="empty")],
    "c_time": [V(0, label="midnight"), V(1, label="1ns"), V(86399999999999, label="last_ns"),
               V(45296789012345, label="ns"), V(dt.time(23, 59, 59, 999999), 86399999999000, label="time"),
               V(dt.time(0, 0, 1), 10**9, label="time_1s"),
               V("12:34:56.123456789", 45296123456789, label="str_ns"),
               V("00:00:01", 10**9, label="str_s")],
    "c_timestamp": [V(utc(2024, 2, 29, 12, 34, 56, 789000), 1709210096789, label="aware_ms"),
                    V(dt.datetime(1970, 1, 1), 0, label="naive_epoch"),
                    V(dt.datetime(1969, 12, 31, 23, 59, 59, 999000), -1, label="naive_minus_1ms"),
                    V(dt.datetime(2024, 1, 1, 5, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
                      1704067200000, label="aware_plus0530"),
                    V(utc(1, 1, 1), -62135596800000, label="year1"),
                    V(utc(9999, 12, 31, 23, 59, 59, 999000), 253402300799999, label="year9999"),
                    V(1234567890123, label="int_ms"),
                    # cqlmqd truncates the microseconds of a datetime to milliseconds
                    # (README "Values"): the millisecond field is kept
                    V(utc(2024, 2, 29, 12, 34, 56, 789999), 1709210096789, label="us_truncated"),
                    V(utc(1969, 12, 31, 23, 59, 59, 999999), -1, label="us_truncated_1969"),
                    V("2024-02-29T12:34:56.789Z", 1709210096789, label="iso_z"),
                    V("1969-12-31T23:59:59.999", -1, label="iso_nozone"),
                    V(cqlmq.OutOfRangeTimestamp(-2), -2, label="oor_class_in_range")],
    "c_timeuuid": [V(T1), V(uuid.UUID("00000000-0000-1000-8080-808080808080"), label="min_like"),
                   V(str(T1), T1, label="str")],
    "c_tinyint": [V(0), V(-128, label="min"), V(127, label="max")],
    "c_uuid": [V(U4), V(uuid.UUID(int=0), label="zero"), V(uuid.UUID(int=2**128 - 1), label="ones"),
               V(str(U4).upper(), U4, label="str")],
    "c_varint": [V(0), V(-1), V(127), V(128), V(-128), V(-129), V(2**63 - 1, label="i64max"),
                 V(2**63, label="i64max+1"), V(2**64 - 1, label="u64max"), V(2**64, label="u64max+1"),
                 V(-2**63, label="i64min"), V(-2**63 - 1, label="i64min-1"), V(10**40, label="1e40"),
                 V(-10**40, label="-1e40"),
                 V("-170141183460469231731687303715884105728", -2**127, label="str")],
    "c_list": [V([1, 2, 3]), V([-2**31, 0, 2**31 - 1], label="extremes"), V([5, 5, 5], label="dups"),
               V([], None, label="empty_is_null"), V((7, 8), [7, 8], label="tuple_in")],
    "c_set": [V({"a", "b", "c"}), V({""}, label="empty_str"), V({"é", "z", "A", "🐍"}, label="unicode"),
              V(set(), None, label="empty_is_null"), V(frozenset({"f"}), {"f"}, label="frozenset_in"),
              V(["x", "y", "x"], {"x", "y"}, label="list_in")],
    "c_map": [V({"a": 1, "b": -1}), V({"": 0}, label="empty_key"), V({}, None, label="empty_is_null"),
              V({"k": 2**31 - 1, "z": -2**31}, label="extremes")],
    "c_nested": [V({"x": [1, 2], "y": []}, label="with_empty_inner"), V({"a": [-1, -1, -1]}, label="dups")],
    "c_tuple": [V((1, "a", 1.5)), V((None, "b", None), label="null_components"),
                V((None, None, None), label="all_null"), V((0, "", NAN), label="nan"),
                V([2, "c", 2.5], (2, "c", 2.5), label="list_in")],
    "c_udt": [V({"street": "Main", "num": 1, "loc": (1.5, -2.5), "tags": {"a", "b"}}, label="full"),
              V({"street": "x"}, {"street": "x", "num": None, "loc": None, "tags": None},
                label="missing_fields"),
              V({}, {"street": None, "num": None, "loc": None, "tags": None}, label="all_missing"),
              V({"num": -5, "tags": set()}, {"street": None, "num": -5, "loc": None, "tags": set()},
                label="empty_frozen_set_field")],
    "c_fset": [V({3, 1, 2}), V(set(), label="empty_is_a_value")],
    "c_lkey": [V({(1, 2): "a", (): "empty"}, {(1, 2): "a", (): "empty"}, label="list_keys")],
    "c_settup": [V({(1, "a"), (2, None)}, label="null_in_tuple")],
    "c_ludt": [V([{"num": 1}, {"street": "s", "tags": {"t"}}],
                 [{"street": None, "num": 1, "loc": None, "tags": None},
                  {"street": "s", "num": None, "loc": None, "tags": {"t"}}], label="udts")],
    "c_linet": [V([IP("1.2.3.4"), IP("::1")], label="mixed")],
    "c_tmap": [V({dt.date(1969, 7, 20): 72900000000001, dt.date(2000, 1, 1): 0}, label="ns")],
    "c_stamps": [V({utc(1970, 1, 1), utc(1969, 12, 31, 23, 59, 59, 999000),
                    utc(2024, 2, 29, 12, 34, 56, 789000)}, {0, -1, 1709210096789}, label="three")],
}
for _c, _ in COLUMNS:  # every column also gets an explicit null
    VALUES[_c].append(V(None, label="null"))
COUNTER_VALUES = [V(1), V(-1), V(0), V(2**63 - 1, label="max"), V(-2**63, label="min")]


def _label(v):
    if v.label is not None:
        return v.label
    s = repr(v.value)
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", s)[:40].strip("_") or "v"


CASES = []  # (case id, table, column, cql type, V)
for _c, _t in COLUMNS:
    for _v in VALUES[_c]:
        CASES.append(("%s-%s" % (_c, _label(_v)), "types", _c, _t, _v))
for _v in COUNTER_VALUES:
    CASES.append(("counter-%s" % _label(_v), "counters", "c", "counter", _v))
assert len({c[0] for c in CASES}) == len(CASES), "case ids must be unique"
CASE_BY_ID = {c[0]: c for c in CASES}
CQLMQ_MODES = ("params", "named", "prepared", "batch")

# Mismatches found by this file, for the lead to fix: xfail(strict=True), so
# a fix makes the run fail until the entry is removed. Keys: "<test>[<id>]".
KNOWN = {}

# Fixed: UDT fields typed through the reply's `udts` (docs/protocol.md
# section 6), top-level frozen<> documented as not carried by the result
# metadata (compared modulo it below), timestamps down to -2^63 ms accepted
# by cqlmqd, and exact timestamps on the client's slow decoding path.

SLOW_MS = [1709210096789, -62135596800000, 253402300799999, -62135596799999]


def _params(test, items):
    """pytest params from (id, args...) tuples, with the KNOWN xfails."""
    out = []
    for it in items:
        key = "%s[%s]" % (test, it[0])
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN[key])] if key in KNOWN else []
        out.append(pytest.param(*it[1:], id=it[0], marks=marks))
    return out


# ---------------------------------------------------------------------------
# Canonical forms
# ---------------------------------------------------------------------------


def parse_type(s):
    """CQL type string -> (name, (args...)); names lower-cased."""
    toks = re.findall(r"[A-Za-z0-9_.]+|[<>,]", s)
    pos = 0

    def node():
        nonlocal pos
        name = toks[pos].lower()
        pos += 1
        args = []
        if pos < len(toks) and toks[pos] == "<":
            pos += 1
            while toks[pos] != ">":
                args.append(node())
                if toks[pos] == ",":
                    pos += 1
            pos += 1
        return (name, tuple(args))

    return node()


INT_TYPES = {"tinyint", "smallint", "int", "bigint", "varint", "counter"}
TEXT_TYPES = {"ascii", "text", "varchar"}


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


class Canon:
    """canon(side, type, value): the value as a comparable, library-neutral
    structure. side is "drv" (read by the driver), "cq" (read through cqlmq)
    or "exp" (the intended value, in any form cqlmq accepts). For "drv" and
    "cq" it also asserts the Python type each library documents.

    time_us: compare times at microsecond precision (cqlmq's datetime.time
    cannot hold nanoseconds and truncates them, README "Values"; the driver's
    util.Time keeps them). Only used when comparing driver and cqlmq reads;
    the intended values are always compared with the driver at full
    nanosecond precision, and test_wire_* checks that cqlmqd sends them."""

    def __init__(self, time_us=False, check_types=True):
        self.time_us = time_us
        self.check_types = check_types

    def __call__(self, side, t, v, hashable=False):
        if v is None:
            return None
        name, args = t
        if name == "frozen":
            return self(side, args[0], v, hashable)
        fn = getattr(self, "_" + name, None)
        if fn is None:
            return self._udt(side, t, v, hashable)
        return fn(side, args, v, hashable)

    def _want(self, side, v, types, what):
        if side != "exp" and self.check_types and not isinstance(v, types):
            raise AssertionError("%s returned %r (a %s) for a %s" % (
                {"drv": "the driver", "cq": "cqlmq"}[side], v, type(v).__name__, what))

    # scalars
    def _int(self, side, args, v, h):
        if side == "exp" and isinstance(v, str):
            v = int(v)
        if side != "exp" and (type(v) is bool or not isinstance(v, int)):
            raise AssertionError("%s returned %r (%s) for an integer" % (side, v, type(v).__name__))
        return ("int", int(v))

    _tinyint = _smallint = _bigint = _varint = _counter = _int

    def _boolean(self, side, args, v, h):
        self._want(side, v, bool, "boolean")
        return ("bool", bool(v))

    def _text(self, side, args, v, h):
        self._want(side, v, str, "text")
        return ("str", v)

    _ascii = _varchar = _text

    def _blob(self, side, args, v, h):
        self._want(side, v, bytes, "blob")
        return ("bytes", bytes(v))

    def _double(self, side, args, v, h):
        self._want(side, v, float, "double")
        return ("float", float(v).hex())

    def _float(self, side, args, v, h):
        self._want(side, v, float, "float")
        # the intended value is what a 32-bit float can hold
        return ("float", (f32(float(v)) if side == "exp" else v).hex())

    def _decimal(self, side, args, v, h):
        if side == "exp" and not isinstance(v, D):
            v = D(v) if not isinstance(v, float) else D(repr(v))
        self._want(side, v, D, "decimal")
        sign, digits, exp = v.as_tuple()
        unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        return ("decimal", unscaled, -exp)  # CQL's form: unscaled value and scale

    def _uuid(self, side, args, v, h):
        if side == "exp" and isinstance(v, str):
            v = uuid.UUID(v)
        self._want(side, v, uuid.UUID, "uuid")
        return ("uuid", v.int)

    _timeuuid = _uuid

    def _inet(self, side, args, v, h):
        # driver: str from inet_ntop; cqlmq: ipaddress objects
        self._want(side, v, str if side == "drv" else (ipaddress.IPv4Address, ipaddress.IPv6Address), "inet")
        a = IP(v) if isinstance(v, str) else v
        return ("inet", a.version, a.packed)

    def _date(self, side, args, v, h):
        if side == "drv":
            self._want(side, v, cutil.Date, "date")
            return ("date", v.days_from_epoch)
        if side == "cq":
            if isinstance(v, cqlmq.OutOfRangeDate):
                # only outside datetime.date's range (README "Values")
                assert not dt.date.min.toordinal() <= int(v) + EPOCH_ORDINAL <= dt.date.max.toordinal(), v
                return ("date", int(v))
            if type(v) is not dt.date and self.check_types:
                raise AssertionError("cqlmq returned %r for a date" % (v,))
        if isinstance(v, int):
            return ("date", int(v))
        if isinstance(v, str):
            v = dt.date.fromisoformat(v)
        return ("date", v.toordinal() - EPOCH_ORDINAL)

    def _time(self, side, args, v, h):
        if side == "drv":
            self._want(side, v, cutil.Time, "time")
            ns = v.nanosecond_time
        elif side == "cq":
            self._want(side, v, dt.time, "time")
            ns = None
        else:
            ns = v if isinstance(v, int) else None
        if ns is None:
            ns = (((v.hour * 60 + v.minute) * 60 + v.second) * 10**6 + v.microsecond) * 1000
        if self.time_us:
            ns -= ns % 1000
        return ("time", ns)

    def _timestamp(self, side, args, v, h):
        if side == "drv":
            # the driver builds naive UTC datetimes from float seconds, which
            # can be off by some microseconds far from 1970: round to the ms
            self._want(side, v, dt.datetime, "timestamp")
            assert v.tzinfo is None, v
            us = (v - EPOCH_NAIVE) // dt.timedelta(microseconds=1)
            return ("ts", (us + 500) // 1000)
        if side == "cq":
            if isinstance(v, cqlmq.OutOfRangeTimestamp):
                return ("ts", int(v))
            self._want(side, v, dt.datetime, "timestamp")
            if v.utcoffset() != dt.timedelta(0):
                raise AssertionError("cqlmq returned %r: not an aware UTC datetime" % (v,))
        if isinstance(v, int):
            return ("ts", int(v))
        if v.tzinfo is None:
            v = v.replace(tzinfo=UTC)
        us = (v - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)
        if side == "cq" and us % 1000:
            return ("ts-with-us", us)  # a CQL timestamp has no microseconds
        return ("ts", us // 1000)     # intended: the microseconds are truncated

    def _duration(self, side, args, v, h):
        if side == "drv":
            self._want(side, v, cutil.Duration, "duration")
        elif side == "cq":
            self._want(side, v, cqlmq.Duration, "duration")
        return ("duration", v.months, v.days, v.nanoseconds)

    # collections: the driver returns list / SortedSet / OrderedMapSerializedKey
    # everywhere; cqlmq returns list / set / dict, and tuple / frozenset /
    # FrozenDict inside a set element or a map key (README "Values" notes)
    def _list(self, side, args, v, h):
        if side == "drv":
            self._want(side, v, list, "list")
        elif side == "cq":
            self._want(side, v, tuple if h else list, "list" + (" in a set or map key" if h else ""))
        return ("list", [self(side, args[0], x, h) for x in v])

    def _set(self, side, args, v, h):
        if side == "drv":
            self._want(side, v, cutil.SortedSet, "set")
        elif side == "cq":
            self._want(side, v, frozenset if h else set, "set" + (" in a set or map key" if h else ""))
        items = [self(side, args[0], x, True) for x in v]
        return ("set", sorted(items, key=repr))

    def _map(self, side, args, v, h):
        if side == "drv":
            self._want(side, v, cutil.OrderedMapSerializedKey, "map")
        elif side == "cq":
            if h:
                self._want(side, v, cqlmq.FrozenDict, "map in a set or map key")
            elif type(v) is not dict and self.check_types:
                raise AssertionError("cqlmq returned %r (a %s) for a map" % (v, type(v).__name__))
        items = [(self(side, args[0], k, True), self(side, args[1], x, h)) for k, x in v.items()]
        return ("map", sorted(items, key=repr))

    def _tuple(self, side, args, v, h):
        self._want(side, v, tuple, "tuple")
        if len(v) != len(args):
            raise AssertionError("%s: tuple of %d components for %d types: %r" % (side, len(v), len(args), v))
        return ("tuple", [self(side, a, x, h) for a, x in zip(args, v)])

    def _udt(self, side, t, v, h):
        assert t[0] == "addr", t
        fields = [(f, parse_type(ft)) for f, ft in UDT_FIELDS]
        if side == "drv":
            # an unregistered UDT: the driver builds a namedtuple
            self._want(side, v, tuple, "user type")
            assert getattr(v, "_fields", None) == tuple(f for f, _ in fields), v
            vals = dict(zip(v._fields, v))
        else:
            if side == "cq":
                self._want(side, v, cqlmq.FrozenDict if h else dict, "user type")
                if set(v) != {f for f, _ in fields} and self.check_types:
                    raise AssertionError("cqlmq returned %r: every field must be present" % (v,))
            vals = v
        return ("udt", [(f, self(side, ft, vals.get(f), h)) for f, ft in fields])


canon = Canon()
canon_us = Canon(time_us=True)
canon_loose = Canon(check_types=False)  # cqlmq against cqlmq: types are checked elsewhere


def to_driver(t, v):
    """The intended value in a form the driver accepts as a bind value."""
    if v is None:
        return None
    name, args = t
    if name == "frozen":
        return to_driver(args[0], v)
    if name == "inet":
        return str(v)
    if name == "date":
        return cutil.Date(int(v)) if isinstance(v, int) else v
    if name == "time":
        return cutil.Time(v) if isinstance(v, int) else v
    if name == "duration":
        return cutil.Duration(*v)
    if name == "decimal":
        return v
    if name == "list":
        return [to_driver(args[0], x) for x in v]
    if name == "set":
        return {_hashable(to_driver(args[0], x)) for x in v}
    if name == "map":
        return {_hashable(to_driver(args[0], k)): to_driver(args[1], x) for k, x in v.items()}
    if name == "tuple":
        return tuple(to_driver(a, x) for a, x in zip(args, v))
    if name == "addr":  # by position: the driver serializes UDTs as val[i]
        return tuple(to_driver(parse_type(ft), v.get(f)) for f, ft in UDT_FIELDS)
    return v


def _hashable(v):
    if isinstance(v, list):
        return tuple(v)
    if isinstance(v, set):
        return frozenset(v)
    return v


# ---------------------------------------------------------------------------
# Processes: one cqlmq-node cluster and one cqlmqd, killed by pid at the end
# ---------------------------------------------------------------------------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gateway:
    """cqlmqd --contact-points 127.0.0.1:<port> --bind tcp://127.0.0.1:<free>."""

    def __init__(self, binary, cql_port):
        self.binary = binary
        self.cql_port = cql_port
        self.endpoint = "tcp://127.0.0.1:%d" % _free_port()
        self.log = tempfile.TemporaryFile()
        self.proc = None
        self.returncode = None

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "--contact-points", "127.0.0.1:%d" % self.cql_port,
             "--bind", self.endpoint, "--drain-ms", "2000"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 15
        while b'"msg":"ready"' not in self.stderr():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("cqlmqd did not get ready: %s"
                                   % self.stderr()[-2000:].decode(errors="replace"))
            time.sleep(0.02)
        return self

    def stderr(self):
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        """SIGTERM by pid (a drain), SIGKILL after 10 s; always reaps."""
        if self.proc is None:
            return
        pid = self.proc.pid
        try:
            if self.proc.poll() is None:
                os.kill(pid, signal.SIGTERM)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.kill(pid, signal.SIGKILL)
                    self.proc.wait()
        finally:
            self.returncode = self.proc.returncode
            self.proc = None


class Env:
    pass


async def _probe_ready(endpoint):
    """Until cqlmqd answers a query (its cluster side has a host up)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            async with cqlmq.connect(endpoint, timeout=2, connect_timeout=1) as c:
                await c.execute("SELECT release_version FROM system.local")
                return
        except cqlmq.CqlmqError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def env():
    node_bin = os.environ.get("CQLMQ_NODE_BIN")
    gw_bin = os.environ.get("CQLMQD")
    if not (node_bin and os.access(node_bin, os.X_OK) and gw_bin and os.access(gw_bin, os.X_OK)):
        pytest.fail("CQLMQ_NODE_BIN and CQLMQD must name the built cqlmq-node and cqlmqd")
    e = Env()
    e.t0 = time.monotonic()
    e.node = NodeCluster(nodes=2, binary=node_bin)
    e.gw = None
    e.cluster = None
    e.client = None
    e.loop = asyncio.new_event_loop()
    e.run = e.loop.run_until_complete
    try:
        e.node.start()
        e.gw = Gateway(gw_bin, e.node.port)
        e.gw.start()
        e.cluster = Cluster(e.node.contact_points, port=e.node.port)
        e.session = e.cluster.connect()
        e.session.row_factory = dict_factory
        for ddl in ("CREATE KEYSPACE %s WITH replication = "
                    "{'class': 'SimpleStrategy', 'replication_factor': 1}" % KS,
                    UDT_DDL, TABLE_DDL, COUNTER_DDL, TS_DDL):
            e.session.execute(ddl)
        e.cluster.refresh_schema_metadata()
        e.run(_probe_ready(e.gw.endpoint))
        e.client = e.run(cqlmq.connect(e.gw.endpoint, timeout=10))
        yield e
    finally:
        errors = []
        if e.client is not None:
            try:
                e.run(e.client.close())
            except Exception as x:  # noqa: BLE001 - teardown reports below
                errors.append("client close: %r" % x)
        e.loop.close()
        if e.cluster is not None:
            e.cluster.shutdown()
        if e.gw is not None:
            e.gw.stop()
            if e.gw.returncode != 0:
                errors.append("cqlmqd exited with %s: %s" % (
                    e.gw.returncode, e.gw.stderr()[-3000:].decode(errors="replace")))
        e.node.stop()
        if e.node.returncode not in (0, None):
            errors.append("cqlmq-node exited with %s: %s" % (
                e.node.returncode, e.node.stderr_output[-3000:].decode(errors="replace")))
        print("\nconformance.gateway: %.1f s with processes up" % (time.monotonic() - e.t0))
        if errors:
            raise RuntimeError("; ".join(errors))


# ---------------------------------------------------------------------------
# The data: every case written four ways, every row read by both libraries
# ---------------------------------------------------------------------------


def _insert_cql(table, col, named=False):
    if table == "counters":
        return "UPDATE %s.counters SET c = c + %s WHERE k = %s" % (KS, ":v" if named else "?",
                                                                     ":k" if named else "?")
    return "INSERT INTO %s.%s (k, %s) VALUES (%s)" % (KS, table, col, ":k, :v" if named else "?, ?")


def _args(table, k, v):
    return [v, k] if table == "counters" else [k, v]


@pytest.fixture(scope="module")
def data(env):
    """{(mode, case id): {"k", "werr", "drv", "cq"}}: the write's exception,
    and each library's read of the row (a dict, or the exception raised)."""
    out = {}
    keys = iter(range(1, 1 << 30))
    for cid, table, col, _, v in CASES:
        for mode in CQLMQ_MODES + ("driver",):
            out[(mode, cid)] = {"k": next(keys), "table": table, "werr": None}

    async def cqlmq_writes():
        c = env.client
        prepared = {}
        for _, table, col, _, _ in CASES:
            if (table, col) not in prepared:
                prepared[(table, col)] = await c.prepare(_insert_cql(table, col))

        async def one(mode, cid, table, col, v):
            k = out[(mode, cid)]["k"]
            if mode == "params":
                await c.execute(_insert_cql(table, col), _args(table, k, v.value))
            elif mode == "named":
                await c.execute(_insert_cql(table, col, named=True), {"k": k, "v": v.value})
            elif mode == "prepared":
                await c.execute(prepared[(table, col)], _args(table, k, v.value))
            else:  # a batch statement given as text with params
                await c.batch([(_insert_cql(table, col), _args(table, k, v.value))],
                              kind="counter" if table == "counters" else "unlogged")

        jobs = [(m, cid, t, col, v) for cid, t, col, _, v in CASES for m in CQLMQ_MODES]
        res = await asyncio.gather(*(one(*j) for j in jobs), return_exceptions=True)
        for j, r in zip(jobs, res):
            if isinstance(r, BaseException):
                out[(j[0], j[1])]["werr"] = r

    env.run(cqlmq_writes())

    # the driver writes the intended values with prepared statements
    s = env.session
    dprep = {}
    futs = []
    for cid, table, col, ctype, v in CASES:
        if (table, col) not in dprep:
            dprep[(table, col)] = s.prepare(_insert_cql(table, col))
        d = out[("driver", cid)]
        try:
            futs.append((d, s.execute_async(dprep[(table, col)],
                                            _args(table, d["k"], to_driver(parse_type(ctype), v.expected)))))
        except Exception as x:  # noqa: BLE001 - reported by the case's test
            d["werr"] = x
    for d, f in futs:
        try:
            f.result()
        except Exception as x:  # noqa: BLE001
            d["werr"] = x

    # every row read by the driver ...
    sel = {t: s.prepare("SELECT * FROM %s.%s WHERE k = ?" % (KS, t)) for t in ("types", "counters")}
    futs = [(d, s.execute_async(sel[d["table"]], [d["k"]])) for d in out.values()]
    for d, f in futs:
        try:
            rows = list(f.result())
            d["drv"] = rows[0] if len(rows) == 1 else AssertionError("driver read %d rows" % len(rows))
        except Exception as x:  # noqa: BLE001
            d["drv"] = x

    # ... and through cqlmqd
    async def cqlmq_reads():
        c = env.client
        ds = list(out.values())

        async def one(d):
            r = await c.execute("SELECT * FROM %s.%s WHERE k = ?" % (KS, d["table"]), [d["k"]],
                                row_factory=cqlmq.dict_factory)
            rows = r.all()
            if len(rows) != 1:
                raise AssertionError("cqlmq read %d rows" % len(rows))
            return rows[0]

        res = await asyncio.gather(*(one(d) for d in ds), return_exceptions=True)
        for d, r in zip(ds, res):
            d["cq"] = r

    env.run(cqlmq_reads())
    return out


TYPES = dict(COLUMNS)
TYPES["k"] = "int"
CTYPES = {"k": "int", "c": "counter"}


def _row(d, side):
    r = d[side]
    if isinstance(r, BaseException):
        raise AssertionError("%s could not read the row: %r" % (
            {"drv": "the driver", "cq": "cqlmq"}[side], r)) from r
    return r


def _written(d, mode):
    if d["werr"] is not None:
        raise AssertionError("%s write failed: %r" % (mode, d["werr"])) from d["werr"]


def _driver_sees_intended(d, cid):
    """The driver reads exactly the intended value (full precision), the
    row's key, and null in every other column."""
    _, table, col, ctype, v = CASE_BY_ID[cid]
    drv = _row(d, "drv")
    t = parse_type(ctype)
    assert canon("drv", t, drv[col]) == canon("exp", t, v.expected), \
        "driver read %r, intended %r" % (drv[col], v.expected)
    assert drv["k"] == d["k"]
    for name, x in drv.items():
        if name not in ("k", col):
            assert x is None, "column %s should be null: %r" % (name, x)


@pytest.mark.parametrize("cid,mode", _params("test_written_through_cqlmq_read_by_driver", [
    ("%s:%s" % (c[0], m), c[0], m) for c in CASES for m in CQLMQ_MODES]))
def test_written_through_cqlmq_read_by_driver(data, cid, mode):
    d = data[(mode, cid)]
    _written(d, mode)
    _driver_sees_intended(d, cid)


@pytest.mark.parametrize("cid,mode", _params("test_read_through_cqlmq_equals_driver", [
    ("%s:%s" % (c[0], m), c[0], m) for c in CASES for m in ("driver",) + CQLMQ_MODES]))
def test_read_through_cqlmq_equals_driver(data, cid, mode):
    """Rows written by the driver (mode "driver") and through cqlmq: the
    client returns, column by column, what the driver returns."""
    d = data[(mode, cid)]
    _written(d, mode)
    if mode == "driver":  # the driver's own round trip is the reference
        _driver_sees_intended(d, cid)
    types = TYPES if d["table"] == "types" else CTYPES
    drv, cq = _row(d, "drv"), _row(d, "cq")
    assert set(cq) == set(drv), (sorted(cq), sorted(drv))
    for name in drv:
        t = parse_type(types[name])
        a, b = canon_us("cq", t, cq[name]), canon_us("drv", t, drv[name])
        assert a == b, "column %s: cqlmq read %r, the driver %r" % (name, cq[name], drv[name])


# ---------------------------------------------------------------------------
# Column type strings: cqlmq's equal the driver's cql_type from metadata
# ---------------------------------------------------------------------------

ALL_COLUMNS = [("types", "k")] + [("types", c) for c, _ in COLUMNS] + [("counters", "k"), ("counters", "c")]


@pytest.fixture(scope="module")
def type_strings(env):
    """{(table, column): {"select": str, "param": str, "prepared_col": str}}."""
    out = {}

    async def run():
        c = env.client
        for table in ("types", "counters"):
            r = await c.execute("SELECT * FROM %s.%s WHERE k = -1" % (KS, table))
            for col in r.columns:
                out.setdefault((table, col.name), {})["select"] = col.type
        for table, col in ALL_COLUMNS:
            if col == "k":
                continue
            ps = await c.prepare("UPDATE %s.%s SET %s = %s WHERE k = ?" % (
                KS, table, col, "c + ?" if table == "counters" else "?"))
            out[(table, col)]["param"] = ps.params[0].type
            ps = await c.prepare("SELECT %s FROM %s.%s WHERE k = ?" % (col, KS, table))
            out[(table, col)]["prepared_col"] = ps.columns[0].type

    env.run(run())
    return out


def _without_top_level_frozen(cql_type):
    """The driver's schema type as cqlmq writes it from result metadata
    (docs/protocol.md section 6): Cassandra's metadata does not carry a
    top-level column's frozenness, so a top-level frozen collection or UDT
    is written without frozen<> (frozen<set<int>> -> set<int>, frozen<addr>
    -> addr); nested types and tuples keep it."""
    t = parse_type(cql_type)
    if t[0] == "frozen" and t[1][0][0] != "tuple":
        assert cql_type.startswith("frozen<") and cql_type.endswith(">"), cql_type
        return cql_type[len("frozen<"):-1]
    return cql_type


def test_top_level_frozen_is_stripped_only_where_the_metadata_lacks_it():
    f = _without_top_level_frozen
    assert f("frozen<addr>") == "addr" and f("frozen<set<int>>") == "set<int>"
    assert f("frozen<tuple<int, text>>") == "frozen<tuple<int, text>>"
    assert f("list<frozen<addr>>") == "list<frozen<addr>>" and f("int") == "int"


@pytest.mark.parametrize("table,col", _params("test_column_type_strings_equal_driver_metadata", [
    ("%s.%s" % tc, tc[0], tc[1]) for tc in ALL_COLUMNS]))
def test_column_type_strings_equal_driver_metadata(env, type_strings, table, col):
    """The column's type in a SELECT's result, in a prepared SELECT's
    columns and as the bind marker of `SET col = ?` equals the driver's
    cql_type from cluster.metadata, modulo a top-level frozen<> that the
    result metadata does not carry (_without_top_level_frozen: c_udt,
    c_fset). The marker of a counter increment (`SET c = c + ?`) is compared
    with what the driver's own prepare reports for it (the node types it
    bigint)."""
    want = _without_top_level_frozen(env.cluster.metadata.keyspaces[KS].tables[table].columns[col].cql_type)
    got = dict(type_strings[(table, col)])
    if (table, col) == ("counters", "c"):
        ps = env.session.prepare("UPDATE %s.counters SET c = c + ? WHERE k = ?" % KS)
        assert got.pop("param") == ps.column_metadata[0].type.typename
    assert got == {k: want for k in got}, "driver metadata says %r" % want


# ---------------------------------------------------------------------------
# Values only one side can show, and what cqlmqd puts on the wire
# ---------------------------------------------------------------------------


def test_empty_value_of_a_non_text_type(env, wire):
    """cqlmq.EMPTY (a zero-length value) in an int and a blob column: the
    driver reads an empty int as None (its types do not support empty
    values) and an empty blob as b""; cqlmq returns EMPTY and b"", and
    cqlmqd sends ext 9 for the int (null would be nil)."""
    env.run(env.client.execute("INSERT INTO %s.types (k, c_int, c_blob) VALUES (?, ?, ?)" % KS,
                               [-10, cqlmq.EMPTY, cqlmq.EMPTY]))
    drv = env.session.execute("SELECT c_int, c_blob FROM %s.types WHERE k = -10" % KS).one()
    assert drv == {"c_int": None, "c_blob": b""}
    cq = env.run(env.client.execute("SELECT c_int, c_blob FROM %s.types WHERE k = -10" % KS)).one()
    assert cq.c_int is cqlmq.EMPTY and cq.c_blob == b""
    _, rep = wire.request({"op": "query", "cql": "SELECT c_int, c_blob FROM %s.types WHERE k = -10" % KS})
    assert rep["rows"] == [[msgpack.ExtType(9, b""), b""]]


def test_unset_leaves_the_column_unchanged(env):
    c = env.client
    ins = env.run(c.prepare("INSERT INTO %s.types (k, c_text, c_int) VALUES (?, ?, ?)" % KS))
    env.run(c.execute(ins, [-11, "kept", 1]))
    env.run(c.execute(ins, [-11, cqlmq.UNSET, 2]))
    env.run(c.execute("INSERT INTO %s.types (k, c_text, c_int) VALUES (?, ?, ?)" % KS, [-11, cqlmq.UNSET, 3]))
    assert env.session.execute("SELECT c_text, c_int FROM %s.types WHERE k = -11" % KS).one() == \
        {"c_text": "kept", "c_int": 3}


class PurePythonDecoding:
    """The driver's pure-Python protocol handler, optionally with one type's
    deserializer replaced, for values its default (Cython) decoding cannot
    return. The node does not support <type>AsBlob as a selector, so this is
    how the driver shows the bytes it received."""

    def __init__(self, session, cqltype=None, deserialize=None):
        self.session, self.cqltype, self.deserialize = session, cqltype, deserialize

    def __enter__(self):
        from cassandra.protocol import _ProtocolHandler as ProtocolHandler  # not the Cython one
        self.saved = self.session.client_protocol_handler
        self.session.client_protocol_handler = ProtocolHandler
        if self.cqltype is not None:
            self.saved_des = self.cqltype.__dict__["deserialize"]
            self.cqltype.deserialize = staticmethod(self.deserialize)
        return self

    def __exit__(self, *exc):
        self.session.client_protocol_handler = self.saved
        if self.cqltype is not None:
            self.cqltype.deserialize = self.saved_des
        return False


OOR_MS = [253402300800000, -62135596800001, 2**62, -2**62, 2**63 - 1, -2**63, -2**63 + 807, -2**63 + 808]
OOR_CASES = [("%s:%d" % (w, ms), w, i, ms) for i, ms in enumerate(OOR_MS) for w in ("cqlmq", "driver")]


@pytest.mark.parametrize("writer,i,ms", _params("test_timestamps_beyond_datetime", OOR_CASES))
def test_timestamps_beyond_datetime(env, writer, i, ms):
    """Timestamps outside datetime's years 1..9999, written by cqlmq (as
    OutOfRangeTimestamp) or by the driver (as int milliseconds). The driver
    cannot build a datetime for them (OverflowError), so it reads them with
    its pure-Python decoder returning the int64 milliseconds; cqlmq returns
    OutOfRangeTimestamp."""
    from cassandra import cqltypes
    c, s = env.client, env.session
    k = i + (100 if writer == "driver" else 0)
    if writer == "cqlmq":
        env.run(c.execute("INSERT INTO %s.stamps (k, ts) VALUES (?, ?)" % KS,
                          [k, cqlmq.OutOfRangeTimestamp(ms)]))
    else:
        s.execute(s.prepare("INSERT INTO %s.stamps (k, ts) VALUES (?, ?)" % KS), (k, ms))
    with PurePythonDecoding(s, cqltypes.DateType, lambda b, pv: struct.unpack(">q", b)[0]):
        assert s.execute("SELECT ts FROM %s.stamps WHERE k = %%s" % KS, (k,)).one()["ts"] == ms
    v = env.run(c.execute("SELECT ts FROM %s.stamps WHERE k = ?" % KS, [k])).one().ts
    assert type(v) is cqlmq.OutOfRangeTimestamp and v == ms, (v, ms)


def test_decimal_scale_int32_min(env):
    """Scale -2^31 (Decimal("1E+2147483648")). The installed driver's
    compiled decoder negates the int32 scale in C and overflows (it returns
    1E-2147483648, even for a value it wrote itself: a driver bug, not
    cqlmq's), so the driver shows the bytes it received instead."""
    from cassandra import cqltypes
    v = D("1E+2147483648")
    env.run(env.client.execute("INSERT INTO %s.types (k, c_decimal) VALUES (?, ?)" % KS, [-12, v]))
    ins = env.session.prepare("INSERT INTO %s.types (k, c_decimal) VALUES (?, ?)" % KS)
    env.session.execute(ins, (-14, v))
    sel = "SELECT c_decimal FROM %s.types WHERE k = %%s" % KS
    with PurePythonDecoding(env.session, cqltypes.DecimalType, lambda b, pv: bytes(b)):
        drv = [env.session.execute(sel, (k,)).one()["c_decimal"] for k in (-12, -14)]
    assert drv == [struct.pack(">i", -2**31) + b"\x01"] * 2
    for k in (-12, -14):
        r = env.run(env.client.execute("SELECT c_decimal FROM %s.types WHERE k = ?" % KS, [k]))
        x = r.one().c_decimal
        assert x.as_tuple() == v.as_tuple(), x


@pytest.mark.parametrize("col,value", [
    ("c_tinyint", 128), ("c_tinyint", -129), ("c_smallint", 32768), ("c_int", 2**31),
    ("c_int", -2**31 - 1), ("c_bigint", 2**63), ("c_bigint", -2**63 - 1),
    ("c_uuid", "not-a-uuid"), ("c_inet", "1.2.3"), ("c_date", "2024-13-01"),
    ("c_text", 5), ("c_list", {"a": 1})])
def test_values_a_type_cannot_take_are_invalid(env, col, value):
    with pytest.raises(cqlmq.InvalidRequest):
        env.run(env.client.execute("INSERT INTO %s.types (k, %s) VALUES (?, ?)" % (KS, col), [-13, value]))
    assert not env.session.execute("SELECT k FROM %s.types WHERE k = -13" % KS).all()


class RawWire:
    """One DEALER speaking docs/protocol.md directly, for what the Python
    client would hide (its datetime.time has no nanoseconds)."""

    def __init__(self, endpoint):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.next_id = 1
        assert self.request({"op": "hello", "protocol": 1, "client": "conformance/1"})[1]["op"] == "hello"

    def request(self, msg):
        msg = dict(msg, id=self.next_id)
        self.next_id += 1
        self.sock.send(msgpack.packb(msg, use_bin_type=True))
        assert self.sock.poll(10000), "no reply from cqlmqd"
        raw = self.sock.recv()
        return raw, msgpack.unpackb(raw, raw=False, strict_map_key=False, timestamp=0,
                                    ext_hook=lambda code, data: msgpack.ExtType(code, data))

    def close(self):
        self.sock.close()
        self.ctx.term()


@pytest.fixture(scope="module")
def wire(env):
    w = RawWire(env.gw.endpoint)
    yield w
    w.close()


def _wire_select(wire, data, cid, col):
    k = data[("prepared", cid)]["k"]
    raw, rep = wire.request({"op": "query", "cql": "SELECT %s FROM %s.types WHERE k = ?" % (col, KS),
                             "params": [k]})
    assert rep["op"] == "result" and len(rep["rows"]) == 1, rep
    return raw, rep["rows"][0][0]


def _cases(col):
    return [c for c in CASES if c[2] == col and c[4].expected is not None]


def test_wire_time_keeps_nanoseconds(data, wire):
    for cid, _, _, _, v in _cases("c_time"):
        _, x = _wire_select(wire, data, cid, "c_time")
        assert x == msgpack.ExtType(6, struct.pack(">q", v.expected)), (cid, x)


def test_wire_varint_is_an_int_when_it_fits_msgpack_else_ext4(data, wire):
    for cid, _, _, _, v in _cases("c_varint"):
        _, x = _wire_select(wire, data, cid, "c_varint")
        n = v.expected
        if -2**63 <= n <= 2**64 - 1:
            assert type(x) is int and x == n, (cid, x)
        else:
            assert isinstance(x, msgpack.ExtType) and x.code == 4, (cid, x)
            assert int.from_bytes(x.data, "big", signed=True) == n, (cid, x)


def test_wire_float_is_float32_and_double_float64(data, wire):
    for col, fmt, tag in (("c_float", ">f", b"\xca"), ("c_double", ">d", b"\xcb")):
        for cid, _, _, _, v in _cases(col):
            raw, x = _wire_select(wire, data, cid, col)
            want = float(v.expected)
            assert tag + struct.pack(fmt, want) in raw, (cid, raw)


def test_wire_timestamp_and_date_and_udt_forms(data, wire):
    for cid, _, _, _, v in _cases("c_timestamp"):
        _, x = _wire_select(wire, data, cid, "c_timestamp")
        assert isinstance(x, msgpack.Timestamp) and x.to_unix_nano() == v.expected * 10**6, (cid, x)
    for cid, _, _, _, v in _cases("c_date"):
        _, x = _wire_select(wire, data, cid, "c_date")
        assert x.code == 5 and len(x.data) == 4, (cid, x)
    _, x = _wire_select(wire, data, "c_udt-all_missing", "c_udt")
    assert x == {"street": None, "num": None, "loc": None, "tags": None}


def test_wire_udts_give_the_fields_the_driver_metadata_gives(env, wire):
    """`udts` (docs/protocol.md section 6) in a result, a stream's first page
    and a prepared reply: the UDT's fields and their types, as the driver's
    cluster.metadata has them; no `udts` when no column has a UDT."""
    ut = env.cluster.metadata.keyspaces[KS].user_types["addr"]
    want = {"addr": [[f, t] for f, t in zip(ut.field_names, ut.field_types)]}
    assert [tuple(x) for x in want["addr"]] == UDT_FIELDS
    sel = "SELECT k, c_udt, c_ludt FROM %s.types WHERE k = -1" % KS
    _, rep = wire.request({"op": "query", "cql": sel})
    assert rep["op"] == "result" and rep["udts"] == want, rep
    _, rep = wire.request({"op": "prepare", "cql": "UPDATE %s.types SET c_ludt = ? WHERE k = ?" % KS})
    assert rep["op"] == "prepared" and rep["udts"] == want, rep
    _, rep = wire.request({"op": "prepare", "cql": sel})
    assert rep["udts"] == want, rep
    _, rep = wire.request({"op": "query", "cql": "SELECT k, c_int, c_nested FROM %s.types WHERE k = -1" % KS})
    assert rep["op"] == "result" and "udts" not in rep, rep
    # a stream: udts on page 0 only
    rid = wire.next_id
    wire.next_id += 1
    wire.sock.send(msgpack.packb({"op": "query", "id": rid, "cql": "SELECT k, c_udt FROM %s.types" % KS,
                                  "stream": True, "credit": 8, "page_size": 50}, use_bin_type=True))
    pages = []
    while True:
        assert wire.sock.poll(10000), "no reply from cqlmqd"
        m = msgpack.unpackb(wire.sock.recv(), raw=False, strict_map_key=False, timestamp=0)
        assert m["id"] == rid and m["op"] in ("page", "done"), m
        if m["op"] == "done":
            break
        pages.append(m)
        wire.sock.send(msgpack.packb({"op": "credit", "id": rid, "n": 1}))
    assert len(pages) >= 2 and pages[0]["udts"] == want
    assert all("udts" not in p and "columns" not in p for p in pages[1:])


def test_streamed_rows_equal_single_reads(env, data):
    """The whole table streamed (pager actor, small pages, credit 2) gives
    every row exactly as the single-row reads through cqlmq did. Streamed
    twice: with c_lkey (lists as map keys), which puts the client on its
    slow decoding path for the whole page, and without it (the fast path)."""
    by_k = {d["k"]: d for d in data.values() if d["table"] == "types" and isinstance(d["cq"], dict)}
    cols = [c for c, _ in COLUMNS if c != "c_lkey"]

    async def stream(cols):
        got = {}
        async with env.client.stream("SELECT k, %s FROM %s.types" % (", ".join(cols), KS), page_size=37,
                                     credit=2, row_factory=cqlmq.dict_factory) as rows:
            async for row in rows:
                got[row["k"]] = row
        return got

    for cs in (cols + ["c_lkey"], cols):
        got = env.run(stream(cs))
        assert set(by_k) <= set(got)
        for k, d in by_k.items():
            for name in cs:
                t = parse_type(TYPES[name])
                assert canon_loose("cq", t, got[k][name]) == canon_loose("cq", t, d["cq"][name]), \
                    (k, name, got[k][name], d["cq"][name])


@pytest.mark.parametrize("ms", _params("test_timestamp_exact_on_the_slow_decoding_path",
                                       [(str(m), m) for m in SLOW_MS]))
def test_timestamp_exact_on_the_slow_decoding_path(env, ms):
    """A row with a list as a map key (c_lkey) and a timestamp: the client
    decodes such replies on its slow path; the timestamp must stay exact."""
    k = -20 - SLOW_MS.index(ms)
    env.run(env.client.execute("INSERT INTO %s.types (k, c_lkey, c_timestamp) VALUES (?, ?, ?)" % KS,
                               [k, {(1,): "a"}, ms]))
    row = env.run(env.client.execute("SELECT c_lkey, c_timestamp FROM %s.types WHERE k = ?" % KS, [k])).one()
    assert row.c_lkey == {(1,): "a"}
    assert canon("cq", ("timestamp", ()), row.c_timestamp) == ("ts", ms), row.c_timestamp
