"""Service-level errors that routes turn into HTTP 4xx responses with a message."""
from __future__ import annotations


class ServiceError(Exception):
    """A client mistake; ``status_code`` is the HTTP status the API answers with."""

    status_code = 400

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class NotFound(ServiceError):
    status_code = 404


class Invalid(ServiceError):
    status_code = 422


class TooLarge(ServiceError):
    status_code = 413
