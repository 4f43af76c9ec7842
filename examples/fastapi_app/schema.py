"""The health-records tables, and a command to create them and add sample data.

    python3 schema.py                  # create the keyspace and tables
    python3 schema.py --seed 100       # ... and add 100 patients with records

The keyspace comes from --keyspace or $HEALTH_KEYSPACE (default "health"),
cqlmqd's endpoint from --endpoint or $CQLMQ_ENDPOINT.

One table per query, as Cassandra wants:

  patients                      one partition per patient (listing them all
                                pages through the token ring)
  prescriptions_by_patient      a patient's prescriptions, newest first
  test_reports_by_patient       a patient's test reports, newest first

Rows of one patient's history share a partition, so "the latest 20" is one
read of one partition, and the rest follow page by page.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import sys
import uuid

import cqlmq

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5570"  # where `make run` binds cqlmqd
DEFAULT_KEYSPACE = "health"

# {ks} is the keyspace, checked by keyspace_name() before it is formatted in.
SCHEMA = (
    "CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication ="
    " {{'class': 'SimpleStrategy', 'replication_factor': 1}}",
    """CREATE TABLE IF NOT EXISTS {ks}.patients (
        patient_id uuid PRIMARY KEY,
        name text,
        birth_date date,
        created_at timestamp
    )""",
    """CREATE TABLE IF NOT EXISTS {ks}.prescriptions_by_patient (
        patient_id uuid,
        prescribed_at timestamp,
        prescription_id uuid,
        drug text,
        dose text,
        prescriber text,
        PRIMARY KEY ((patient_id), prescribed_at, prescription_id)
    ) WITH CLUSTERING ORDER BY (prescribed_at DESC, prescription_id ASC)""",
    """CREATE TABLE IF NOT EXISTS {ks}.test_reports_by_patient (
        patient_id uuid,
        reported_at timestamp,
        report_id uuid,
        test text,
        value double,
        unit text,
        flag text,
        PRIMARY KEY ((patient_id), reported_at, report_id)
    ) WITH CLUSTERING ORDER BY (reported_at DESC, report_id ASC)""",
)

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,47}")


def keyspace_name(name: str) -> str:
    """name if it is a plain CQL identifier, else ValueError (it is
    formatted into CQL text, so it must not carry anything else)."""
    if not _IDENT.fullmatch(name):
        raise ValueError(f"invalid keyspace name {name!r}")
    return name


async def create_schema(client: cqlmq.Client, keyspace: str) -> None:
    """Creates the keyspace and the tables if they do not exist."""
    ks = keyspace_name(keyspace)
    for ddl in SCHEMA:
        await client.execute(ddl.format(ks=ks), timeout=10)


# ---- sample data ---------------------------------------------------------------

_FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"]
_LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]
_DRUGS = [("amoxicillin", "500 mg 3x/day"), ("metformin", "850 mg 2x/day"),
          ("lisinopril", "10 mg 1x/day"), ("atorvastatin", "20 mg 1x/day"),
          ("levothyroxine", "50 ug 1x/day")]
_TESTS = [("hemoglobin", "g/dL", 12.0, 17.5), ("glucose", "mg/dL", 70.0, 140.0),
          ("ldl", "mg/dL", 50.0, 190.0), ("tsh", "mIU/L", 0.4, 4.0)]


async def seed(client: cqlmq.Client, keyspace: str, patients: int, *, max_items: int = 12,
               rng: random.Random | None = None) -> list[uuid.UUID]:
    """Adds `patients` patients, each with 0..max_items prescriptions and
    test reports; returns the patient ids."""
    ks = keyspace_name(keyspace)
    rng = rng or random.Random()
    ins_patient = await client.prepare(
        f"INSERT INTO {ks}.patients (patient_id, name, birth_date, created_at) VALUES (?, ?, ?, ?)")
    ins_rx = await client.prepare(
        f"INSERT INTO {ks}.prescriptions_by_patient (patient_id, prescribed_at, prescription_id,"
        " drug, dose, prescriber) VALUES (?, ?, ?, ?, ?, ?)")
    ins_report = await client.prepare(
        f"INSERT INTO {ks}.test_reports_by_patient (patient_id, reported_at, report_id, test,"
        " value, unit, flag) VALUES (?, ?, ?, ?, ?, ?, ?)")
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    gate = asyncio.Semaphore(64)  # writes in flight at once

    async def write(stmt, params) -> None:
        async with gate:
            await client.execute(stmt, params, idempotent=True)

    writes = []
    ids = []
    for _ in range(patients):
        pid = uuid.uuid4()
        ids.append(pid)
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 80))
        writes.append(write(ins_patient, [pid, name, born, now]))
        for _ in range(rng.randrange(max_items + 1)):
            drug, dose = rng.choice(_DRUGS)
            at = now - dt.timedelta(minutes=rng.randrange(60 * 24 * 365))
            writes.append(write(ins_rx, [pid, at, uuid.uuid4(), drug, dose, "Dr. Snow"]))
        for _ in range(rng.randrange(max_items + 1)):
            test, unit, low, high = rng.choice(_TESTS)
            value = round(rng.uniform(low * 0.8, high * 1.2), 1)
            flag = "low" if value < low else "high" if value > high else "normal"
            at = now - dt.timedelta(minutes=rng.randrange(60 * 24 * 365))
            writes.append(write(ins_report, [pid, at, uuid.uuid4(), test, value, unit, flag]))
    await asyncio.gather(*writes)
    return ids


async def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Create the health-records tables; add sample data.")
    ap.add_argument("--endpoint", default=os.environ.get("CQLMQ_ENDPOINT", DEFAULT_ENDPOINT))
    ap.add_argument("--keyspace", default=os.environ.get("HEALTH_KEYSPACE", DEFAULT_KEYSPACE))
    ap.add_argument("--seed", type=int, default=0, metavar="N", help="add N sample patients")
    args = ap.parse_args(argv)
    async with cqlmq.connect(args.endpoint, timeout=5, client_name="health-schema") as client:
        await create_schema(client, args.keyspace)
        print(f"schema ready in keyspace {args.keyspace}")
        if args.seed > 0:
            ids = await seed(client, args.keyspace, args.seed)
            print(f"added {len(ids)} patients, e.g. {ids[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
