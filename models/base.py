"""The codec contract shared by learned, classical and submitted codecs."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np

from models.network_cache import NetworkCache


class CodecKind(StrEnum):
    """Where a codec comes from: a learned network we ship or the zoo holds, a classical format
    library, or checkpoints a user submitted. Compares equal to its lowercase string value."""

    LEARNED = "learned"
    CLASSICAL = "classical"
    SUBMITTED = "submitted"


class CodecError(Exception):
    """A codec could not encode or decode (bad rate point, corrupt stream, missing weights)."""


class CorruptStreamError(CodecError):
    """The bytes handed to ``decode`` are not a valid bitstream of this codec."""


@dataclass(frozen=True)
class RateSpec:
    """Which rate points a codec accepts.

    ``points`` is the default sweep a benchmark offers; ``minimum``/``maximum`` bound every accepted
    value; ``integer`` codecs (JPEG quality, zoo quality index) reject fractional values.
    """

    points: tuple[float, ...]
    minimum: float
    maximum: float
    integer: bool = True
    label: str = "quality"
    discrete: bool = False  # only the listed ``points`` are valid (e.g. one checkpoint per point)

    def validate(self, rate_point: float) -> float:
        """Return ``rate_point`` as a number this codec accepts, or raise ``CodecError`` saying why."""
        if isinstance(rate_point, bool) or not isinstance(rate_point, (int, float)):
            raise CodecError(f"rate point {rate_point!r} is not a number")
        try:
            value = float(rate_point)
        except OverflowError:  # an int beyond the double range
            raise CodecError(
                f"rate point {str(rate_point)[:20]}... is out of range: {self.label} must lie in "
                f"[{_fmt(self.minimum)}, {_fmt(self.maximum)}]"
            ) from None
        if not math.isfinite(value):
            raise CodecError(f"rate point {rate_point!r} is not finite")
        if self.integer and not value.is_integer():
            raise CodecError(f"rate point {rate_point!r} must be an integer {self.label}")
        if not self.minimum <= value <= self.maximum:
            raise CodecError(
                f"rate point {rate_point!r} is out of range: {self.label} must lie in "
                f"[{_fmt(self.minimum)}, {_fmt(self.maximum)}]"
            )
        if self.discrete and value not in self.points:
            raise CodecError(
                f"rate point {rate_point!r} is not offered; choose one of " + ", ".join(_fmt(p) for p in self.points)
            )
        return value


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class Availability:
    """Whether a codec or metric can run here; ``reason`` says exactly what is missing when it cannot."""

    available: bool
    reason: str | None = None


@dataclass(frozen=True)
class CodecContext:
    """What a codec needs from its environment, passed in explicitly (no global settings here).

    ``device`` is the raw setting (``models.devices.resolve_device``); ``networks`` is the bounded
    cache of loaded networks that every codec built on this context shares (a fresh, empty one of
    the default capacity unless the caller passes its own).
    """

    weights_dir: Path = Path("weights")
    device: str = "cpu"
    networks: NetworkCache = field(default_factory=NetworkCache, compare=False, hash=False, repr=False)


@dataclass
class Codec(ABC):
    """An image codec: 8-bit RGB ``HxWx3`` arrays in, self-contained bitstream bytes out."""

    name: str
    kind: CodecKind
    rate: RateSpec
    description: str = ""
    context: CodecContext = field(default_factory=CodecContext)

    def availability(self) -> Availability:
        """Cheap check (no model loading) of whether the codec can run here."""
        return Availability(True)

    @abstractmethod
    def encode(self, image: np.ndarray, rate_point: float) -> bytes:
        """Compress ``image`` (uint8, HxWx3, RGB) at ``rate_point`` to a complete bitstream."""

    @abstractmethod
    def decode(self, data: bytes) -> np.ndarray:
        """Reconstruct the image (uint8, HxWx3, RGB) from a bitstream produced by ``encode``."""

    @property
    def device(self) -> str:
        """The device this codec runs on (recorded on each result)."""
        return "cpu"


def check_image(image: np.ndarray) -> None:
    """Reject anything that is not an 8-bit RGB ``HxWx3`` array."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise CodecError("codecs take uint8 RGB arrays of shape HxWx3")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise CodecError("image is empty")
