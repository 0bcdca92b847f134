"""Heavier invoke checks (``make test-long``): many warm invokes, bursts of concurrent ones."""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Callable

import pytest

pytestmark = pytest.mark.long
SCALE = 4 if os.environ.get("AWSEMU_TEST_LONG") else 1

ECHO = """
import os
CALLS = 0
def handler(event, context):
    global CALLS
    CALLS += 1
    return {"echo": event, "pid": os.getpid(), "calls": CALLS}
"""


def test_many_sequential_invokes_stay_on_one_environment(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create(ECHO)
    n = 250 * SCALE
    answers = [json.loads(lam.invoke(FunctionName=fname, Payload=json.dumps({"i": i}).encode())["Payload"].read())
               for i in range(n)]
    assert [a["echo"]["i"] for a in answers] == list(range(n))
    assert [a["calls"] for a in answers] == list(range(1, n + 1))
    assert len({a["pid"] for a in answers}) == 1


def test_concurrent_bursts_answer_every_caller(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create(ECHO, Timeout=60)
    for burst in range(3 * SCALE):
        results: dict[int, Any] = {}
        errors: list[BaseException] = []

        def call(i: int) -> None:
            try:
                out = lam.invoke(FunctionName=fname, Payload=json.dumps({"i": i}).encode())
                results[i] = json.loads(out["Payload"].read())
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors
        assert sorted(results) == list(range(20))
        assert all(results[i]["echo"] == {"i": i} for i in results)
