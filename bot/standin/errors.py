"""The error a Bot API request ends with, as Telegram reports it in its JSON envelope."""

from __future__ import annotations

__all__ = ["ApiError", "bad_request"]


class ApiError(Exception):
    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        violation: bool = True,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        # 403, 409 and 429 are Telegram behaving as it does in production, not bot bugs, so
        # they are not recorded as violations.
        self.violation = violation


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")
