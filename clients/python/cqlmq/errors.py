"""Exceptions of the cqlmq client, named like the DataStax python driver's.

Every error reply of cqlmqd (docs/protocol.md section 9) becomes an instance
of the class its `code` names (table _BY_CODE below); an unknown code gives
the base CqlmqError (treated as not retryable, as the protocol asks). Every
exception carries:

  code       the protocol's code string ("read_timeout"), or a client-side
             one ("client_timeout", "disconnected")
  message    human-readable text
  cql_code   Cassandra's error code, when Cassandra raised it
  details    the `details` map as received (dict, possibly empty)
  retry      the protocol's advice: "no", "after_hello", "later",
             "if_idempotent"

and each detail key of section 9 as an attribute (None when absent):
consistency, required, alive, received, block_for, write_type, data_present,
num_failures, keyspace, table, function, arg_types, statement_id, supported.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
    "CqlmqError",
    "RequestExecutionException",
    "RequestValidationException",
    "Unavailable",
    "Timeout",
    "ReadTimeout",
    "WriteTimeout",
    "CoordinationFailure",
    "ReadFailure",
    "WriteFailure",
    "CASWriteUnknown",
    "OperationTimedOut",
    "InvalidRequest",
    "SyntaxException",
    "AlreadyExists",
    "Unauthorized",
    "AuthenticationFailed",
    "ConfigurationException",
    "Overloaded",
    "IsBootstrapping",
    "TruncateError",
    "FunctionFailure",
    "ServerError",
    "ProtocolError",
    "NoHostAvailable",
    "ConnectionLost",
    "Unprepared",
    "Busy",
    "Cancelled",
    "Disconnected",
    "BadRequest",
    "UnknownSession",
    "UnsupportedVersion",
    "ShuttingDown",
    "InternalError",
    "error_from_reply",
]

DETAIL_KEYS = (
    "consistency",
    "required",
    "alive",
    "received",
    "block_for",
    "write_type",
    "data_present",
    "num_failures",
    "keyspace",
    "table",
    "function",
    "arg_types",
    "statement_id",
    "supported",
)


class CqlmqError(Exception):
    """Base of every error this client raises for a request."""

    #: default code of the class (an instance carries the one received)
    default_code = "error"
    #: retry advice of the protocol for this class
    retry = "no"

    def __init__(self, message: str = "", *, code: Optional[str] = None,
                 cql_code: Optional[int] = None, details: Optional[dict] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.cql_code = cql_code
        self.details = dict(details) if details else {}
        for k in DETAIL_KEYS:
            setattr(self, k, self.details.get(k))

    def __str__(self) -> str:
        extra = ", ".join(f"{k}={self.details[k]!r}" for k in DETAIL_KEYS if k in self.details)
        s = f"[{self.code}] {self.message}" if self.message else f"[{self.code}]"
        return f"{s} ({extra})" if extra else s

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.code, self.cql_code, self.details))


def _rebuild(cls, message, code, cql_code, details):
    return cls(message, code=code, cql_code=cql_code, details=details)


# ---- Cassandra's errors (DataStax names and hierarchy) ------------------


class RequestExecutionException(CqlmqError):
    """Cassandra could not execute a valid request."""


class RequestValidationException(CqlmqError):
    """Cassandra rejected the request as invalid."""


class Unavailable(RequestExecutionException):
    """Too few replicas alive: see consistency, required, alive."""

    default_code = "unavailable"
    retry = "if_idempotent"


class Timeout(RequestExecutionException):
    """Replicas did not answer in time: see consistency, received, block_for."""


class ReadTimeout(Timeout):
    """data_present tells whether the replica asked for data answered."""

    default_code = "read_timeout"
    retry = "if_idempotent"


class WriteTimeout(Timeout):
    """write_type tells which kind of write (SIMPLE, BATCH, CAS, ...)."""

    default_code = "write_timeout"
    retry = "if_idempotent"


class CoordinationFailure(RequestExecutionException):
    """Replicas failed: see num_failures."""


class ReadFailure(CoordinationFailure):
    default_code = "read_failure"


class WriteFailure(CoordinationFailure):
    default_code = "write_failure"


class CASWriteUnknown(RequestExecutionException):
    """The outcome of a conditional write is unknown: settle it with a read
    at SERIAL consistency, do not guess."""

    default_code = "cas_write_unknown"


class Overloaded(RequestExecutionException):
    default_code = "overloaded"
    retry = "later"


class IsBootstrapping(RequestExecutionException):
    default_code = "is_bootstrapping"
    retry = "later"


class TruncateError(RequestExecutionException):
    default_code = "truncate_error"


class FunctionFailure(RequestExecutionException):
    """A user-defined function failed: see keyspace, function, arg_types."""

    default_code = "function_failure"


class InvalidRequest(RequestValidationException):
    default_code = "invalid"


class SyntaxException(RequestValidationException):
    default_code = "syntax"


class Unauthorized(RequestValidationException):
    default_code = "unauthorized"


class ConfigurationException(RequestValidationException):
    default_code = "config_error"


class AlreadyExists(ConfigurationException):
    """See keyspace and table."""

    default_code = "already_exists"


class AuthenticationFailed(CqlmqError):
    default_code = "bad_credentials"


class ServerError(CqlmqError):
    """Cassandra's server error, or a Cassandra error this protocol version
    does not name (cql_code tells which)."""

    default_code = "server_error"


class ProtocolError(CqlmqError):
    """Cassandra's protocol error, or a reply this client cannot read."""

    default_code = "protocol_error"


class Unprepared(CqlmqError):
    """cqlmqd does not know the prepared handle (see statement_id)."""

    default_code = "unprepared"


# ---- cqlmqd's and the client's own errors ------------------------------


class OperationTimedOut(CqlmqError):
    """The deadline passed: in cqlmqd (code "timeout") or in this client
    (code "client_timeout", when no reply came in time). The outcome of a
    write is then unknown."""

    default_code = "timeout"
    retry = "if_idempotent"


class NoHostAvailable(CqlmqError):
    default_code = "no_host"
    retry = "later"


class ConnectionLost(CqlmqError):
    """The Cassandra connection carrying the request closed before a reply:
    the request may or may not have been applied. cqlmqd already retried it
    on another host if it was idempotent. Settle a conditional write with a
    SERIAL read."""

    default_code = "connection_lost"
    retry = "if_idempotent"


class Busy(CqlmqError):
    """cqlmqd's in-flight or stream bound is reached: retry later, with backoff."""

    default_code = "busy"
    retry = "later"


class Cancelled(CqlmqError):
    default_code = "cancelled"


class Disconnected(CqlmqError):
    """The connection to cqlmqd dropped (or the client was closed) while the
    request was in flight: it may or may not have run."""

    default_code = "disconnected"


class BadRequest(CqlmqError):
    """cqlmqd could not accept the request as written (a client defect)."""

    default_code = "bad_request"


class UnknownSession(CqlmqError):
    default_code = "unknown_session"
    retry = "after_hello"


class UnsupportedVersion(CqlmqError):
    """cqlmqd does not speak this client's protocol version (see supported)."""

    default_code = "unsupported_version"


class ShuttingDown(CqlmqError):
    default_code = "shutting_down"
    retry = "later"


class InternalError(CqlmqError):
    """A defect in cqlmqd."""

    default_code = "internal"


_BY_CODE = {
    cls.default_code: cls
    for cls in (
        BadRequest, UnknownSession, UnsupportedVersion, Busy, OperationTimedOut, Cancelled,
        NoHostAvailable, ConnectionLost, ShuttingDown, ServerError, ProtocolError, AuthenticationFailed,
        Overloaded, IsBootstrapping, TruncateError, Unavailable, WriteTimeout, ReadTimeout,
        ReadFailure, WriteFailure, FunctionFailure, CASWriteUnknown, SyntaxException,
        Unauthorized, InvalidRequest, ConfigurationException, AlreadyExists, Unprepared,
        InternalError,
    )
}


def error_class(code: str) -> type:
    """The exception class for a protocol error code (CqlmqError if unknown)."""
    return _BY_CODE.get(code, CqlmqError)


def error_from_reply(msg: dict) -> CqlmqError:
    """The exception for an `error` reply map (already decoded)."""
    code = msg.get("code")
    if not isinstance(code, str):
        code = "error"
    message = msg.get("message")
    if not isinstance(message, str):
        message = ""
    cql_code = msg.get("cql_code")
    if not isinstance(cql_code, int):
        cql_code = None
    details: Any = msg.get("details")
    if not isinstance(details, dict):
        details = None
    return error_class(code)(message, code=code, cql_code=cql_code, details=details)
