"""Reading uploaded files within the size limit (app.settings' upload limits), shared by the upload routes."""

from __future__ import annotations

from fastapi import UploadFile

from app.services.errors import TooLarge


def read_limited(upload: UploadFile, limit: int) -> bytes:
    """At most ``limit`` bytes of ``upload``, read from its spooled file (call it in the thread pool); a larger
    file is ``TooLarge`` (413) naming the file and the limit."""
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"file {upload.filename!r} is larger than the upload limit of {limit} bytes")
    return data
