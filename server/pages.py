"""The browser pages: GraphiQL at /graphql, the demo chat at /demo, and their assets.

The assets are vendored from npm (server/static/vendor/, see clients/scripts/) and served
from the installed package, so the pages work with no CDN in reach.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
GRAPHIQL_PAGE = STATIC / "graphiql" / "index.html"


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)


async def demo(request: Request) -> Response:
    return FileResponse(STATIC / "demo" / "index.html", media_type="text/html")
