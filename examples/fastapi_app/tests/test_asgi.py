"""The app in this process, through httpx's ASGI transport: its lifespan
opens exactly one cqlmq client, every request shares it, and shutdown
closes it."""

from __future__ import annotations

import asyncio

import httpx

import app as app_module
import cqlmq


def test_one_client_is_opened_at_startup_and_shared_by_every_request(
        gateway, keyspace, seeded, monkeypatch):
    monkeypatch.setenv("CQLMQ_ENDPOINT", gateway.endpoint)
    monkeypatch.setenv("HEALTH_KEYSPACE", keyspace)
    opened = []
    real_connect = cqlmq.connect

    def counting_connect(*args, **kwargs):
        opened.append(args)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(cqlmq, "connect", counting_connect)
    app = app_module.app

    async def body():
        async with app.router.lifespan_context(app):
            assert len(opened) == 1                  # at startup, before any request
            client = app.state.db.client
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
                rs = await asyncio.gather(*(http.get(f"/patients/{pid}/record")
                                            for pid in seeded[:40]))
                assert [r.status_code for r in rs] == [200] * 40
                r = await http.post("/patients", json={"name": "Radia", "birth_date": "1951-01-01"})
                assert r.status_code == 201
                assert (await http.get(f"/patients/{r.json()['patient_id']}")).status_code == 200
            assert len(opened) == 1 and app.state.db.client is client
        # shutdown closed it
        try:
            await client.ping()
        except cqlmq.Disconnected:
            pass
        else:
            raise AssertionError("the client is still open after shutdown")

    asyncio.run(body())
