"""pytest glue: runs `async def` tests on a fresh event loop each (no
pytest-asyncio needed), starting and stopping any FakeGateway fixture inside
that loop, with a per-test time limit."""

from __future__ import annotations

import asyncio
import inspect
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the cqlmq package, uninstalled
sys.path.insert(0, HERE)                   # fakegw

from fakegw import FakeGateway  # noqa: E402

TEST_TIME_LIMIT = 20.0


@pytest.fixture
def gw() -> FakeGateway:
    """A fake cqlmqd, started on 127.0.0.1 for the duration of the test."""
    return FakeGateway()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    args = {n: pyfuncitem.funcargs[n] for n in pyfuncitem._fixtureinfo.argnames}

    async def run():
        gws = [v for v in args.values() if isinstance(v, FakeGateway)]
        for g in gws:
            await g.start()
        try:
            await asyncio.wait_for(pyfuncitem.obj(**args), TEST_TIME_LIMIT)
        finally:
            for g in gws:
                await g.stop()

    asyncio.run(run())
    return True
