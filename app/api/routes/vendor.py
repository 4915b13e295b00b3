"""Third-party browser bundles served from this origin (no CDN at run time), compressed and cached for good.

Plotly's ``plotly.min.js`` is 4.8 MB, more than every other byte of a job page together. It is served:

- from a content-hashed URL, ``/vendor/plotly-<sha256 prefix>.min.js``, with
  ``Cache-Control: public, max-age=31536000, immutable`` (RFC 8246): a browser fetches it once per Plotly version
  and never revalidates;
- gzip-compressed (about 1.4 MB) when the request accepts gzip, with ``Vary: Accept-Encoding``; the compressed
  bytes are made once per process, on first use;
- ``/vendor/plotly.min.js`` stays a working URL: it redirects (307) to the hashed one, so old pages and clients
  keep loading it, compressed too.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import plotly
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
IMMUTABLE = "public, max-age=31536000, immutable"
HASH_CHARS = 16  # 64 bits of the sha256: enough to tell Plotly versions apart


@dataclass
class VendorFile:
    """One bundle: its bytes, their hash and (lazily) their gzip form."""

    path: Path
    media_type: str
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _plain: bytes | None = field(default=None, repr=False)
    _gzip: bytes | None = field(default=None, repr=False)
    _digest: str | None = field(default=None, repr=False)

    def _load(self) -> None:
        with self._lock:
            if self._plain is None:
                plain = self.path.read_bytes()
                self._digest = hashlib.sha256(plain).hexdigest()[:HASH_CHARS]
                self._plain = plain

    @property
    def plain(self) -> bytes:
        self._load()
        assert self._plain is not None
        return self._plain

    @property
    def digest(self) -> str:
        self._load()
        assert self._digest is not None
        return self._digest

    @property
    def gzipped(self) -> bytes:
        with self._lock:
            if self._gzip is None:
                # mtime=0: the same bytes on every start, so an ETag-less cache sees one object
                self._gzip = gzip.compress(self.path.read_bytes(), compresslevel=9, mtime=0)
            return self._gzip

    def url(self) -> str:
        stem, _, suffix = self.path.name.partition(".")
        return f"/vendor/{stem}-{self.digest}.{suffix}"


PLOTLY = VendorFile(PLOTLY_JS, "application/javascript")
router = APIRouter(include_in_schema=False)


def accepts_gzip(request: Request) -> bool:
    """True when ``Accept-Encoding`` lists gzip without ``q=0`` (RFC 9110 section 12.5.3)."""
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().removeprefix("q=").strip()
            try:
                return float(q) > 0 if q else True
            except ValueError:
                return True
    return False


def serve(bundle: VendorFile, request: Request, cache_control: str) -> Response:
    headers = {"Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        return Response(bundle.gzipped, media_type=bundle.media_type, headers=headers)
    return Response(bundle.plain, media_type=bundle.media_type, headers=headers)


@router.get("/vendor/plotly.min.js")
def plotly_js_unversioned() -> RedirectResponse:
    """The stable URL: a temporary redirect to the content-hashed bundle (never cached itself)."""
    return RedirectResponse(PLOTLY.url(), status_code=307, headers={"Cache-Control": "no-cache"})


@router.get("/vendor/plotly-{digest}.min.js")
def plotly_js(digest: str, request: Request) -> Response:
    """The hashed bundle; a stale hash (an older Plotly) redirects to the current one."""
    if digest != PLOTLY.digest:
        return RedirectResponse(PLOTLY.url(), status_code=307, headers={"Cache-Control": "no-cache"})
    return serve(PLOTLY, request, IMMUTABLE)
