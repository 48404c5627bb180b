"""GraphiQL from Branchline itself, and the schema as SDL.

GraphiQL (a development/demo setting, BRANCHLINE_DEBUG) loads its scripts from this package
(server/static/graphiql/, versions in VERSIONS there), never from a CDN: on a shop's network without
internet a CDN page stays a blank "Loading…". The SDL at GET /graphql/schema.graphql is what partners
generate clients from (docs/api.md); outside development it needs a signed-in staff member.
"""

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from operations.directory import authenticate
from operations.kernel import ANONYMOUS
from server.ws_handlers import bearer_token

ASSETS = Path(__file__).parent / "static" / "graphiql"
ASSET_TYPES = {
    "graphiql.min.js": "text/javascript",
    "graphiql.min.css": "text/css",
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
}


def graphiql_page() -> str:
    return (ASSETS / "index.html").read_text(encoding="utf-8")


async def graphiql_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSET_TYPES:  # only the files named, never a path
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(ASSETS / name, media_type=ASSET_TYPES[name], headers={"Cache-Control": "public, max-age=86400"})


def sdl_route(sdl: str, *, open_to_all: bool) -> Route:
    async def schema_sdl(request: Request) -> Response:
        if not open_to_all:
            token = bearer_token(request.headers.get("authorization"))
            actor = await authenticate(token) if token else None
            if actor is None or actor is ANONYMOUS:
                return PlainTextResponse(
                    "sign in first: Authorization: Bearer <token>",
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return PlainTextResponse(sdl, media_type="application/graphql; charset=utf-8")

    return Route("/graphql/schema.graphql", schema_sdl, methods=["GET"])


def routes(sdl: str, *, debug: bool) -> list[Route]:
    """The SDL always (signed in outside development); GraphiQL's assets only in development."""
    out = [sdl_route(sdl, open_to_all=debug)]
    if debug:
        out.append(Route("/graphql/graphiql/{name}", graphiql_asset, methods=["GET"]))
    return out
