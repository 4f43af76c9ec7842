"""A job-queue worker on Cassandra lightweight transactions, through cqlmqd.

    python3 schema.py --jobs 1000                   # tables + 1000 pending jobs
    python3 worker.py --processes 4 --exit-when-idle

Each worker process finds pending jobs in `pending_jobs`, then for each one:

  1. claims it:    UPDATE jobs SET status = 'running', owner = ?, ...
                   WHERE id = ? IF status = 'pending'
  2. runs it, reporting progress (UPDATE ... IF owner = ?), and records the
     execution in `completions`;
  3. completes it: UPDATE jobs SET status = 'done', ... WHERE id = ?
                   IF status = 'running' AND owner = ?
     and deletes its pending_jobs entry.

The hard part is a conditional write whose outcome is UNKNOWN: a timeout
(WriteTimeout, OperationTimedOut), CASWriteUnknown, or a connection lost
while the write was in flight. The write may have been applied or not, and
retrying it blindly is wrong either way (a retried claim would report "not
applied" because our own first attempt took the job). So the worker reads the
row back at SERIAL consistency -- which finishes any Paxos round still in
progress -- and believes what it sees: if the row names this process as the
owner, the claim happened and the job is ours; otherwise it moves on. The
owner name is unique per process, so "owner == me" cannot be an older claim.

With --processes N the parent forks N children (the pre-fork model of
Celery or gunicorn); each child opens its own cqlmq client after the fork,
which takes about a millisecond because the Cassandra connections live in
cqlmqd. The parent never opens one. Each child prints one JSON line of
counts on stdout when it ends; the parent prints a summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import logging
import multiprocessing
import os
import random
import socket
import sys
import time
import uuid
from collections import Counter
from typing import Optional

import cqlmq

from schema import BUCKETS, DEFAULT_ENDPOINT, DEFAULT_KEYSPACE, expected_result, keyspace_name

log = logging.getLogger("worker")

# A conditional write that failed with one of these may or may not have been
# applied: settle it with a SERIAL read.
UNKNOWN_OUTCOME = (
    cqlmq.CASWriteUnknown,    # Cassandra says so (protocol v5 name)
    cqlmq.WriteTimeout,       # Paxos or commit phase timed out (write_type CAS or SIMPLE)
    cqlmq.OperationTimedOut,  # the deadline passed in cqlmqd or in the client
    cqlmq.ConnectionLost,     # cqlmqd's Cassandra connection closed while it was in flight
    cqlmq.Disconnected,       # our connection to cqlmqd dropped while it was in flight
)

# These mean the request never ran: back off, and try again later.
NOT_RUN = (
    cqlmq.Busy,               # cqlmqd's in-flight bound: answered at once
    cqlmq.NoHostAvailable,
    cqlmq.Unavailable,        # too few replicas alive to even start
    cqlmq.Overloaded,
    cqlmq.IsBootstrapping,
    cqlmq.ShuttingDown,
)

# Worth retrying for an idempotent request (a read, or a write of fixed values).
TRANSIENT = UNKNOWN_OUTCOME + NOT_RUN + (cqlmq.ReadTimeout,)


class SettleError(Exception):
    """A SERIAL read kept failing: the outcome could not be settled. The
    worker stops rather than guess."""


@dataclasses.dataclass
class Stats:
    """What one worker process did (printed as JSON at the end)."""

    worker: str
    claims: int = 0              # claim attempts
    claims_won: int = 0          # applied (answer received)
    claims_lost: int = 0         # not applied: another worker had it (or it was done)
    claims_unknown: Counter = dataclasses.field(default_factory=Counter)  # by exception name
    settled_won: int = 0         # unknown claim, SERIAL read shows it was applied: ours
    settled_lost: int = 0        # unknown claim, SERIAL read shows it was not: moved on
    not_run: int = 0             # rejected before running (busy, no host, ...): retried later
    progress_reports: int = 0
    completed: int = 0
    completes_unknown: int = 0   # complete whose outcome was unknown (settled the same way)
    lost_ownership: int = 0      # a job we owned turned out to be someone else's
    seconds: float = 0.0

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["claims_unknown"] = dict(self.claims_unknown)
        return d


def utcnow() -> dt.datetime:
    """Now, to the millisecond (what Cassandra keeps of a timestamp)."""
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Statements:
    """The worker's prepared statements (prepared once, at start)."""

    async def prepare(self, client: cqlmq.Client, ks: str) -> "Statements":
        p = client.prepare
        self.scan = await p(f"SELECT id FROM {ks}.pending_jobs WHERE bucket = ?")
        self.claim = await p(
            f"UPDATE {ks}.jobs SET status = 'running', owner = ?, claimed_at = ?, heartbeat_at = ?"
            " WHERE id = ? IF status = 'pending'")
        self.read = await p(f"SELECT id, payload, status, owner FROM {ks}.jobs WHERE id = ?")
        self.progress = await p(
            f"UPDATE {ks}.jobs SET progress = ?, heartbeat_at = ? WHERE id = ? IF owner = ?")
        self.record = await p(
            f"INSERT INTO {ks}.completions (job_id, run_id, owner, result, completed_at)"
            " VALUES (?, ?, ?, ?, ?)")
        self.complete = await p(
            f"UPDATE {ks}.jobs SET status = 'done', progress = 100, result = ?, finished_at = ?"
            " WHERE id = ? IF status = 'running' AND owner = ?")
        self.unlist = await p(f"DELETE FROM {ks}.pending_jobs WHERE bucket = ? AND id = ?")
        return self


class Worker:
    """One worker process's loop: find, claim, run, complete."""

    def __init__(self, client: cqlmq.Client, stmts: Statements, owner: str, *,
                 concurrency: int = 8, cas_timeout: float = 2.0, work_ms: float = 2.0,
                 progress_steps: int = 2, first_bucket: int = 0,
                 settle_attempts: int = 20) -> None:
        self.db = client
        self.q = stmts
        self.owner = owner                # unique per process
        self.concurrency = concurrency    # jobs in progress at once
        self.cas_timeout = cas_timeout    # deadline of each conditional write (seconds)
        self.work_ms = work_ms            # simulated work per job
        self.progress_steps = progress_steps
        self.first_bucket = first_bucket  # workers start at different buckets
        self.settle_attempts = settle_attempts  # SERIAL reads before giving up
        self.stats = Stats(worker=owner)

    # ---- the loop ------------------------------------------------------

    async def run(self, *, exit_when_idle: bool = False, poll_interval: float = 1.0) -> Stats:
        """Processes jobs until none is pending (exit_when_idle) or forever."""
        t0 = time.monotonic()
        while True:
            listed = 0
            done_before = self.stats.completed
            for i in range(BUCKETS):
                bucket = (self.first_bucket + i) % BUCKETS
                ids = await self.pending_in(bucket)
                listed += len(ids)
                random.shuffle(ids)  # fewer collisions with workers in the same bucket
                await self.process_all(ids, bucket)
            if listed == 0 and exit_when_idle:
                break
            if self.stats.completed == done_before:
                # nothing pending, or only jobs that others are running
                await asyncio.sleep(poll_interval if listed == 0 else 0.05)
        self.stats.seconds = round(time.monotonic() - t0, 3)
        return self.stats

    async def pending_in(self, bucket: int) -> list:
        """Job ids listed in one pending_jobs partition (a read: retried)."""
        return await self._retry(lambda: self._scan(bucket))

    async def _scan(self, bucket: int) -> list:
        ids = []
        async with self.db.stream(self.q.scan, [bucket], page_size=1000, idempotent=True) as rows:
            async for row in rows:
                ids.append(row.id)
        return ids

    async def process_all(self, ids: list, bucket: int) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(job_id: uuid.UUID) -> None:
            async with gate:
                await self.process(job_id, bucket)

        async with asyncio.TaskGroup() as tg:
            for job_id in ids:
                tg.create_task(one(job_id))

    async def process(self, job_id: uuid.UUID, bucket: int) -> None:
        job = await self.claim(job_id, bucket)
        if job is None:
            return
        run_id = uuid.uuid4()
        result = await self.work(job)
        if result is None:
            return  # ownership lost while working
        await self._idempotent(self.q.record, [job_id, run_id, self.owner, result, utcnow()])
        if await self.complete(job_id, result):
            self.stats.completed += 1
            await self._idempotent(self.q.unlist, [bucket, job_id])

    # ---- claim ---------------------------------------------------------

    async def claim(self, job_id: uuid.UUID, bucket: int):
        """Tries to take the job. Returns its row (id, payload, ...) if this
        worker owns it now, else None."""
        self.stats.claims += 1
        now = utcnow()
        try:
            r = await self.db.execute(self.q.claim, [self.owner, now, now, job_id],
                                      timeout=self.cas_timeout)
        except UNKNOWN_OUTCOME as e:
            self.stats.claims_unknown[type(e).__name__] += 1
            row = await self.settle(job_id)
            if row is not None and row.status == "running" and row.owner == self.owner:
                self.stats.settled_won += 1
                log.info("claim %s: %s, SERIAL read shows it applied: ours", job_id, e.code)
                return row
            self.stats.settled_lost += 1
            log.info("claim %s: %s, SERIAL read shows %s/%s: moving on", job_id, e.code,
                     row and row.status, row and row.owner)
            await self._forget_if_done(row, job_id, bucket)
            return None
        except NOT_RUN as e:
            self.stats.not_run += 1
            log.info("claim %s not run (%s): later", job_id, e.code)
            await asyncio.sleep(0.05 + random.random() * 0.1)
            return None
        if not r.applied:
            self.stats.claims_lost += 1  # r.one() holds the status that failed the condition
            await self._forget_if_done(r.one(), job_id, bucket)
            return None
        self.stats.claims_won += 1
        return await self._read(job_id)

    async def settle(self, job_id: uuid.UUID):
        """The job's row read at SERIAL consistency: the outcome of every
        conditional write before it is decided. Retried until it answers;
        raises SettleError if it never does (never guesses)."""
        delay = 0.05
        for _ in range(self.settle_attempts):
            try:
                r = await self.db.execute(self.q.read, [job_id], consistency="serial",
                                          timeout=self.cas_timeout, idempotent=True)
                return r.one()
            except TRANSIENT as e:
                log.info("SERIAL read of %s failed (%s): retrying", job_id, e.code)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise SettleError(f"could not settle the outcome for job {job_id}")

    async def _forget_if_done(self, row, job_id: uuid.UUID, bucket: int) -> None:
        """A pending_jobs entry of a finished job is stale (its completer's
        delete failed): remove it."""
        if row is not None and row.status == "done":
            await self._idempotent(self.q.unlist, [bucket, job_id])

    # ---- work and progress -------------------------------------------------

    async def work(self, job) -> Optional[str]:
        """Runs the job (here: sleeps, then hashes the payload), reporting
        progress. Returns the result, or None if the job is not ours any more."""
        for step in range(1, self.progress_steps + 1):
            await asyncio.sleep(self.work_ms / 1000 / (self.progress_steps + 1))
            if not await self.report_progress(job.id, 100 * step // (self.progress_steps + 1)):
                return None
        await asyncio.sleep(self.work_ms / 1000 / (self.progress_steps + 1))
        return expected_result(job.payload)

    async def report_progress(self, job_id: uuid.UUID, percent: int) -> bool:
        """False only if the row says another worker owns the job. An
        unknown outcome is fine: progress is advisory, completion decides."""
        try:
            r = await self.db.execute(self.q.progress, [percent, utcnow(), job_id, self.owner],
                                      timeout=self.cas_timeout)
        except UNKNOWN_OUTCOME + NOT_RUN as e:
            log.info("progress of %s: %s (ignored)", job_id, e.code)
            return True
        self.stats.progress_reports += 1
        if not r.applied:
            self.stats.lost_ownership += 1
            log.warning("job %s is not ours any more: %s", job_id, r.one())
        return bool(r.applied)

    # ---- complete ----------------------------------------------------------

    async def complete(self, job_id: uuid.UUID, result: str) -> bool:
        """Marks the job done. True once the row says done by us."""
        for _ in range(20):
            try:
                r = await self.db.execute(self.q.complete, [result, utcnow(), job_id, self.owner],
                                          timeout=self.cas_timeout)
            except UNKNOWN_OUTCOME as e:
                self.stats.completes_unknown += 1
                row = await self.settle(job_id)
                if row is not None and row.owner == self.owner and row.status == "done":
                    return True   # it was applied
                if row is not None and row.owner == self.owner and row.status == "running":
                    continue      # it was not: still ours, complete again
                self.stats.lost_ownership += 1
                log.warning("complete %s: %s, SERIAL read shows %s", job_id, e.code, row)
                return False
            except NOT_RUN:
                await asyncio.sleep(0.05 + random.random() * 0.1)
                continue
            if r.applied:
                return True
            self.stats.lost_ownership += 1
            log.warning("complete %s not applied: %s", job_id, r.one())
            return False
        raise SettleError(f"could not complete job {job_id}")

    # ---- helpers -----------------------------------------------------------

    async def _read(self, job_id: uuid.UUID):
        """The job's row (a plain read: retried)."""
        r = await self._retry(lambda: self.db.execute(self.q.read, [job_id], idempotent=True))
        return r.one()

    async def _idempotent(self, stmt: cqlmq.PreparedStatement, params: list) -> None:
        """Runs a write that may safely run twice (fixed values), retrying."""
        await self._retry(lambda: self.db.execute(stmt, params, idempotent=True))

    async def _retry(self, make, attempts: int = 20):
        """`await make()`, retrying TRANSIENT errors with backoff. Only for
        idempotent requests: a retried one may run twice."""
        delay = 0.05
        for _ in range(attempts):
            try:
                return await make()
            except TRANSIENT as e:
                log.info("retrying after %s", e.code)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise SettleError(f"gave up after {attempts} attempts")


# ---- running it ----------------------------------------------------------------


async def run_worker(args: argparse.Namespace, index: int) -> Stats:
    """One worker process: its own client, its own statements, its own loop."""
    owner = f"{args.name}{index}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    async with cqlmq.connect(args.endpoint, timeout=args.timeout, client_name=owner,
                             default_consistency="local_quorum") as client:
        stmts = await Statements().prepare(client, keyspace_name(args.keyspace))
        worker = Worker(client, stmts, owner, concurrency=args.concurrency,
                        cas_timeout=args.cas_timeout, work_ms=args.work_ms,
                        first_bucket=index * BUCKETS // max(args.processes, 1))
        return await worker.run(exit_when_idle=args.exit_when_idle)


def child_main(args: argparse.Namespace, index: int) -> None:
    """Entry point of a forked child: runs one worker, prints its counts."""
    logging.basicConfig(level=args.log_level.upper(),
                        format=f"%(asctime)s {args.name}{index} %(levelname)s %(message)s")
    stats = asyncio.run(run_worker(args, index))
    print(json.dumps(stats.as_dict()), flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Run job-queue workers (see the module docstring).")
    ap.add_argument("--endpoint", default=os.environ.get("CQLMQ_ENDPOINT", DEFAULT_ENDPOINT),
                    help="cqlmqd endpoint ($CQLMQ_ENDPOINT, default %(default)s)")
    ap.add_argument("--keyspace", default=os.environ.get("JOBS_KEYSPACE", DEFAULT_KEYSPACE),
                    help="keyspace ($JOBS_KEYSPACE, default %(default)s)")
    ap.add_argument("--processes", type=int, default=1, help="worker processes to fork")
    ap.add_argument("--concurrency", type=int, default=8, help="jobs in progress per process")
    ap.add_argument("--timeout", type=float, default=5.0, help="request timeout, seconds")
    ap.add_argument("--cas-timeout", type=float, default=2.0,
                    help="timeout of conditional writes and SERIAL reads, seconds")
    ap.add_argument("--work-ms", type=float, default=2.0, help="simulated work per job")
    ap.add_argument("--exit-when-idle", action="store_true",
                    help="stop when no job is pending (default: poll forever)")
    ap.add_argument("--name", default="w", help="prefix of the owner names")
    ap.add_argument("--log-level", default="warning")
    args = ap.parse_args(argv)
    if args.processes < 1 or args.concurrency < 1:
        ap.error("--processes and --concurrency must be at least 1")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.processes == 1:
        child_main(args, 0)
        return 0
    # Pre-fork: the parent holds no client, so each child starts clean.
    ctx = multiprocessing.get_context("fork")
    t0 = time.monotonic()
    children = [ctx.Process(target=child_main, args=(args, i), name=f"{args.name}{i}")
                for i in range(args.processes)]
    for c in children:
        c.start()
    for c in children:
        c.join()
    failed = [c.name for c in children if c.exitcode != 0]
    print(json.dumps({"summary": {"processes": args.processes, "failed": failed,
                                  "seconds": round(time.monotonic() - t0, 3)}}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
