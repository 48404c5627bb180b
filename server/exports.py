"""GET /exports/<token>: an export's file, for as long as its signed link and the file last
(operations/reports/exports.py). The token is the authentication: it is handed only to a signed-in caller who may
see the export, and it expires within minutes. Anything else is 404, saying nothing of what exists."""

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from operations.reports import export_for_download, file_name

EXPORT_PATH = "/exports/{token}"
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def export_download(request: Request) -> Response:
    export = await export_for_download(request.path_params["token"])
    if export is None or not await anyio.Path(export.path).is_file():
        return PlainTextResponse("no such export, or its link has expired", status_code=404)
    return FileResponse(
        export.path,
        media_type=MEDIA_TYPES[export.format.value],
        filename=file_name(export),
        headers={"Cache-Control": "no-store"},
    )
