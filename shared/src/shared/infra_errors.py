"""Is an error the infrastructure's (PostgreSQL or Kafka away, busy or
exhausted) or the request's/record's own? The inbox pauses and retries the
first without limit and never dead-letters for it; the HTTP edge answers it
503 with Retry-After instead of 500."""

from __future__ import annotations

import errno

import asyncpg
from aiokafka import errors as kafka_errors
from sqlalchemy import exc as sa_exc

# SQLSTATE classes that say "the database is unavailable or busy", not "this
# record is wrong": connection exceptions, insufficient resources, operator
# intervention (shutdown, cancel), system errors, serialization and deadlock.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57", "58")
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


_CONNECTION_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EHOSTDOWN,
        errno.ENOTCONN,
        errno.EADDRNOTAVAIL,
    }
)


def is_infrastructure_error(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says PostgreSQL or Kafka is away or
    overloaded: retry it without limit, never dead-letter the record for it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current,
            (
                ConnectionError,
                TimeoutError,
                sa_exc.TimeoutError,
                asyncpg.PostgresConnectionError,
                asyncpg.InterfaceError,
                asyncpg.CannotConnectNowError,
                asyncpg.TooManyConnectionsError,
            ),
        ):
            return True
        if isinstance(current, OSError) and current.errno in _CONNECTION_ERRNOS:
            return True  # connection refused, reset, unreachable (a missing file is a bug)
        if isinstance(current, kafka_errors.KafkaError) and (
            current.retriable
            or isinstance(
                current,
                (
                    kafka_errors.KafkaConnectionError,
                    kafka_errors.KafkaTimeoutError,
                    kafka_errors.UnknownTopicOrPartitionError,
                ),
            )
        ):
            return True
        if isinstance(current, sa_exc.DBAPIError):
            if current.connection_invalidated:
                return True
            sqlstate = str(getattr(current.orig, "sqlstate", None) or "")
            if sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES or sqlstate in _TRANSIENT_SQLSTATES:
                return True
            if isinstance(current, sa_exc.InterfaceError):
                return True
        sqlstate = str(getattr(current, "sqlstate", None) or "")
        if sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES or sqlstate in _TRANSIENT_SQLSTATES:
            return True
        current = current.__cause__ or current.__context__
    return False
