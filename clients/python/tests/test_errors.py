"""Error replies (docs/protocol.md section 9) become the DataStax-named
exception classes, with their details as attributes."""

import pickle

import pytest

import cqlmq
from cqlmq import errors

CODES = {
    "bad_request": cqlmq.BadRequest,
    "unsupported_version": cqlmq.UnsupportedVersion,
    "busy": cqlmq.Busy,
    "timeout": cqlmq.OperationTimedOut,
    "cancelled": cqlmq.Cancelled,
    "no_host": cqlmq.NoHostAvailable,
    "shutting_down": cqlmq.ShuttingDown,
    "server_error": cqlmq.ServerError,
    "protocol_error": cqlmq.ProtocolError,
    "bad_credentials": cqlmq.AuthenticationFailed,
    "overloaded": cqlmq.Overloaded,
    "is_bootstrapping": cqlmq.IsBootstrapping,
    "truncate_error": cqlmq.TruncateError,
    "unavailable": cqlmq.Unavailable,
    "write_timeout": cqlmq.WriteTimeout,
    "read_timeout": cqlmq.ReadTimeout,
    "read_failure": cqlmq.ReadFailure,
    "write_failure": cqlmq.WriteFailure,
    "function_failure": cqlmq.FunctionFailure,
    "cas_write_unknown": cqlmq.CASWriteUnknown,
    "syntax": cqlmq.SyntaxException,
    "unauthorized": cqlmq.Unauthorized,
    "invalid": cqlmq.InvalidRequest,
    "config_error": cqlmq.ConfigurationException,
    "already_exists": cqlmq.AlreadyExists,
    "unprepared": cqlmq.Unprepared,
    "internal": cqlmq.InternalError,
}


@pytest.mark.parametrize("code,cls", sorted(CODES.items()))
def test_every_code_maps_to_its_class(code, cls):
    e = errors.error_from_reply({"op": "error", "id": 1, "code": code, "message": "m"})
    assert type(e) is cls and isinstance(e, cqlmq.CqlmqError)
    assert e.code == code and e.message == "m" and e.details == {}


def test_unknown_codes_give_the_base_class_and_are_not_retryable():
    e = errors.error_from_reply({"op": "error", "id": 1, "code": "quantum_flux", "message": "?"})
    assert type(e) is cqlmq.CqlmqError and e.code == "quantum_flux" and e.retry == "no"


def test_malformed_error_replies_still_give_an_exception():
    e = errors.error_from_reply({"op": "error", "id": 1, "code": 5, "message": None,
                                 "cql_code": "x", "details": []})
    assert type(e) is cqlmq.CqlmqError and e.message == "" and e.cql_code is None


def test_hierarchy_follows_the_datastax_driver():
    assert issubclass(cqlmq.ReadTimeout, cqlmq.Timeout)
    assert issubclass(cqlmq.WriteTimeout, cqlmq.RequestExecutionException)
    assert issubclass(cqlmq.ReadFailure, cqlmq.CoordinationFailure)
    assert issubclass(cqlmq.AlreadyExists, cqlmq.ConfigurationException)
    assert issubclass(cqlmq.SyntaxException, cqlmq.RequestValidationException)
    assert cqlmq.UnknownSession.retry == "after_hello"
    assert cqlmq.Busy.retry == "later" and cqlmq.ReadTimeout.retry == "if_idempotent"


def test_exceptions_survive_pickling():
    e = cqlmq.Unavailable("x", cql_code=0x1000, details={"alive": 1})
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is cqlmq.Unavailable and e2.alive == 1 and e2.cql_code == 0x1000


DETAILED = [
    ("unavailable", 0x1000, {"consistency": "quorum", "required": 2, "alive": 1},
     cqlmq.Unavailable),
    ("write_timeout", 0x1100, {"consistency": "local_quorum", "received": 1, "block_for": 2,
                               "write_type": "CAS"}, cqlmq.WriteTimeout),
    ("read_timeout", 0x1200, {"consistency": "one", "received": 0, "block_for": 1,
                              "data_present": False}, cqlmq.ReadTimeout),
    ("read_failure", 0x1300, {"consistency": "all", "received": 1, "block_for": 3,
                              "num_failures": 2, "data_present": True}, cqlmq.ReadFailure),
    ("function_failure", 0x1400, {"keyspace": "ks", "function": "f", "arg_types": ["int"]},
     cqlmq.FunctionFailure),
    ("write_failure", 0x1500, {"consistency": "one", "received": 0, "block_for": 1,
                               "num_failures": 1, "write_type": "SIMPLE"}, cqlmq.WriteFailure),
    ("cas_write_unknown", 0x1700, {"consistency": "serial", "received": 1, "block_for": 2},
     cqlmq.CASWriteUnknown),
    ("already_exists", 0x2400, {"keyspace": "ks", "table": "t"}, cqlmq.AlreadyExists),
    ("server_error", 0x0042, {}, cqlmq.ServerError),  # a CQL code this version does not name
]


@pytest.mark.parametrize("code,cql_code,details,cls", DETAILED, ids=[d[0] for d in DETAILED])
async def test_errors_from_cqlmqd_carry_code_cql_code_and_details(gw, code, cql_code, details,
                                                                 cls):
    gw.fail("Q", code, f"{code} happened", cql_code=cql_code, details=details)
    async with cqlmq.connect(gw.endpoint) as client:
        with pytest.raises(cls) as ei:
            await client.execute("Q")
    e = ei.value
    assert e.code == code and e.cql_code == cql_code and e.message == f"{code} happened"
    assert e.details == details
    for k, v in details.items():
        assert getattr(e, k) == v
    for k in errors.DETAIL_KEYS:
        if k not in details:
            assert getattr(e, k) is None
    assert code in str(e)


async def test_syntax_and_invalid_errors_from_prepare_and_batch(gw):
    gw.on("BATCH", lambda req: {"op": "error", "code": "invalid", "message": "bad batch",
                                "cql_code": 0x2200})
    async with cqlmq.connect(gw.endpoint) as client:
        with pytest.raises(cqlmq.InvalidRequest):
            await client.batch(["INSERT"])


async def test_busy_is_raised_at_once(gw):
    gw.fail("Q", "busy", "in-flight bound reached")
    async with cqlmq.connect(gw.endpoint) as client:
        with pytest.raises(cqlmq.Busy) as ei:
            await client.execute("Q")
    assert ei.value.retry == "later"
