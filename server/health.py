"""`/health`: is the database answering, is the live-event bus delivering."""

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise import Tortoise

from subscriptions import live


async def _database() -> dict:
    try:
        await asyncio.wait_for(Tortoise.get_connection("default").execute_query("SELECT 1"), timeout=2)
        return {"ok": True}
    except Exception as error:  # health reports, it does not raise
        return {"ok": False, "detail": type(error).__name__}


async def health(request: Request) -> JSONResponse:
    bus = live.current()
    checks = {
        "database": await _database(),
        "bus": await bus.health() if bus else {"ok": False, "detail": "not started"},
    }
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse({"status": "ok" if ok else "degraded", **checks}, status_code=200 if ok else 503)
