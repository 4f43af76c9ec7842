"""Health records over cqlmq: a FastAPI service on Cassandra, through cqlmqd.

    python3 -m uvicorn app:app --port 8000        # cqlmqd must be running

Patients, their prescriptions and their test reports. What it shows:

  - one cqlmq client per process, opened at startup (lifespan) and shared by
    every request: no connection per request, no thread pool, nothing that
    blocks the event loop;
  - every statement prepared once, at startup;
  - GET /patients/{id}/record reads the patient, the latest prescriptions and
    the latest test reports at the same time (asyncio.gather): the request
    takes as long as the slowest read, not the sum;
  - cursor pagination: listings return `next_cursor`, Cassandra's paging
    state in base64url, to pass back as `?cursor=`; it works on any process
    of the service, since the state travels with the request;
  - HTTP errors: 422 for invalid input (FastAPI's validation), 400 for a bad
    cursor, 404 for an unknown patient, 503 (with Retry-After) when the
    database is unavailable or too slow.

Settings (environment): CQLMQ_ENDPOINT (default tcp://127.0.0.1:5570, where
`make run` binds cqlmqd), HEALTH_KEYSPACE (default health), CQLMQ_TIMEOUT
(request timeout in seconds, default 2), HEALTH_CREATE_SCHEMA (1: create the
tables at startup if missing, the default; 0: expect them).
"""

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import datetime as dt
import logging
import math
import os
import uuid
from typing import List, Literal, Optional

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, validator

import cqlmq
import schema

log = logging.getLogger("health")


# ---- settings and database handle ----------------------------------------------


@dataclasses.dataclass(frozen=True)
class Settings:
    endpoint: str
    keyspace: str
    timeout: float
    create_schema: bool

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(endpoint=os.environ.get("CQLMQ_ENDPOINT", schema.DEFAULT_ENDPOINT),
                   keyspace=schema.keyspace_name(
                       os.environ.get("HEALTH_KEYSPACE", schema.DEFAULT_KEYSPACE)),
                   timeout=float(os.environ.get("CQLMQ_TIMEOUT", "2")),
                   create_schema=os.environ.get("HEALTH_CREATE_SCHEMA", "1") != "0")


class Statements:
    """Every statement of the service, prepared once at startup. (cqlmqd
    keeps prepared statements in a cache shared by all its clients, and the
    client prepares again by itself if cqlmqd restarted.)"""

    async def prepare(self, client: cqlmq.Client, ks: str) -> "Statements":
        p = client.prepare
        self.insert_patient = await p(
            f"INSERT INTO {ks}.patients (patient_id, name, birth_date, created_at)"
            " VALUES (?, ?, ?, ?)")
        self.get_patient = await p(
            f"SELECT patient_id, name, birth_date, created_at FROM {ks}.patients"
            " WHERE patient_id = ?")
        self.list_patients = await p(
            f"SELECT patient_id, name, birth_date, created_at FROM {ks}.patients")
        self.insert_prescription = await p(
            f"INSERT INTO {ks}.prescriptions_by_patient (patient_id, prescribed_at,"
            " prescription_id, drug, dose, prescriber) VALUES (?, ?, ?, ?, ?, ?)")
        self.list_prescriptions = await p(
            f"SELECT patient_id, prescribed_at, prescription_id, drug, dose, prescriber"
            f" FROM {ks}.prescriptions_by_patient WHERE patient_id = ?")
        self.insert_report = await p(
            f"INSERT INTO {ks}.test_reports_by_patient (patient_id, reported_at, report_id,"
            " test, value, unit, flag) VALUES (?, ?, ?, ?, ?, ?, ?)")
        self.list_reports = await p(
            f"SELECT patient_id, reported_at, report_id, test, value, unit, flag"
            f" FROM {ks}.test_reports_by_patient WHERE patient_id = ?")
        return self


@dataclasses.dataclass
class Db:
    """What request handlers get (via Depends(get_db)): the process's one
    client and the prepared statements."""

    client: cqlmq.Client
    q: Statements


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    """Startup: connect once, create the schema if asked, prepare.
    Shutdown: close the client."""
    settings = Settings.from_env()
    client = await cqlmq.connect(settings.endpoint, timeout=settings.timeout,
                                 client_name="health-api", row_factory=cqlmq.dict_factory)
    try:
        if settings.create_schema:
            await schema.create_schema(client, settings.keyspace)
        app.state.db = Db(client, await Statements().prepare(client, settings.keyspace))
        log.info("connected to cqlmqd at %s, keyspace %s", settings.endpoint, settings.keyspace)
        yield
    finally:
        await client.close()


def get_db(request: Request) -> Db:
    return request.app.state.db


app = FastAPI(title="Health records (cqlmq example)")
# FastAPI(lifespan=...) exists from FastAPI 0.93 on; Debian 12 ships 0.92, whose
# router takes the same context manager like this.
app.router.lifespan_context = lifespan


# ---- API models (pydantic validates input: failures are 422) --------------------


def utcnow() -> dt.datetime:
    """Now, to the millisecond: what Cassandra keeps of a timestamp, so what
    a POST answers is what a later GET returns."""
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _utc_ms(v: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """A timestamp in UTC to the millisecond (naive ones are taken as UTC)."""
    if v is None:
        return None
    v = v.replace(tzinfo=dt.timezone.utc) if v.tzinfo is None else v.astimezone(dt.timezone.utc)
    return v.replace(microsecond=v.microsecond // 1000 * 1000)


class PatientIn(BaseModel):
    name: str = Field(..., min_length=1, max_length=200)
    birth_date: dt.date

    @validator("name")
    def name_not_blank(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("name must not be blank")
        return v

    @validator("birth_date")
    def birth_date_plausible(cls, v: dt.date) -> dt.date:
        if not dt.date(1900, 1, 1) <= v <= dt.date.today():
            raise ValueError("birth_date must be between 1900-01-01 and today")
        return v


class Patient(PatientIn):
    patient_id: uuid.UUID
    created_at: dt.datetime


class PrescriptionIn(BaseModel):
    drug: str = Field(..., min_length=1, max_length=200)
    dose: str = Field(..., min_length=1, max_length=100)
    prescriber: str = Field(..., min_length=1, max_length=200)
    prescribed_at: Optional[dt.datetime] = None  # default: now

    _utc = validator("prescribed_at", allow_reuse=True)(_utc_ms)


class Prescription(PrescriptionIn):
    patient_id: uuid.UUID
    prescription_id: uuid.UUID
    prescribed_at: dt.datetime


class ReportIn(BaseModel):
    test: str = Field(..., min_length=1, max_length=100)
    value: float
    unit: str = Field("", max_length=20)
    flag: Literal["normal", "low", "high", "critical"] = "normal"
    reported_at: Optional[dt.datetime] = None  # default: now

    _utc = validator("reported_at", allow_reuse=True)(_utc_ms)

    @validator("value")
    def value_finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("value must be a finite number")
        return v


class Report(ReportIn):
    patient_id: uuid.UUID
    report_id: uuid.UUID
    reported_at: dt.datetime


class PatientPage(BaseModel):
    items: List[Patient]
    next_cursor: Optional[str]  # None: this was the last page


class PrescriptionPage(BaseModel):
    items: List[Prescription]
    next_cursor: Optional[str]


class ReportPage(BaseModel):
    items: List[Report]
    next_cursor: Optional[str]


class Record(BaseModel):
    """A patient with the latest prescriptions and test reports; each list's
    next_cursor continues in /prescriptions or /test-reports."""

    patient: Patient
    prescriptions: PrescriptionPage
    test_reports: ReportPage


Limit = Query(20, ge=1, le=100, description="items per page")
Cursor = Query(None, description="next_cursor of the previous page")


# ---- cursors ---------------------------------------------------------------------
#
# A cursor is base64url("<listing>." + Cassandra's paging state), without
# padding. The listing tag makes a cursor of one listing useless in another
# (400, not a confusing page). It is opaque to clients, not secret: do not put
# anything in a paging state that a client must not see or forge.

MAX_CURSOR = 1024  # characters


def encode_cursor(listing: str, paging_state: Optional[bytes]) -> Optional[str]:
    if paging_state is None:
        return None
    raw = listing.encode() + b"." + paging_state
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(listing: str, cursor: Optional[str]) -> Optional[bytes]:
    """The paging state in a cursor (None for no cursor); 400 if it is not
    one of this listing's cursors."""
    if cursor is None:
        return None
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
    except (ValueError, binascii.Error):
        raise HTTPException(400, "invalid cursor") from None
    prefix = listing.encode() + b"."
    if not raw.startswith(prefix) or len(raw) == len(prefix):
        raise HTTPException(400, "invalid cursor")
    return raw[len(prefix):]


async def fetch_page(db: Db, stmt: cqlmq.PreparedStatement, params: list, listing: str,
                     limit: int, cursor: Optional[str]) -> tuple:
    """One page of a listing: (rows as dicts, next cursor or None)."""
    state = decode_cursor(listing, cursor)
    try:
        r = await db.client.execute(stmt, params, page_size=limit, paging_state=state,
                                    idempotent=True)
    except cqlmq.ProtocolError:
        if state is None:
            raise
        raise HTTPException(400, "invalid cursor") from None  # Cassandra rejected the state
    return r.all(), encode_cursor(listing, r.paging_state)


async def fetch_patient(db: Db, patient_id: uuid.UUID) -> Optional[dict]:
    r = await db.client.execute(db.q.get_patient, [patient_id], idempotent=True)
    return r.one()


def found(patient: Optional[dict]) -> dict:
    if patient is None:
        raise HTTPException(404, "no such patient")
    return patient


# ---- endpoints -------------------------------------------------------------------


@app.get("/healthz")
async def healthz(db: Db = Depends(get_db)):
    rtt = await db.client.ping()
    return {"status": "ok", "cqlmqd_rtt_ms": round(rtt * 1000, 3)}


@app.post("/patients", response_model=Patient, status_code=201)
async def create_patient(body: PatientIn, db: Db = Depends(get_db)):
    patient = Patient(patient_id=uuid.uuid4(), created_at=utcnow(), **body.dict())
    await db.client.execute(db.q.insert_patient, [patient.patient_id, patient.name,
                                                  patient.birth_date, patient.created_at])
    return patient


@app.get("/patients", response_model=PatientPage)
async def list_patients(limit: int = Limit, cursor: Optional[str] = Cursor,
                        db: Db = Depends(get_db)):
    """All patients, in Cassandra's token order (stable, not alphabetical)."""
    rows, next_cursor = await fetch_page(db, db.q.list_patients, [], "pt", limit, cursor)
    return {"items": rows, "next_cursor": next_cursor}


@app.get("/patients/{patient_id}", response_model=Patient)
async def get_patient(patient_id: uuid.UUID, db: Db = Depends(get_db)):
    return found(await fetch_patient(db, patient_id))


@app.get("/patients/{patient_id}/record", response_model=Record)
async def get_record(patient_id: uuid.UUID, limit: int = Query(10, ge=1, le=100),
                     db: Db = Depends(get_db)):
    """The patient, the latest `limit` prescriptions and the latest `limit`
    test reports: three reads of three tables, run concurrently."""
    patient, (rx, rx_next), (reports, reports_next) = await asyncio.gather(
        fetch_patient(db, patient_id),
        fetch_page(db, db.q.list_prescriptions, [patient_id], "rx", limit, None),
        fetch_page(db, db.q.list_reports, [patient_id], "lab", limit, None),
    )
    return {"patient": found(patient),
            "prescriptions": {"items": rx, "next_cursor": rx_next},
            "test_reports": {"items": reports, "next_cursor": reports_next}}


@app.post("/patients/{patient_id}/prescriptions", response_model=Prescription, status_code=201)
async def add_prescription(patient_id: uuid.UUID, body: PrescriptionIn,
                           db: Db = Depends(get_db)):
    found(await fetch_patient(db, patient_id))
    rx = Prescription(patient_id=patient_id, prescription_id=uuid.uuid4(),
                      **{**body.dict(), "prescribed_at": body.prescribed_at or utcnow()})
    await db.client.execute(db.q.insert_prescription, [
        rx.patient_id, rx.prescribed_at, rx.prescription_id, rx.drug, rx.dose, rx.prescriber])
    return rx


@app.get("/patients/{patient_id}/prescriptions", response_model=PrescriptionPage)
async def list_prescriptions(patient_id: uuid.UUID, limit: int = Limit,
                             cursor: Optional[str] = Cursor, db: Db = Depends(get_db)):
    """A patient's prescriptions, newest first."""
    patient, (rows, next_cursor) = await asyncio.gather(
        fetch_patient(db, patient_id),
        fetch_page(db, db.q.list_prescriptions, [patient_id], "rx", limit, cursor))
    found(patient)
    return {"items": rows, "next_cursor": next_cursor}


@app.post("/patients/{patient_id}/test-reports", response_model=Report, status_code=201)
async def add_test_report(patient_id: uuid.UUID, body: ReportIn, db: Db = Depends(get_db)):
    found(await fetch_patient(db, patient_id))
    report = Report(patient_id=patient_id, report_id=uuid.uuid4(),
                        **{**body.dict(), "reported_at": body.reported_at or utcnow()})
    await db.client.execute(db.q.insert_report, [
        report.patient_id, report.reported_at, report.report_id, report.test, report.value,
        report.unit, report.flag])
    return report


@app.get("/patients/{patient_id}/test-reports", response_model=ReportPage)
async def list_test_reports(patient_id: uuid.UUID, limit: int = Limit,
                            cursor: Optional[str] = Cursor, db: Db = Depends(get_db)):
    """A patient's test reports, newest first."""
    patient, (rows, next_cursor) = await asyncio.gather(
        fetch_patient(db, patient_id),
        fetch_page(db, db.q.list_reports, [patient_id], "lab", limit, cursor))
    found(patient)
    return {"items": rows, "next_cursor": next_cursor}


# ---- database errors -------------------------------------------------------------

# The database is down, overloaded or slow: the client may retry later.
RETRY_LATER = (cqlmq.Busy, cqlmq.NoHostAvailable, cqlmq.Unavailable, cqlmq.Timeout,
               cqlmq.OperationTimedOut, cqlmq.Overloaded, cqlmq.IsBootstrapping,
               cqlmq.ShuttingDown, cqlmq.Disconnected, cqlmq.ConnectionLost)


@app.exception_handler(cqlmq.CqlmqError)
async def database_error(request: Request, exc: cqlmq.CqlmqError):
    if isinstance(exc, RETRY_LATER):
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": "database unavailable, retry later"}, status_code=503,
                            headers={"Retry-After": "1"})
    log.error("%s %s: %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": "database error"}, status_code=500)
