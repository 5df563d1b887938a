"""Every refusal the service makes, each knowing its `extensions.code`.

ChatError
 ├── Unauthenticated      UNAUTHENTICATED   no, bad or expired token
 ├── Forbidden            FORBIDDEN         not a participant of that conversation
 ├── NotFound             NOT_FOUND         unknown user or room
 ├── BadUserInput         BAD_USER_INPUT    content, cursor, page size, @oneOf
 ├── Blocked              BLOCKED           a block between the two parties
 ├── RateLimited          RATE_LIMITED      over a per-user rate (retry_after)
 ├── Unavailable          UNAVAILABLE       the store is overloaded or down
 ├── LimitExceeded        LIMIT_EXCEEDED    query or connection limits
 └── CursorExpired        CURSOR_EXPIRED    a resume longer than the replay bound
"""

from __future__ import annotations

from typing import Any, ClassVar


class ChatError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class Unauthenticated(ChatError):
    code = "UNAUTHENTICATED"
    http_status = 401


class Forbidden(ChatError):
    code = "FORBIDDEN"
    http_status = 403


class NotFound(ChatError):
    code = "NOT_FOUND"
    http_status = 404


class BadUserInput(ChatError):
    code = "BAD_USER_INPUT"
    http_status = 400


class Blocked(ChatError):
    code = "BLOCKED"
    http_status = 403


class RateLimited(ChatError):
    code = "RATE_LIMITED"
    http_status = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retryAfter=round(retry_after, 3))
        self.retry_after = retry_after


class Unavailable(ChatError):
    code = "UNAVAILABLE"
    http_status = 503


class LimitExceeded(ChatError):
    code = "LIMIT_EXCEEDED"
    http_status = 400


class CursorExpired(ChatError):
    code = "CURSOR_EXPIRED"
    http_status = 400
