"""The job queue's tables, and a command to create them, enqueue jobs and
show where the jobs are.

    python3 schema.py --jobs 1000      # create the tables, enqueue 1000 jobs
    python3 schema.py --status         # how many jobs are pending/running/done

Tables (keyspace from --keyspace or $JOBS_KEYSPACE, default "jobqueue"):

  jobs          one partition per job: the row the workers' lightweight
                transactions (LWT) compete for. status goes
                pending -> running -> done, and never back.
  pending_jobs  where workers find work: (bucket, job id) for every job not
                yet done, spread over BUCKETS partitions so that no partition
                grows without bound and workers can start at different
                buckets. The worker that completes a job deletes its entry.
  completions   one row per execution of a job's work (run_id is new for
                every execution): the audit trail that shows each job ran
                exactly once, and by whom.

An LWT serialises writes per partition, so the contended row (jobs) is
alone in its partition; the discovery table (pending_jobs) is written
without LWT.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import sys
import uuid
from collections import Counter

import cqlmq

BUCKETS = 16  # partitions of pending_jobs

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5570"  # where `make run` binds cqlmqd
DEFAULT_KEYSPACE = "jobqueue"

# {ks} is the keyspace, checked by keyspace_name() before it is formatted in.
SCHEMA = (
    "CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication ="
    " {{'class': 'SimpleStrategy', 'replication_factor': 1}}",
    """CREATE TABLE IF NOT EXISTS {ks}.jobs (
        id uuid PRIMARY KEY,
        kind text,
        payload text,
        status text,            -- pending | running | done
        owner text,             -- the worker process that claimed it
        claimed_at timestamp,
        progress int,           -- percent, reported by the owner
        heartbeat_at timestamp, -- time of the last progress report
        result text,
        finished_at timestamp
    )""",
    """CREATE TABLE IF NOT EXISTS {ks}.pending_jobs (
        bucket int,
        id uuid,
        PRIMARY KEY ((bucket), id)
    )""",
    """CREATE TABLE IF NOT EXISTS {ks}.completions (
        job_id uuid,
        run_id uuid,
        owner text,
        result text,
        completed_at timestamp,
        PRIMARY KEY ((job_id), run_id)
    )""",
)

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,47}")


def keyspace_name(name: str) -> str:
    """name if it is a plain CQL identifier, else ValueError (it is
    formatted into CQL text, so it must not carry anything else)."""
    if not _IDENT.fullmatch(name):
        raise ValueError(f"invalid keyspace name {name!r}")
    return name


def bucket_of(job_id: uuid.UUID) -> int:
    """The pending_jobs partition of a job."""
    return job_id.int % BUCKETS


def expected_result(payload: str) -> str:
    """What a job's work computes from its payload (the worker calls this;
    tests use it to check results)."""
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


async def create_schema(client: cqlmq.Client, keyspace: str) -> None:
    """Creates the keyspace and the tables if they do not exist."""
    ks = keyspace_name(keyspace)
    for ddl in SCHEMA:
        await client.execute(ddl.format(ks=ks), timeout=10)


async def enqueue(client: cqlmq.Client, keyspace: str, count: int, *, kind: str = "checksum",
                  concurrency: int = 64) -> list[uuid.UUID]:
    """Adds `count` pending jobs; returns their ids.

    The job row and its pending_jobs entry go in one logged batch, so a job
    is never findable without its row, nor stored without being findable."""
    ks = keyspace_name(keyspace)
    ins_job = await client.prepare(
        f"INSERT INTO {ks}.jobs (id, kind, payload, status, progress)"
        " VALUES (?, ?, ?, 'pending', 0)")
    ins_pending = await client.prepare(f"INSERT INTO {ks}.pending_jobs (bucket, id) VALUES (?, ?)")
    ids = [uuid.uuid4() for _ in range(count)]
    gate = asyncio.Semaphore(concurrency)

    async def add(n: int, job_id: uuid.UUID) -> None:
        async with gate:
            await client.batch([(ins_job, [job_id, kind, f"job {n} of {count}"]),
                                (ins_pending, [bucket_of(job_id), job_id])],
                               kind="logged", consistency="local_quorum", idempotent=True)

    await asyncio.gather(*(add(n, job_id) for n, job_id in enumerate(ids)))
    return ids


async def status(client: cqlmq.Client, keyspace: str) -> dict:
    """Counts of jobs by status, and the number of pending_jobs entries."""
    ks = keyspace_name(keyspace)
    counts: Counter = Counter()
    async with client.stream(f"SELECT status FROM {ks}.jobs", page_size=1000) as rows:
        async for row in rows:
            counts[row.status] += 1
    entries = 0
    for bucket in range(BUCKETS):
        r = await client.execute(f"SELECT count(*) FROM {ks}.pending_jobs WHERE bucket = ?",
                                 [bucket])
        entries += r.one().count
    return {"jobs": dict(counts), "pending_entries": entries}


async def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", default=os.environ.get("CQLMQ_ENDPOINT", DEFAULT_ENDPOINT))
    ap.add_argument("--keyspace", default=os.environ.get("JOBS_KEYSPACE", DEFAULT_KEYSPACE))
    ap.add_argument("--jobs", type=int, default=0, help="enqueue this many jobs")
    ap.add_argument("--status", action="store_true", help="print job counts by status")
    args = ap.parse_args(argv)
    async with cqlmq.connect(args.endpoint, timeout=5, client_name="jobqueue-schema") as client:
        await create_schema(client, args.keyspace)
        if args.jobs > 0:
            await enqueue(client, args.keyspace, args.jobs)
            print(f"enqueued {args.jobs} jobs in {args.keyspace}")
        if args.status:
            print(await status(client, args.keyspace))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
