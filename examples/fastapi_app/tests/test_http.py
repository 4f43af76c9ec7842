"""The service over real HTTP: uvicorn in a subprocess, httpx as the client,
cqlmqd with its embedded node as the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

import httpx
import pytest

import app as app_module

UNKNOWN = "0b3a4c2e-9a46-4d4f-8d2a-3f6f5b1f7c10"


def new_patient(http, name="Ada Lovelace", birth_date="1915-12-10"):
    r = http.post("/patients", json={"name": name, "birth_date": birth_date})
    assert r.status_code == 201, r.text
    return r.json()


def walk(http, path, limit):
    """Every item of a listing, following next_cursor; also the page count."""
    items, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit} if cursor is None else {"limit": limit, "cursor": cursor}
        r = http.get(path, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


def test_a_created_patient_reads_back_as_it_was_answered(http):
    created = new_patient(http, name="  Grace Hopper ")
    assert created["name"] == "Grace Hopper"
    uuid.UUID(created["patient_id"])
    r = http.get(f"/patients/{created['patient_id']}")
    assert r.status_code == 200 and r.json() == created


@pytest.mark.parametrize("method,path,body", [
    ("post", "/patients", {"birth_date": "1990-01-01"}),                      # no name
    ("post", "/patients", {"name": "   ", "birth_date": "1990-01-01"}),       # blank name
    ("post", "/patients", {"name": "x" * 201, "birth_date": "1990-01-01"}),   # too long
    ("post", "/patients", {"name": "A", "birth_date": "1990-02-30"}),         # no such date
    ("post", "/patients", {"name": "A", "birth_date": "2999-01-01"}),         # in the future
    ("get", "/patients/not-a-uuid", None),
    ("get", "/patients/not-a-uuid/record", None),
    ("get", "/patients?limit=0", None),
    ("get", "/patients?limit=101", None),
    ("get", "/patients?limit=ten", None),
    ("get", f"/patients/{UNKNOWN}/record?limit=0", None),
])
def test_invalid_input_is_422(http, method, path, body):
    r = http.request(method.upper(), path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"]


@pytest.mark.parametrize("body", [
    {"drug": "", "dose": "1 mg", "prescriber": "Dr. A"},
    {"drug": "x", "prescriber": "Dr. A"},
    {"drug": "x", "dose": "1 mg", "prescriber": "Dr. A", "prescribed_at": "yesterday"},
])
def test_invalid_prescription_is_422(http, body):
    p = new_patient(http)
    r = http.post(f"/patients/{p['patient_id']}/prescriptions", json=body)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("body", [
    {"test": "glucose", "value": "high"},
    {"test": "glucose", "value": float("nan")},
    {"test": "glucose", "value": 5.0, "flag": "weird"},
])
def test_invalid_test_report_is_422(http, body):
    p = new_patient(http)
    r = http.post(f"/patients/{p['patient_id']}/test-reports", json=body)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("method,path,body", [
    ("get", f"/patients/{UNKNOWN}", None),
    ("get", f"/patients/{UNKNOWN}/record", None),
    ("get", f"/patients/{UNKNOWN}/prescriptions", None),
    ("get", f"/patients/{UNKNOWN}/test-reports", None),
    ("post", f"/patients/{UNKNOWN}/prescriptions",
     {"drug": "x", "dose": "1 mg", "prescriber": "Dr. A"}),
    ("post", f"/patients/{UNKNOWN}/test-reports", {"test": "glucose", "value": 5.0}),
])
def test_unknown_patient_is_404(http, method, path, body):
    r = http.request(method.upper(), path, json=body)
    assert r.status_code == 404 and r.json() == {"detail": "no such patient"}


def test_listing_walks_every_patient_exactly_once(http, seeded):
    items, pages = walk(http, "/patients", limit=7)
    ids = [p["patient_id"] for p in items]
    assert len(ids) == len(set(ids))
    assert {str(i) for i in seeded} <= set(ids)
    assert pages >= len(seeded) // 7


def test_record_gives_the_latest_items_and_cursors_that_continue_them(http):
    p = new_patient(http)
    pid = p["patient_id"]
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    for i in range(25):
        r = http.post(f"/patients/{pid}/prescriptions", json={
            "drug": f"drug {i}", "dose": "1 mg", "prescriber": "Dr. A",
            "prescribed_at": (t0 + dt.timedelta(days=i)).isoformat()})
        assert r.status_code == 201, r.text
    for i in range(3):
        r = http.post(f"/patients/{pid}/test-reports", json={"test": "ldl", "value": 100 + i,
                                                              "unit": "mg/dL", "flag": "normal"})
        assert r.status_code == 201, r.text

    record = http.get(f"/patients/{pid}/record", params={"limit": 10}).json()
    assert record["patient"] == p
    first = [x["drug"] for x in record["prescriptions"]["items"]]
    assert first == [f"drug {i}" for i in range(24, 14, -1)]          # newest first
    assert len(record["test_reports"]["items"]) == 3
    assert record["test_reports"]["next_cursor"] is None

    rest, cursor = [], record["prescriptions"]["next_cursor"]
    while cursor:
        body = http.get(f"/patients/{pid}/prescriptions",
                        params={"limit": 10, "cursor": cursor}).json()
        rest += [x["drug"] for x in body["items"]]
        cursor = body["next_cursor"]
    assert first + rest == [f"drug {i}" for i in range(24, -1, -1)]

    everything, _ = walk(http, f"/patients/{pid}/prescriptions", limit=4)
    assert [x["drug"] for x in everything] == first + rest


def test_a_bad_cursor_is_400(http, seeded):
    pid = seeded[0]
    # a patient with more prescriptions than one page, for a real "rx" cursor
    p = new_patient(http)
    for i in range(3):
        http.post(f"/patients/{p['patient_id']}/prescriptions",
                  json={"drug": f"d{i}", "dose": "1", "prescriber": "Dr. B"})
    rx_cursor = http.get(f"/patients/{p['patient_id']}/prescriptions",
                         params={"limit": 1}).json()["next_cursor"]
    assert rx_cursor
    forged = app_module.encode_cursor("pt", b"\x01not a paging state")
    for path, cursor in [
        ("/patients", "!!!"),                           # not base64url
        ("/patients", "cHQ"),                           # "pt" without a paging state
        ("/patients", "A" * 2000),                      # too long
        ("/patients", rx_cursor),                       # another listing's cursor
        ("/patients", forged),                          # Cassandra rejects the state
        (f"/patients/{pid}/test-reports", rx_cursor),
    ]:
        r = http.get(path, params={"cursor": cursor})
        assert r.status_code == 400, (path, cursor, r.text)
        assert r.json() == {"detail": "invalid cursor"}


def test_the_record_reads_run_concurrently(http, seeded, control, keyspace):
    """Each of the three reads is delayed 400 ms by the node: run one after
    the other they would take 1.2 s; together, about 0.4 s."""
    pid = seeded[1]
    for table in ("patients", "prescriptions_by_patient", "test_reports_by_patient"):
        control.add_fault("latency", ms=400, query=f"FROM {keyspace}.{table} WHERE", count=1)
    t0 = time.monotonic()
    r = http.get(f"/patients/{pid}/record")
    elapsed = time.monotonic() - t0
    assert r.status_code == 200
    assert sum(f["hits"] for f in control.faults()) == 3
    assert 0.4 <= elapsed < 1.0, elapsed  # one after the other: >= 1.2 s


def test_an_unavailable_database_is_503_with_retry_after(http, seeded, control, keyspace):
    control.add_fault("error", error="unavailable", required=1, alive=0,
                      query=f"FROM {keyspace}.patients WHERE")
    r = http.get(f"/patients/{seeded[0]}")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    control.clear()
    assert http.get(f"/patients/{seeded[0]}").status_code == 200


def percentile(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p))]


def test_record_endpoint_latency(server, seeded):
    """Measures GET /patients/{id}/record: one client in sequence, then 16
    concurrent clients. Prints the numbers (run with -s)."""
    ids = [str(i) for i in seeded]
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for pid in ids[:10]:                      # warm up
            http.get(f"/patients/{pid}/record")
        samples = []
        for n in range(300):
            t0 = time.perf_counter()
            r = http.get(f"/patients/{ids[n % len(ids)]}/record")
            samples.append(time.perf_counter() - t0)
            assert r.status_code == 200
    p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)

    async def load(total=800, clients=16):
        async with httpx.AsyncClient(base_url=server.url, timeout=10,
                                     limits=httpx.Limits(max_connections=clients)) as http:
            gate = asyncio.Semaphore(clients)

            async def one(n):
                async with gate:
                    r = await http.get(f"/patients/{ids[n % len(ids)]}/record")
                    assert r.status_code == 200

            t0 = time.perf_counter()
            await asyncio.gather(*(one(n) for n in range(total)))
            return total / (time.perf_counter() - t0)

    rps = asyncio.run(load())
    print(f"\nGET /patients/{{id}}/record over HTTP (uvicorn, 1 process): "
          f"sequential p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms; "
          f"16 concurrent clients: {rps:.0f} requests/s")
    assert p50 < 0.1, p50
