"""`/health`: is the database answering, is the live-event bus delivering; and, for information, the oldest
fiscal invoice still waiting for the tax authority (it does not make the server unhealthy: sales go on)."""

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise import Tortoise

from operations.fiscal import fiscal_figures
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
    body = {"status": "ok" if ok else "degraded", **checks}
    if checks["database"]["ok"]:
        body["fiscal"] = await _fiscal()
    return JSONResponse(body, status_code=200 if ok else 503)


async def _fiscal() -> dict:
    try:
        figures = await asyncio.wait_for(fiscal_figures(), timeout=2)
    except Exception as error:  # health reports, it does not raise
        return {"ok": False, "detail": type(error).__name__}
    oldest = figures.oldest_pending_at
    return {
        "ok": figures.ageing == 0 and figures.parked == 0,
        "pending": figures.pending,
        "oldestPendingAt": oldest.isoformat() if oldest else None,
        "oldestPendingSeconds": round(figures.oldest_pending_seconds, 1) if oldest else None,
        "ageing": figures.ageing,
        "parked": figures.parked,
    }
