"""``licbench-multirate``: the multi-rate checkerboard codec as a ``models.base.Codec``.

The rate parameter ``R`` in ``[0, 1]`` spans the trained lambda set monotonically: ``R = 0`` is the lowest
trained lambda (lowest bitrate), ``R = 1`` the highest, and ``R`` maps linearly onto the gain position
``p = R * (K - 1)``; between trained lambdas the gain vectors interpolate exponentially, so any ``R`` gives
a distinct RD point from one checkpoint. A lambda inside the trained range maps to ``R`` by interpolating
``log(lambda)`` between the adjacent trained lambdas (:meth:`MultiRateCodec.rate_for_lambda`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from models.base import Availability, Codec, CodecError, CodecKind, CorruptStreamError, RateSpec, check_image
from models.devices import resolve_device
from models.learned import crop_padding, image_to_tensor, pad_to_multiple, tensor_to_image
from models.multirate import fileformat
from models.multirate.checkpoint import load_network, model_id
from models.multirate.network import PAD_MULTIPLE, MultiRateCheckerboard
from models.multirate.refine import RefineSettings, refine_latent

PACKAGE_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
WEIGHTS_FILE = "multirate.pth"
MULTIRATE_RATE = RateSpec(
    points=tuple(round(i / 15, 4) for i in range(16)), minimum=0.0, maximum=1.0, integer=False, label="rate parameter"
)
# The refining encoder spends ~60 decoder passes per image, so its default sweep is shorter.
REFINED_RATE = RateSpec(
    points=tuple(round(i / 5, 4) for i in range(6)), minimum=0.0, maximum=1.0, integer=False, label="rate parameter"
)
# SGA refinement, 100 Adam steps; images above 0.5 MP get proportionally fewer steps (bounded encode time).
# Chosen on the tuning photo's 4 tiles (models.photos.TUNING_PHOTOS; benchmarks/multirate.py --parts
# refine-tune), BD-rate vs the plain encoder: 50 steps lr 0.05 -13.1%, 100 lr 0.05 -16.2%, 100 lr 0.02 -18.7%,
# 100 lr 0.01 -17.1%, 200 lr 0.05 -18.4% (twice the encode time).
REFINED_ENCODER = RefineSettings(steps=100, lr=0.02, max_pixels=500_000)


@dataclass
class MultiRateCodec(Codec):
    """One checkpoint, continuous rate ``R`` in ``[0, 1]``; see the module docstring."""

    name: str = "licbench-multirate"
    kind: CodecKind = CodecKind.LEARNED
    rate: RateSpec = MULTIRATE_RATE
    description: str = (
        "licbench's own multi-rate codec: GDN transforms, mean-scale hyperprior, checkerboard "
        "context, gain units over the trained lambdas (one checkpoint); CompressAI rANS coder"
    )
    checkpoint: Path = field(default_factory=lambda: PACKAGE_WEIGHTS / WEIGHTS_FILE)
    # encoder-side latent refinement (models.multirate.refine); steps=0 is the plain amortised encoder
    refine: RefineSettings = field(default_factory=RefineSettings)
    _net: MultiRateCheckerboard | None = field(default=None, init=False, repr=False)
    _model_id: bytes = field(default=b"", init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def availability(self) -> Availability:
        if not Path(self.checkpoint).is_file():
            return Availability(
                False,
                f"missing weights file {self.checkpoint}: put the trained multirate.pth "
                f"there (licbench train --config configs/multirate.yaml writes "
                f"logs/<run>/multirate.pth)",
            )
        return Availability(True)

    @property
    def device(self) -> str:
        return resolve_device(self.context.device)

    def network(self) -> MultiRateCheckerboard:
        """The loaded network (loaded once, then cached on this codec)."""
        with self._lock:
            if self._net is None:
                if not Path(self.checkpoint).is_file():
                    raise CodecError(f"{self.name}: {self.availability().reason}")
                try:
                    net = load_network(self.checkpoint, self.device)
                except (ValueError, RuntimeError, KeyError) as exc:
                    raise CodecError(f"{self.name}: cannot load {self.checkpoint}: {exc}") from exc
                self._model_id = model_id(net)
                self._net = net
            return self._net

    @property
    def model_id(self) -> bytes:
        self.network()
        return self._model_id

    # -- rate parameter <-> lambda -------------------------------------------------------------------
    @property
    def lambdas(self) -> tuple[float, ...]:
        return self.network().config.lambdas

    def position(self, rate: float) -> float:
        """Gain position ``p = R * (K - 1)`` for rate parameter ``R``."""
        return float(rate) * (len(self.lambdas) - 1)

    def lambda_for_rate(self, rate: float) -> float:
        """The (log-interpolated) lambda that rate parameter ``R`` stands for."""
        rate = self.rate.validate(rate)
        logs = np.log(np.asarray(self.lambdas))
        return float(np.exp(np.interp(self.position(rate), np.arange(len(logs)), logs)))

    def rate_for_lambda(self, lmbda: float) -> float:
        """Rate parameter ``R`` for a lambda inside the trained range (``CodecError`` outside it)."""
        lambdas = self.lambdas
        tolerance = 1e-9  # float round-off of lambda_for_rate at the ends of the range
        if (
            isinstance(lmbda, bool)
            or not isinstance(lmbda, (int, float))
            or not math.isfinite(lmbda)
            or not lambdas[0] * (1 - tolerance) <= lmbda <= lambdas[-1] * (1 + tolerance)
        ):
            raise CodecError(f"lambda {lmbda!r} is outside the trained range [{lambdas[0]}, {lambdas[-1]}]")
        if len(lambdas) == 1:
            return 0.0
        p = float(np.interp(math.log(lmbda), np.log(np.asarray(lambdas)), np.arange(len(lambdas))))
        return min(1.0, max(0.0, p / (len(lambdas) - 1)))

    # -- the codec contract --------------------------------------------------------------------------
    def encode(self, image: np.ndarray, rate_point: float) -> bytes:
        return self.encode_with_reconstruction(image, rate_point)[0]

    def encode_with_reconstruction(self, image: np.ndarray, rate_point: float) -> tuple[bytes, np.ndarray]:
        """The bitstream and the reconstruction the encoder computed alongside it (what a decoder must give)."""
        check_image(image)
        rate = self.rate.validate(rate_point)
        pixels = image.shape[0] * image.shape[1]
        if self.refine.steps and pixels > self.refine.limit_pixels:
            raise CodecError(
                f"{self.name} refines images of up to {self.refine.limit_pixels / 1e6:g} MP (memory); "
                f"this one has {pixels / 1e6:.3g} MP: encode it with licbench-multirate"
            )
        net = self.network()
        x = image_to_tensor(image).to(self.device)
        x_padded, padding = pad_to_multiple(x, PAD_MULTIPLE)
        y = refine_latent(net, x_padded, self.position(rate), self.lambda_for_rate(rate), self.refine, padding)
        with torch.no_grad():
            out = net.compress(x_padded, self.position(rate), y)
        data = fileformat.pack(
            fileformat.LicFile(
                model_id=self._model_id,
                height=image.shape[0],
                width=image.shape[1],
                rate=rate,
                streams=tuple(group[0] for group in out["strings"]),
            )
        )
        return data, tensor_to_image(crop_padding(out["x_hat"], padding))

    @torch.no_grad()
    def decode(self, data: bytes) -> np.ndarray:
        f = fileformat.unpack(data)
        net = self.network()
        if f.model_id != self._model_id:
            raise CorruptStreamError(
                f"file was written by model {f.model_id.hex()}, but the loaded checkpoint is "
                f"{self._model_id.hex()} ({self.checkpoint})"
            )
        if not (0.0 <= f.rate <= 1.0) or len(f.streams) != 3:
            raise CorruptStreamError("header rate parameter or stream count is invalid")
        x = torch.zeros(1, 3, f.height, f.width)
        x_padded, padding = pad_to_multiple(x, PAD_MULTIPLE)
        latent_hw = (x_padded.shape[-2] // 16, x_padded.shape[-1] // 16)
        try:
            out = net.decompress([[s] for s in f.streams], latent_hw, self.position(f.rate))
        except Exception as exc:  # the rANS decoder rejects some malformed payloads
            raise CorruptStreamError(f"{self.name}: cannot decode payload: {exc}") from exc
        return tensor_to_image(crop_padding(out["x_hat"], padding))

    @classmethod
    def refined(cls, **kwargs) -> MultiRateCodec:
        """``licbench-multirate-refined``: the same checkpoint, decoder and files, with the encoder refining
        each image's latent for its own rate-distortion cost (``models.multirate.refine``)."""
        return cls(
            name="licbench-multirate-refined",
            rate=REFINED_RATE,
            refine=REFINED_ENCODER,
            description=(
                "licbench-multirate with encoder-side latent refinement (100 Adam steps with "
                "stochastic Gumbel annealing on the latent per image and rate, Yang et al. 2020); same "
                "decoder and .lic files; encoding takes about 50x longer"
            ),
            **kwargs,
        )

    def describe_file(self, data: bytes) -> dict:
        """Header fields of a ``.lic`` file (no decoding)."""
        f = fileformat.unpack(data)
        return {
            "version": f.version,
            "model_id": f.model_id.hex(),
            "height": f.height,
            "width": f.width,
            "rate": f.rate,
            "stream_bytes": [len(s) for s in f.streams],
            "bytes": len(data),
            "bpp": 8 * len(data) / (f.height * f.width),
        }
