"""One worker, in this process, against faults injected on single requests:
each branch of "the outcome of a conditional write is unknown" is taken on
purpose and must end in the right place.

The node's `error` faults reply INSTEAD of executing (the write is not
applied); its `latency` faults execute at once and reply late, so a latency
above the worker's CAS timeout gives a write that WAS applied while the
worker saw a timeout.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

import cqlmq
import schema
from worker import SettleError, Statements, Worker

CAS_TIMEOUT = 0.3  # seconds; latency faults use 3x this


async def start(endpoint: str):
    """A client, a fresh keyspace with 3 pending jobs, and a Worker."""
    ks = "jq_" + uuid.uuid4().hex[:10]
    client = await cqlmq.connect(endpoint, timeout=5)
    await schema.create_schema(client, ks)
    ids = await schema.enqueue(client, ks, 3)
    worker = Worker(client, await Statements().prepare(client, ks), "me-1",
                    cas_timeout=CAS_TIMEOUT, work_ms=0)
    return client, ks, ids, worker


async def row(client, ks, job_id):
    r = await client.execute(f"SELECT status, owner, progress, result FROM {ks}.jobs WHERE id = ?",
                             [job_id], consistency="serial")
    return r.one()


def claim_text(ks):
    return f"{ks}.jobs SET status = 'running'"


def complete_text(ks):
    return f"{ks}.jobs SET status = 'done'"


@pytest.mark.parametrize("fault", [
    dict(action="error", error="cas_write_unknown", write_type="CAS"),
    dict(action="error", error="write_timeout", write_type="CAS", received=0, block_for=1),
    dict(action="close"),
])
def test_claim_that_was_not_applied_is_settled_as_lost_and_the_job_stays_pending(
        gateway, control, fault):
    async def body():
        client, ks, ids, w = await start(gateway.endpoint)
        async with client:
            control.add_fault(query=claim_text(ks), count=1, **fault)
            bucket = schema.bucket_of(ids[0])
            assert await w.claim(ids[0], bucket) is None
            assert sum(w.stats.claims_unknown.values()) == 1
            assert (w.stats.settled_won, w.stats.settled_lost) == (0, 1)
            assert (await row(client, ks, ids[0])).status == "pending"
            # the next attempt (no fault left) takes it
            job = await w.claim(ids[0], bucket)
            assert job is not None and job.owner == "me-1"
    asyncio.run(body())


def test_claim_applied_behind_a_timeout_is_settled_as_won(gateway, control):
    async def body():
        client, ks, ids, w = await start(gateway.endpoint)
        async with client:
            control.add_fault("latency", ms=int(CAS_TIMEOUT * 3000), query=claim_text(ks), count=1)
            job = await w.claim(ids[0], schema.bucket_of(ids[0]))
            assert w.stats.claims_unknown == {"OperationTimedOut": 1}
            assert w.stats.settled_won == 1
            assert job is not None and job.id == ids[0] and job.owner == "me-1"
            assert job.payload.startswith("job ")
    asyncio.run(body())


def test_unknown_claim_of_a_job_someone_else_holds_moves_on(gateway, control):
    async def body():
        client, ks, ids, w = await start(gateway.endpoint)
        async with client:
            other = Worker(client, w.q, "other-2", cas_timeout=CAS_TIMEOUT)
            assert await other.claim(ids[0], 0) is not None
            # our claim: slow, applied-or-not unknown; the row says "other-2"
            control.add_fault("latency", ms=int(CAS_TIMEOUT * 3000), query=claim_text(ks), count=1)
            assert await w.claim(ids[0], schema.bucket_of(ids[0])) is None
            assert (w.stats.settled_won, w.stats.settled_lost) == (0, 1)
            assert (await row(client, ks, ids[0])).owner == "other-2"
    asyncio.run(body())


@pytest.mark.parametrize("fault,applied", [
    (dict(action="latency", ms=int(CAS_TIMEOUT * 3000)), True),
    (dict(action="error", error="write_timeout", write_type="CAS"), False),
])
def test_unknown_complete_is_settled_and_the_job_ends_done(gateway, control, fault, applied):
    async def body():
        client, ks, ids, w = await start(gateway.endpoint)
        async with client:
            job = await w.claim(ids[0], schema.bucket_of(ids[0]))
            control.add_fault(query=complete_text(ks), count=1, **fault)
            assert await w.complete(job.id, "r") is True
            assert w.stats.completes_unknown == 1
            entries = control.log(opcode="EXECUTE", query=complete_text(ks))
            # applied behind a timeout: one complete; not applied: retried once
            assert len(entries) == (1 if applied else 2)
            r = await row(client, ks, ids[0])
            assert (r.status, r.owner, r.result, r.progress) == ("done", "me-1", "r", 100)
    asyncio.run(body())


def test_a_full_job_records_one_completion_and_leaves_the_pending_list(gateway, control):
    async def body():
        client, ks, ids, w = await start(gateway.endpoint)
        async with client:
            bucket = schema.bucket_of(ids[0])
            await w.process(ids[0], bucket)
            r = await row(client, ks, ids[0])
            payload = (await client.execute(f"SELECT payload FROM {ks}.jobs WHERE id = ?",
                                            [ids[0]])).one().payload
            assert (r.status, r.result) == ("done", schema.expected_result(payload))
            runs = (await client.execute(f"SELECT owner FROM {ks}.completions WHERE job_id = ?",
                                         [ids[0]])).all()
            assert [x.owner for x in runs] == ["me-1"]
            left = (await client.execute(f"SELECT id FROM {ks}.pending_jobs WHERE bucket = ?",
                                         [bucket])).all()
            assert ids[0] not in [x.id for x in left]
            assert w.stats.progress_reports == 2 and w.stats.completed == 1
    asyncio.run(body())


def test_a_serial_read_that_keeps_failing_stops_the_worker_instead_of_guessing(gateway, control):
    async def body():
        client, ks, ids, w = await start(gateway.endpoint)
        async with client:
            w.settle_attempts = 3
            control.add_fault("error", error="write_timeout", write_type="CAS",
                              query=claim_text(ks), count=1)
            control.add_fault("error", error="read_timeout", received=0, block_for=1,
                              query=f"FROM {ks}.jobs WHERE id")
            with pytest.raises(SettleError):
                await w.claim(ids[0], schema.bucket_of(ids[0]))
    asyncio.run(body())


def test_a_claim_rejected_before_running_is_left_for_later(gateway, control):
    async def body():
        client, ks, ids, w = await start(gateway.endpoint)
        async with client:
            control.add_fault("error", error="unavailable", required=1, alive=0,
                              query=claim_text(ks), count=1)
            assert await w.claim(ids[0], schema.bucket_of(ids[0])) is None
            assert w.stats.not_run == 1 and not w.stats.claims_unknown
            assert (await row(client, ks, ids[0])).status == "pending"
    asyncio.run(body())
