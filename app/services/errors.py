"""Domain errors the services raise. They say what went wrong in the service's own words; ``app/api/errors.py``
maps each class to its HTTP answer in one place (the services know nothing of HTTP)."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service cannot serve, with a message for the client; raise one of the classes below (or
    another subclass) and let ``app/api/errors.py`` choose the HTTP status."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(ServiceError):
    """The request names something malformed or impossible (bad field, unknown codec, too many tasks)."""


class NotFound(ServiceError):
    """The thing named does not exist."""


class Conflict(ServiceError):
    """The thing exists but its state forbids the request (a running job cannot be deleted, a name is taken)."""


class Forbidden(ServiceError):
    """The caller is known but may not do this (someone else's job, a private image set)."""


class Unauthenticated(ServiceError):
    """The caller must identify first (missing or invalid token or session)."""


class TooLarge(ServiceError):
    """The upload is larger than the configured limit."""


class Unavailable(ServiceError):
    """A service the request needs (the task queue, the database) cannot be reached now."""


class NotSupported(ServiceError):
    """This installation lacks an optional package the request needs."""
