"""`chat-server`: serve, token, migrate, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

import uvicorn
from tortoise import Tortoise

from models.db import migrate, tortoise_config
from resolvers.users import UserDirectory
from schema import build_schema
from server.auth import TokenAuthority, load_secret
from server.logs import configure_logging
from server.settings import Settings
from server.single_instance import AlreadyServed, hold_sqlite_lock

_DAY = 24 * 60 * 60


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chat-server", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the server (the default)")
    for target in (parser, serve):
        target.add_argument("--host", help="interface to bind (default 127.0.0.1)")
        target.add_argument("--port", type=int, help="port to bind (default 8000)")
        target.add_argument(
            "--workers", type=int, help="worker processes (needs PostgreSQL and Redis)"
        )
    token = commands.add_parser("token", help="create the user if missing and print a token")
    token.add_argument("user_id")
    token.add_argument("--name", help="display name (default: the user id)")
    token.add_argument(
        "--ttl", type=int, default=_DAY, help="lifetime in seconds (default one day)"
    )
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("export-schema", help="print the GraphQL SDL")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        key: value
        for key in ("host", "port", "workers")
        if (value := getattr(args, key, None)) is not None
    }
    # Flags win over the environment; workers read the environment, so pass them on.
    for key, value in overrides.items():
        os.environ[f"CHAT_{key.upper()}"] = str(value)
    return Settings(**overrides)


def export_schema() -> str:
    return build_schema().as_str() + "\n"


def serve(settings: Settings) -> int:
    if settings.workers > 1 and (settings.is_sqlite or not settings.redis_url):
        print(
            "chat-server: --workers > 1 needs PostgreSQL (CHAT_DATABASE_URL=postgres://...) and "
            "Redis (CHAT_REDIS_URL=redis://...): SQLite serves one process, and the in-process "
            "broker cannot reach the other workers.",
            file=sys.stderr,
        )
        return 2
    try:
        hold_sqlite_lock(settings.database_url)
    except AlreadyServed as error:
        print(f"chat-server: {error}", file=sys.stderr)
        return 2
    asyncio.run(migrate(settings.database_url, settings.db_pool_size))
    uvicorn.run(
        "server.asgi:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        log_config=None,  # server/logs.py configures logging, text or JSON
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_max_size=settings.max_ws_frame_bytes,
        ws_ping_interval=settings.ws_ping_interval,
        ws_ping_timeout=settings.ws_ping_interval,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        timeout_graceful_shutdown=int(settings.shutdown_grace) or None,
    )
    return 0


async def issue_token(settings: Settings, user_id: str, name: str | None, ttl: int) -> str:
    await migrate(settings.database_url, settings.db_pool_size)
    await Tortoise.init(config=tortoise_config(settings.database_url, settings.db_pool_size))
    try:
        user = await UserDirectory().ensure(user_id, name)
        secret = await load_secret(settings.jwt_secret)
    finally:
        await Tortoise.close_connections()
    return TokenAuthority(secret).issue(user.id, user.name, ttl)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = _settings(args)
    configure_logging(settings.log_format, settings.log_level)
    if args.command == "export-schema":
        sys.stdout.write(export_schema())
        return 0
    if args.command == "migrate":
        asyncio.run(migrate(settings.database_url, settings.db_pool_size))
        print("database schema is up to date")
        return 0
    if args.command == "token":
        if args.ttl <= 0:
            print("chat-server: --ttl must be positive", file=sys.stderr)
            return 2
        print(asyncio.run(issue_token(settings, args.user_id, args.name, args.ttl)))
        return 0
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
