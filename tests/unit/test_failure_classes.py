from __future__ import annotations

import pytest
from aiokafka.errors import KafkaConnectionError, RecordTooLargeError, RequestTimedOutError
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure, ServerSelectionTimeoutError

from hoso.errors import ImpossibleTransition
from hoso.faults import is_transient


@pytest.mark.parametrize(
    "exc",
    [
        ServerSelectionTimeoutError("no servers"),
        AutoReconnect("connection reset"),
        KafkaConnectionError("broker down"),
        RequestTimedOutError(),
        ConnectionRefusedError(),
        TimeoutError(),
        OperationFailure("database is locked (5) (SQLITE_BUSY)"),
    ],
)
def test_infrastructure_faults_are_transient(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        DuplicateKeyError("dup"),
        OperationFailure("bad query"),
        ImpossibleTransition("received after refused"),
        RecordTooLargeError(),
        ValueError("bug"),
    ],
)
def test_other_failures_are_not_transient(exc: BaseException) -> None:
    assert not is_transient(exc)
