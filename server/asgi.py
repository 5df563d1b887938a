"""The entry point uvicorn imports: the app built from `CHAT_*` variables."""

from starlette.applications import Starlette

from server.app import create_app
from server.logs import configure_logging
from server.settings import Settings


def app_from_environment() -> Starlette:
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings)
