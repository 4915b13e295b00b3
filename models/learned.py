"""Adapter that turns any CompressAI ``CompressionModel`` into a licbench codec.

Encoding pads to the model's required multiple and decoding crops back, as CompressAI's own
``eval_model`` does; the rANS strings from ``net.compress`` are packed with the image size into one
bitstream (``models.bitstream``), and ``decode`` rebuilds the image from those bytes alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from compressai.models import CompressionModel

from models import bitstream
from models.base import Availability, Codec, CodecError, CorruptStreamError, check_image
from models.checkpoints import read_checkpoint
from models.devices import resolve_device


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
    """Zero-pad ``x`` (N,C,H,W) symmetrically so H and W are multiples of ``multiple``."""
    h, w = x.shape[-2:]
    new_h = (h + multiple - 1) // multiple * multiple
    new_w = (w + multiple - 1) // multiple * multiple
    left = (new_w - w) // 2
    top = (new_h - h) // 2
    padding = (left, new_w - w - left, top, new_h - h - top)
    return F.pad(x, padding, mode="constant", value=0), padding


def crop_padding(x: torch.Tensor, padding: tuple[int, int, int, int]) -> torch.Tensor:
    """Undo :func:`pad_to_multiple`."""
    left, right, top, bottom = padding
    return F.pad(x, (-left, -right, -top, -bottom))


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 HxWx3 -> float (1,3,H,W) in [0, 1]."""
    return torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).float().div(255.0).unsqueeze(0)


def tensor_to_image(x: torch.Tensor) -> np.ndarray:
    """float (1,3,H,W) in [0, 1] -> uint8 HxWx3 (clamped, rounded)."""
    return x.clamp(0, 1).mul(255.0).round().to(torch.uint8).squeeze(0).permute(1, 2, 0).cpu().numpy()


def load_checkpoint(net: CompressionModel, path: Path) -> CompressionModel:
    """Load a CompressAI-format state dict (tensors only, never pickled code) and rebuild CDF tables."""
    net.load_state_dict(read_checkpoint(path))
    net.update(force=True)
    return net.eval()


@dataclass
class CompressAICodec(Codec):
    """A learned codec made of one CompressAI network per rate point (the zoo's convention)."""

    build: Callable[[], CompressionModel] = field(default=lambda: None, repr=False)  # type: ignore[assignment]
    checkpoints: dict[int, Path] = field(default_factory=dict)
    pad_multiple: int = 64

    def availability(self) -> Availability:
        missing = [str(p) for p in self.checkpoints.values() if not p.is_file()]
        if missing:
            return Availability(False, "missing weights file(s): " + ", ".join(missing))
        return Availability(True)

    @property
    def device(self) -> str:
        return resolve_device(self.context.device)

    def load_network(self, rate_point: int) -> CompressionModel:
        """Build and load the network of ``rate_point`` (uncached; ``network`` caches)."""
        path = self.checkpoints.get(rate_point)
        if path is None:
            raise CodecError(f"{self.name}: no checkpoint for rate point {rate_point}")
        if not path.is_file():
            raise CodecError(f"{self.name}: weights file {path} is missing")
        return load_checkpoint(self.build(), path)

    def network(self, rate_point: int) -> CompressionModel:
        """The loaded network for ``rate_point``, from the context's bounded cache (shared by every
        codec built on that context)."""
        key = (self.name, rate_point, str(self.checkpoints.get(rate_point)), self.device)
        return self.context.networks.get(key, lambda: self.load_network(rate_point).to(self.device))

    @torch.no_grad()
    def encode(self, image: np.ndarray, rate_point: float) -> bytes:
        check_image(image)
        q = int(self.rate.validate(rate_point))
        net = self.network(q)
        x = image_to_tensor(image).to(self.device)
        x_padded, _ = pad_to_multiple(x, self.pad_multiple)
        out = net.compress(x_padded)
        stream = bitstream.Bitstream(
            codec=self.name,
            rate_point=float(q),
            height=image.shape[0],
            width=image.shape[1],
            shape=tuple(int(s) for s in out["shape"]),
            strings=[list(group) for group in out["strings"]],
        )
        return bitstream.pack(stream)

    @torch.no_grad()
    def decode(self, data: bytes) -> np.ndarray:
        stream = bitstream.unpack(data, expected_codec=self.name)
        try:
            q = int(self.rate.validate(stream.rate_point))
        except CodecError as exc:
            raise CorruptStreamError(f"header rate point invalid: {exc}") from exc
        net = self.network(q)
        x = torch.zeros(1, 3, stream.height, stream.width)
        _, padding = pad_to_multiple(x, self.pad_multiple)
        try:
            out = net.decompress(stream.strings, list(stream.shape))
        except Exception as exc:  # rANS/shape errors on corrupt payloads
            raise CorruptStreamError(f"{self.name}: cannot decode payload: {exc}") from exc
        x_hat = crop_padding(out["x_hat"], padding)
        if tuple(x_hat.shape[-2:]) != (stream.height, stream.width):
            raise CorruptStreamError("decoded size does not match the header")
        return tensor_to_image(x_hat)
