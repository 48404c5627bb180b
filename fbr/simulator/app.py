"""The Starlette app: the PostData endpoints (cloud FBR/PRA, sandbox and production, and the local fiscal
component), the component's health check, and the /_sim/ test controls."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .config import LOCAL_HEALTH, LOCAL_POST, ROUTES
from .faults import Fault
from .store import SimAuthority

NO_MATCHING_RESOURCE = {
    "fault": {
        "code": 404,
        "type": "Status report",
        "message": "Runtime Error",
        "description": "No matching resource found for given API Request",
    }
}
_FAIL_BODIES = {
    500: "<html><body><h1>500 Internal Server Error</h1></body></html>",
    502: "<html><body><h1>502 Bad Gateway</h1></body></html>",
    503: "<html><body><h1>503 Service Unavailable</h1></body></html>",
    504: "<html><body><h1>504 Gateway Time-out</h1></body></html>",
}
DROPPED_MARKER = "ASGI callable returned without completing response."


def _json(body: Any, status: int = 200) -> Response:
    # The stdlib encoder: a legacy answer's fiscal number is a JSON integer that can exceed 64 bits.
    return Response(json.dumps(body, default=str), status_code=status, media_type="application/json")


def _html(status: int) -> Response:
    return Response(_FAIL_BODIES[status], status_code=status, media_type="text/html")


class DroppedAnswer(Response):
    """Starts a 200 answer, sends a few bytes of it and stops: the server closes the connection and the
    client is left with a partial body (the invoice was recorded; the client cannot know)."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"512")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"InvoiceNumber": "', "more_body": True})


def _malformed(how: str, answer: dict) -> Response:
    if how == "html":
        return Response("<html><body>Request Rejected</body></html>", media_type="text/html")
    if how == "empty":
        return Response(b"", media_type="application/json")
    if how == "no_code":
        return _json({"InvoiceNumber": answer.get("InvoiceNumber"), "Response": answer.get("Response")})
    if how == "not_available":
        return _json({"InvoiceNumber": "Not Available", "Code": "100", "Response": "", "Errors": None})
    if how == "array":
        return _json(["Service is responding"])
    return Response(orjson.dumps(answer)[:25], media_type="application/json")  # garbage: cut short


def post_data_endpoint(authority: SimAuthority, route: tuple[str, str] | None):
    """`route` None is the local component: no token, and it fiscalises for the configured authority."""

    async def endpoint(request: Request) -> Response:
        where = route or (authority.config.local_authority, authority.config.local_environment)
        # Read first: what follows (a slow or held answer) happens after the authority has the body.
        raw = await request.body()
        faults = authority.faults
        if faults.down:
            authority.note(where, faults.down_status, "fault:down")
            return _html(faults.down_status)
        fault: Fault | None = faults.take()
        if fault is not None and fault.kind == "fail":
            authority.note(where, fault.status, "fault:fail")
            return _html(fault.status)
        if fault is not None and fault.kind == "hang":
            authority.note(where, 504, "fault:hang")
            await authority.hold(fault.seconds)
            return _html(504)
        delay = faults.latency + (fault.seconds if fault is not None and fault.kind == "slow" else 0.0)
        if delay:
            await authority.hold(delay)
        if route is not None:
            denied = authority.authorize(route, request.headers.get("authorization"))
            if denied is not None:
                status, body = denied
                authority.note(where, status, "auth")
                return _json(body, status)
        try:
            # The stdlib parser keeps what was sent (big integers, floats) as it was.
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            body = None
        if fault is not None and fault.kind == "malformed" and not fault.record:
            authority.note(where, 200, f"fault:malformed:{fault.how}")
            return _malformed(fault.how, {})
        answer, _held = authority.receive(where, body)
        if fault is not None and fault.kind in ("malformed", "lose"):
            authority.calls[-1].outcome += f"+{fault.kind}:{fault.how}"
            if fault.kind == "malformed":
                return _malformed(fault.how, answer)
            if fault.how == "drop":
                return DroppedAnswer()
            await authority.hold(fault.seconds)
        return _json(answer)

    return endpoint


async def no_matching_resource(_request: Request) -> Response:
    return _json(NO_MATCHING_RESOURCE, 405)


def health_endpoint(authority: SimAuthority):
    async def endpoint(_request: Request) -> Response:
        if authority.faults.down:
            return _html(authority.faults.down_status)
        return _json(["Service is responding"])

    return endpoint


def control_routes(authority: SimAuthority) -> list[Route]:
    def guarded(fn):
        async def endpoint(request: Request) -> Response:
            try:
                raw = await request.body() if request.method == "POST" else b""
                body = orjson.loads(raw) if raw else {}
                return _json(fn(request, body or {}))
            except (ValueError, KeyError, TypeError) as exc:
                return _json({"error": f"{type(exc).__name__}: {exc}"}, 400)

        return endpoint

    def state(_request: Request, _body: dict) -> dict:
        return authority.summary()

    def faults(_request: Request, body: dict) -> dict:
        authority.faults.apply(body)
        return {"ok": True, "faults": authority.faults.summary()}

    def reset_faults(_request: Request, _body: dict) -> dict:
        authority.reset_faults()
        return {"ok": True}

    def reset(_request: Request, _body: dict) -> dict:
        authority.reset()
        return {"ok": True}

    def configure(_request: Request, body: dict) -> dict:
        authority.configure(**body)
        return authority.summary()["config"]

    def register(_request: Request, body: dict) -> dict:
        authority.register(int(body["pos_id"]), body.get("authority", "fbr"), body.get("environment", "sandbox"))
        return {"ok": True}

    def invoices(request: Request, _body: dict) -> list:
        usin = request.path_params.get("usin") or request.query_params.get("usin")
        pos = request.query_params.get("pos_id")
        with_payload = request.query_params.get("payload", "1") not in ("0", "false")
        held = authority.invoices_for(usin, int(pos) if pos else None) if usin else list(authority.invoices.values())
        if pos and not usin:
            held = [i for i in held if i.pos_id == int(pos)]
        return [i.summary(payload=with_payload) for i in held]

    def calls(request: Request, _body: dict) -> list:
        usin = request.query_params.get("usin")
        return [asdict(c) for c in authority.calls if usin is None or c.usin == usin]

    return [
        Route("/_sim/state", guarded(state), methods=["GET"]),
        Route("/_sim/faults", guarded(faults), methods=["POST"]),
        Route("/_sim/reset_faults", guarded(reset_faults), methods=["POST"]),
        Route("/_sim/reset", guarded(reset), methods=["POST"]),
        Route("/_sim/config", guarded(configure), methods=["POST"]),
        Route("/_sim/register", guarded(register), methods=["POST"]),
        Route("/_sim/invoices", guarded(invoices), methods=["GET"]),
        Route("/_sim/invoices/{usin:path}", guarded(invoices), methods=["GET"]),
        Route("/_sim/calls", guarded(calls), methods=["GET"]),
    ]


def create_simulator_app(authority: SimAuthority) -> Starlette:
    routes: list[Route] = []
    for path, route in ROUTES.items():
        routes.append(Route(path, post_data_endpoint(authority, route), methods=["POST"]))
        routes.append(Route(path, no_matching_resource, methods=["GET", "PUT", "DELETE"]))
    routes.append(Route(LOCAL_POST, post_data_endpoint(authority, None), methods=["POST"]))
    routes.append(Route(LOCAL_HEALTH, health_endpoint(authority), methods=["GET"]))
    routes.extend(control_routes(authority))
    app = Starlette(routes=routes)
    app.state.authority = authority
    return app
