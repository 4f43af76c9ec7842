"""CQL values <-> msgpack (docs/protocol.md section 8), both directions, as
golden bytes written from the specification's table."""

import datetime as dt
import decimal
import ipaddress
import uuid

import msgpack
import pytest

import cqlmq
from cqlmq import (
    EMPTY,
    UNSET,
    Duration,
    FrozenDict,
    OutOfRangeDate,
    OutOfRangeTimestamp,
    _wire,
)

UTC = dt.timezone.utc
U = uuid.UUID("01234567-89ab-cdef-0123-456789abcdef")
UHEX = "0123456789abcdef0123456789abcdef"

# (python value, msgpack bytes in hex): encoding gives exactly these bytes,
# decoding these bytes gives back the value
BOTH_WAYS = [
    (None, "c0"),
    (True, "c3"),
    (False, "c2"),
    (1, "01"),
    (-1, "ff"),
    (300, "cd012c"),
    (2**63, "cf8000000000000000"),
    (2**64 - 1, "cfffffffffffffffff"),
    (-(2**63), "d38000000000000000"),
    (2**64, "c70904" "010000000000000000"),            # varint: ext 4
    (-(2**63) - 1, "c70904" "ff7fffffffffffffff"),
    (1.5, "cb3ff8000000000000"),
    ("h\u00e9", "a368c3a9"),
    (b"\xde\xad", "c402dead"),
    (U, "d802" + UHEX),                                 # uuid: ext 2
    (dt.datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC), "d7ff" "7735940000000001"),
    (dt.datetime(1970, 1, 1, tzinfo=UTC), "d6ff" "00000000"),
    (dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
     "c70cff" "3b8b87c0" "ffffffffffffffff"),           # 96-bit form
    (dt.date(1970, 1, 1), "d605" "00000000"),           # date: ext 5
    (dt.date(1969, 12, 31), "d605" "ffffffff"),
    (OutOfRangeDate(2**31 - 1), "d605" "7fffffff"),
    (OutOfRangeDate(-(2**31)), "d605" "80000000"),
    (dt.time(1, 2, 3, 4), "d706" "00000362d417bda0"),   # time: ext 6 (ns)
    (dt.time(0, 0), "d706" "0000000000000000"),
    (decimal.Decimal("123.45"), "c70601" "00000002" "3039"),  # decimal: ext 1
    (decimal.Decimal("-1"), "c70501" "00000000" "ff"),
    (decimal.Decimal("1E+3"), "c70501" "fffffffd" "01"),
    (decimal.Decimal("0.000"), "c70501" "00000003" "00"),
    (decimal.Decimal("128"), "c70601" "00000000" "0080"),
    (Duration(1, 2, 3), "d807" "00000001" "00000002" "0000000000000003"),  # ext 7
    (Duration(-1, -2, -3), "d807" "ffffffff" "fffffffe" "fffffffffffffffd"),
    (ipaddress.IPv4Address("127.0.0.1"), "d608" "7f000001"),             # ext 8
    (ipaddress.IPv6Address("::1"), "d808" + "00" * 15 + "01"),
    (EMPTY, "c70009"),
    (UNSET, "c7000a"),
    ([1, 2], "920102"),
    ({"a": 1}, "81a16101"),
    ({1: [2]}, "81019102"),
    ({"street": "x", "zip": None}, "82a6737472656574a178a37a6970c0"),    # a UDT
]


def enc(v):
    return msgpack.packb(_wire.encode_value(v), use_bin_type=True).hex()


def dec(hexbytes, columns=None):
    """Decodes a value as the only cell of a one-row result."""
    reply = _wire.decode(bytes.fromhex("81a176") + bytes.fromhex(hexbytes))
    v = reply["v"]
    if columns:
        return _wire.convert_rows([[v]], [["c", columns]])[0][0]
    return v


@pytest.mark.parametrize("value,hexbytes", BOTH_WAYS, ids=[repr(v)[:40] for v, _ in BOTH_WAYS])
def test_value_encodes_to_the_documented_bytes(value, hexbytes):
    assert enc(value) == hexbytes


@pytest.mark.parametrize("value,hexbytes", BOTH_WAYS, ids=[repr(v)[:40] for v, _ in BOTH_WAYS])
def test_documented_bytes_decode_to_the_value(value, hexbytes):
    got = dec(hexbytes)
    assert got == value
    assert type(got) is type(value) or value is None


def test_decoded_values_have_the_documented_python_types():
    assert dec("d802" + UHEX) == U and isinstance(dec("d802" + UHEX), uuid.UUID)
    assert str(dec("d802" + UHEX)) == str(U) and hash(dec("d802" + UHEX)) == hash(U)
    ts = dec("d7ff7735940000000001")
    assert ts.tzinfo is not None and ts.utcoffset() == dt.timedelta(0)


def test_tuples_sets_and_frozensets_encode_as_arrays():
    assert enc((1, "a")) == "9201a161"
    assert enc({7}) == "9107"
    assert enc(frozenset({7})) == "9107"


def test_naive_datetimes_are_taken_as_utc_and_aware_ones_converted():
    want = "d7ff7735940000000001"
    assert enc(dt.datetime(1970, 1, 1, 0, 0, 1, 500000)) == want
    plus1 = dt.timezone(dt.timedelta(hours=1))
    assert enc(dt.datetime(1970, 1, 1, 1, 0, 1, 500000, tzinfo=plus1)) == want


def test_timestamps_decode_from_every_msgpack_timestamp_form():
    epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
    assert dec("d6ff00000000") == epoch
    assert dec("d7ff0000000000000000") == epoch        # the 64-bit form cqlmqd uses
    assert dec("c70cff000000000000000000000000") == epoch


def test_timestamps_beyond_datetime_keep_their_milliseconds():
    far = OutOfRangeTimestamp(2**40 * 1000)           # year ~36812
    assert enc(far) == "c70cff" "00000000" "0000010000000000"
    got = dec("c70cff" "00000000" "0000010000000000")
    assert got == far and isinstance(got, OutOfRangeTimestamp)
    early = OutOfRangeTimestamp(-62135596800001)      # 1 ms before year 1
    assert dec(enc(early)) == early
    # one out-of-range value does not spoil its neighbours
    row = _wire.decode(msgpack.packb({"rows": [[msgpack.Timestamp(0, 0),
                                                msgpack.Timestamp(2**40, 0)]]}))["rows"][0]
    assert row[0] == dt.datetime(1970, 1, 1, tzinfo=UTC)
    assert row[1] == OutOfRangeTimestamp(2**40 * 1000)


def test_dates_outside_python_range_stay_integer_days():
    got = dec("d6057fffffff")
    assert isinstance(got, OutOfRangeDate) and got == 2**31 - 1
    assert dec("d605" + (-719162).to_bytes(4, "big", signed=True).hex()) == dt.date(1, 1, 1)
    assert isinstance(dec("d605" + (-719163).to_bytes(4, "big", signed=True).hex()), OutOfRangeDate)


def test_time_below_a_microsecond_is_truncated():
    assert dec("d706" + (1_999).to_bytes(8, "big").hex()) == dt.time(0, 0, 0, 1)
    last = 86_400 * 10**9 - 1
    assert dec("d706" + last.to_bytes(8, "big").hex()) == dt.time(23, 59, 59, 999999)


def test_decimal_keeps_every_digit_beyond_the_default_context():
    d = decimal.Decimal("-12345678901234567890123456789012345678901234567890.123456789")
    assert dec(enc(d)) == d
    assert dec(enc(d)).as_tuple() == d.as_tuple()


def test_unknown_extensions_come_back_as_ext_type():
    assert dec("d4630a") == msgpack.ExtType(99, b"\x0a")


@pytest.mark.parametrize("bad", [
    decimal.Decimal("NaN"), decimal.Decimal("Infinity"),
    Duration(1, -1, 0), Duration(2**31, 0, 0),
    OutOfRangeDate(2**31),
])
def test_values_outside_their_cql_type_are_refused(bad):
    with pytest.raises(ValueError):
        _wire.encode_value(bad)


def test_objects_without_a_cql_form_are_refused_naming_the_parameter():
    with pytest.raises(TypeError, match="parameter 1"):
        _wire.encode_params([1, object()])
    with pytest.raises(TypeError, match="parameter 'x'"):
        _wire.encode_params({"x": object()})
    with pytest.raises(TypeError):
        _wire.encode_params("abc")


def test_hostile_replies_are_wire_errors_not_crashes():
    deep = b"\x91" * 900 + b"\x81\x91\x01\x02"       # a list key deep down: slow path
    for bad in (b"", b"\xc1", b"\x81\xa1", b"\xdd\x7f\xff\xff\xff", b"\x92\x01",
                b"\x81\xa1v" + deep, b"\x93" * 2000):
        with pytest.raises(_wire.WireError):
            _wire.decode(bad)
    for bad in (b"", b"\x80", b"\x82\xa2op\xa4page", b"\x81\xa2id\x01",
                b"\x82\xa2op\x01\xa2id\x01", b"\xdf\xff\xff\xff\xff"):
        with pytest.raises(_wire.WireError):
            _wire.peek_head(bad)
    assert _wire.peek_head(b"\x83\xa4rows\x90\xa2id\x05\xa2op\xa4page") == ("page", 5)


def test_malformed_extensions_are_protocol_errors():
    for bad in ("d50200", "d505" + "0000", "c70201" + "0000", "d50800"):
        with pytest.raises(_wire.WireError):
            dec(bad)


# ---- conversions driven by the column type -----------------------------


def test_sets_decode_as_python_sets():
    assert dec("93010203", "set<int>") == {1, 2, 3}
    assert dec("90", "set<text>") == set()


def test_lists_stay_lists_and_tuples_become_tuples():
    assert dec("920102", "list<int>") == [1, 2]
    assert dec("9301a161c0", "tuple<int, text, int>") == (1, "a", None)
    assert dec("9201a161", "frozen<tuple<int, text>>") == (1, "a")


def test_collections_inside_sets_and_map_keys_come_back_hashable():
    got = dec("92" "920102" "9103", "set<frozen<list<int>>>")
    assert got == {(1, 2), (3,)}
    got = dec("91" "920102", "list<frozen<set<int>>>")
    assert got == [frozenset({1, 2})]
    # a list as a map key takes the exact slow path
    got = dec("81" "920102" "03", "map<frozen<list<int>>, int>")
    assert got == {(1, 2): 3}
    got = dec("91" "81a16101", "set<frozen<map<text, int>>>")
    assert got == {FrozenDict({"a": 1})}
    got = dec("91" "81a16101", "set<frozen<address>>")          # a UDT
    assert got == {FrozenDict({"a": 1})}


def test_maps_decode_with_any_key_type():
    assert dec("8201c302c2", "map<int, boolean>") == {1: True, 2: False}
    assert dec("81" "d802" + UHEX + "01", "map<uuid, int>") == {U: 1}
    assert dec("81a161" "920102", "map<text, frozen<set<int>>>") == {"a": {1, 2}}


def test_type_strings_are_parsed_tolerantly():
    assert _wire.converter("int") is None
    assert _wire.converter("map<text, frozen<list<int>>>") is None
    assert _wire.converter("'org.apache.cassandra.db.marshal.BytesType'") is None
    assert _wire.converter("vector<float, 3>") is None
    assert _wire.converter('frozen<"MyType">') is None
    assert _wire.converter("set<") is None  # broken: left as decoded, no crash
    assert _wire.converter("map<int") is None
    assert _wire.converter("") is None


def test_every_type_round_trips():
    values = [row[0] for row in BOTH_WAYS] + [
        dt.datetime(2024, 2, 29, 12, 30, 15, 123000, tzinfo=UTC),
        [U, None], {"k": [1, 2]}, {(1, 2): "x"},
    ]
    for v in values:
        assert dec(enc(v)) == v, v


def test_public_names_are_exported():
    for name in ("UNSET", "EMPTY", "Duration", "OutOfRangeDate", "FrozenDict", "Column"):
        assert hasattr(cqlmq, name)


# ---- UDT fields typed by the reply's `udts` ------------------------------

ADDR = {"addr": [["street", "text"], ["loc", "frozen<tuple<double, double>>"],
                 ["tags", "frozen<set<text>>"], ["seen", "timestamp"]],
        "person": [["name", "text"], ["home", "frozen<addr>"],
                   ["past", "frozen<list<frozen<addr>>>"], ["nick", "frozen<map<frozen<list<int>>, text>>"]]}


def dec_udts(value, type_str, udts=ADDR):
    """A value packed as the only cell of a one-row result with udts."""
    reply = _wire.decode(msgpack.packb({"rows": [[value]], "udts": udts}, use_bin_type=True))
    return _wire.convert_rows(reply["rows"], [["c", type_str]], _wire.udts_of(reply["udts"]))[0][0]


def addr_wire(street="s", loc=(1.5, -2.5), tags=("a", "b"), seen=msgpack.Timestamp(0, 0)):
    return {"street": street, "loc": None if loc is None else list(loc),
            "tags": None if tags is None else list(tags), "seen": seen}


def test_udt_fields_take_their_types_from_udts():
    got = dec_udts(addr_wire(), "addr")
    assert type(got) is dict
    assert got == {"street": "s", "loc": (1.5, -2.5), "tags": {"a", "b"},
                   "seen": dt.datetime(1970, 1, 1, tzinfo=UTC)}
    assert type(got["loc"]) is tuple and type(got["tags"]) is set
    # null fields stay None; an empty frozen set is an empty set
    got = dec_udts(addr_wire(loc=None, tags=()), "frozen<addr>")
    assert got["loc"] is None and got["tags"] == set() and type(got["tags"]) is set


def test_udts_nested_in_collections_and_in_udts_are_converted():
    a = addr_wire()
    got = dec_udts([a, addr_wire(tags=None)], "list<frozen<addr>>")
    assert [type(x["tags"]) for x in got] == [set, type(None)]
    person = {"name": "p", "home": a, "past": [a], "nick": {}}
    got = dec_udts({"k": person}, "map<text, frozen<person>>")
    p = got["k"]
    assert p["home"]["loc"] == (1.5, -2.5) and p["past"][0]["tags"] == {"a", "b"}
    # a list as a map key inside a UDT takes the exact slow path
    person["nick"] = {(1, 2): "x"}
    raw = msgpack.packb({"rows": [[person]], "udts": ADDR}, use_bin_type=True)
    reply = _wire.decode(raw)
    p = _wire.convert_rows(reply["rows"], [["c", "frozen<person>"]], _wire.udts_of(reply["udts"]))[0][0]
    assert p["nick"] == {(1, 2): "x"} and p["home"]["loc"] == (1.5, -2.5)


def test_udts_inside_sets_and_map_keys_come_back_hashable_with_typed_fields():
    got = dec_udts([addr_wire(seen=None)], "set<frozen<addr>>")
    (x,) = got
    assert type(x) is FrozenDict and x["loc"] == (1.5, -2.5) and x["tags"] == frozenset({"a", "b"})
    assert type(x["tags"]) is frozenset
    # a UDT as a map key (the slow path freezes it first)
    key = addr_wire(seen=msgpack.Timestamp(-1, 999000000))
    raw = msgpack.packb({"rows": [[[key, 1]]], "udts": ADDR}, use_bin_type=True)
    raw = raw.replace(b"\x91\x91\x92", b"\x91\x91\x81", 1)  # cell [key, 1] -> {key: 1}
    reply = _wire.decode(raw)
    got = _wire.convert_rows(reply["rows"], [["c", "map<frozen<addr>, int>"]],
                             _wire.udts_of(reply["udts"]))[0][0]
    ((k, v),) = got.items()
    assert v == 1 and type(k) is FrozenDict
    assert k["loc"] == (1.5, -2.5) and type(k["tags"]) is frozenset
    assert k["seen"] == dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    # a tuple of a UDT: fields typed too
    got = dec_udts([addr_wire(seen=None), 1], "tuple<frozen<addr>, int>")
    assert got == ({"street": "s", "loc": (1.5, -2.5), "tags": {"a", "b"}, "seen": None}, 1)


def test_udts_without_definitions_or_with_junk_are_left_as_decoded():
    # no udts: as before (lists stay lists)
    got = dec_udts(addr_wire(), "addr", udts=None)
    assert got["loc"] == [1.5, -2.5]
    # junk entries are skipped, not fatal
    junk = {"addr": [["street"], 5, ["loc", 7], ["tags", "frozen<set<text>>"]], 3: [], "x": "y"}
    got = dec_udts(addr_wire(), "addr", udts=junk)
    assert got["tags"] == {"a", "b"} and got["loc"] == [1.5, -2.5]
    # a UDT that contains itself (a hostile map) does not loop
    loop = {"a": [["me", "frozen<a>"], ["s", "frozen<set<int>>"]]}
    got = dec_udts({"me": {"me": None, "s": [1]}, "s": [2]}, "a", udts=loop)
    assert got["s"] == {2}


def test_udt_names_match_the_type_strings_quoted_or_not():
    udts = {'"MyType"': [["Loc", "frozen<tuple<int, int>>"]], "Plain": [["t", "tuple<int>"]]}
    assert dec_udts({"Loc": [1, 2]}, 'frozen<"MyType">', udts) == {"Loc": (1, 2)}
    assert dec_udts({"t": [1]}, "plain", udts) == {"t": (1,)}
    assert _wire.udts_of(udts) == {'"MyType"': [("Loc", "frozen<tuple<int, int>>")],
                                   "plain": [("t", "tuple<int>")]}


# ---- timestamps on the slow decoding path ---------------------------------


@pytest.mark.parametrize("when,ms", [
    (dt.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC), 253402300799999),
    (dt.datetime(1, 1, 1, 0, 0, 0, 1000, tzinfo=UTC), -62135596799999),
    (dt.datetime(1, 1, 1, tzinfo=UTC), -62135596800000),
    (dt.datetime(2024, 2, 29, 12, 34, 56, 789000, tzinfo=UTC), 1709210096789),
    (dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC), -1),
])
def test_timestamps_are_exact_on_the_slow_decoding_path(when, ms):
    ts = _wire._enc_timestamp_ms(ms)
    # a list as a map key forces the slow path for the whole reply
    raw = msgpack.packb({"rows": [[{(1,): "a"}, ts]]}, use_bin_type=True)
    row = _wire.decode(raw)["rows"][0]
    assert row[0] == {(1,): "a"}
    assert row[1] == when and type(row[1]) is dt.datetime and row[1].tzinfo is not None
    # the fast path agrees
    assert _wire.decode(msgpack.packb({"rows": [[ts]]}))["rows"][0][0] == when


def test_slow_path_timestamps_beyond_datetime_stay_exact_milliseconds():
    for ms in (253402300800000, -62135596800001, -2**63, 2**63 - 1):
        raw = msgpack.packb({"rows": [[{(1,): "a"}, _wire._enc_timestamp_ms(ms)]]}, use_bin_type=True)
        got = _wire.decode(raw)["rows"][0][1]
        assert type(got) is OutOfRangeTimestamp and got == ms


def test_a_hostile_chain_of_udts_is_bounded():
    udts = {"u%d" % i: [["f", "frozen<u%d>" % (i + 1)], ["s", "frozen<set<int>>"]] for i in range(5000)}
    v = {"f": None, "s": [1]}
    for _ in range(40):
        v = {"f": v, "s": [1]}
    got = dec_udts(v, "u0", udts)
    assert got["s"] == {1} and got["f"]["s"] == {1}
