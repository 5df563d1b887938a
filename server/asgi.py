"""The entry point uvicorn imports: the app built from `CHAT_*` variables."""

from starlette.applications import Starlette

from server.app import create_app
from server.settings import Settings


def app_from_environment() -> Starlette:
    return create_app(Settings())
