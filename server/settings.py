"""One settings object, read once from flags and `CHAT_*` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the server; the defaults form the embedded setup."""

    model_config = SettingsConfigDict(env_prefix="CHAT_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=1, ge=1)
    log_level: str = "info"
    log_format: Literal["text", "json"] = "text"

    database_url: str = "sqlite://chat.db"
    db_pool_size: int = Field(default=10, ge=1)
    redis_url: str | None = None
    # Starts every Redis channel and key, so that deployments sharing a Redis stay apart.
    redis_prefix: str = "chat:"
    jwt_secret: str | None = None
    allowed_origins: str | None = None
    introspection: bool = True

    max_message_chars: int = Field(default=4096, ge=1)
    max_replay: int = Field(default=10_000, ge=1)
    max_page_size: int = Field(default=200, ge=1)
    default_page_size: int = Field(default=50, ge=1)
    max_list_size: int = Field(default=1000, ge=1)
    max_query_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=5000, ge=1)

    moderation: str | None = None
    moderation_words: str | None = None
    moderation_action: Literal["mask", "refuse"] = "mask"

    send_rate: float = Field(default=10, gt=0)
    send_burst: int = Field(default=30, ge=1)
    typing_rate: float = Field(default=2, gt=0)
    typing_timeout: float = Field(default=5, gt=0)
    typing_coalesce: float = Field(default=1, ge=0)

    max_operations_per_connection: int = Field(default=100, ge=1)
    max_connections_per_user: int = Field(default=10, ge=1)
    max_ws_frame_bytes: int = Field(default=64 * 1024, ge=1024)
    max_http_body_bytes: int = Field(default=64 * 1024, ge=1024)
    connection_init_timeout: float = Field(default=10, gt=0)
    outbound_buffer_bytes: int = Field(default=1024 * 1024, ge=1024)
    ws_ping_interval: float = Field(default=20, gt=0)
    legacy_keepalive_interval: float = Field(default=15, gt=0)
    ws_per_message_deflate: bool = False
    ws_close_timeout: float = Field(default=5, gt=0)

    presence_ttl: float = Field(default=30, gt=0)
    write_batch_size: int = Field(default=100, ge=1)
    write_batch_wait_ms: float = Field(default=1, ge=0)
    write_queue_size: int = Field(default=5000, ge=1)
    send_timeout: float = Field(default=10, gt=0)
    shutdown_grace: float = Field(default=10, ge=0)

    @field_validator(
        "redis_url",
        "jwt_secret",
        "allowed_origins",
        "moderation",
        "moderation_words",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def origins(self) -> list[str] | None:
        """Allowed browser origins, or None for any origin."""
        if self.allowed_origins is None:
            return None
        return [origin.strip() for origin in self.allowed_origins.split(",") if origin.strip()]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
