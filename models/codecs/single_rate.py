"""``licbench-single-rate``: K single-rate models, one per trained lambda, the per-rate baseline of the
multi-rate codec.

Each model is the multi-rate architecture (``models.multirate.network``: GDN transforms, mean-scale
hyperprior, checkerboard context, rANS) trained at ONE lambda, on the same data, as in the comparison of
Cui et al. 2021 (gain units vs one model per rate) and CompressAI's variable-rate experiments. The rate
point IS the lambda (discrete: only the trained lambdas exist). Files are ``.lic`` files whose header
carries the chosen model's fingerprint and its lambda in the rate field.

All K networks ship in one file, ``models/weights/single-rate.pth`` (written by
``python -m models.training.single_rate_bundle``), with the K exported states in rising lambda order.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from models.base import Availability, Codec, CodecError, CodecKind, CorruptStreamError, RateSpec, check_image
from models.devices import resolve_device
from models.learned import crop_padding, image_to_tensor, pad_to_multiple, tensor_to_image
from models.multirate import fileformat
from models.multirate.checkpoint import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, export_state, load_weights, model_id
from models.multirate.network import PAD_MULTIPLE, MultiRateCheckerboard, MultiRateConfig

PACKAGE_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
WEIGHTS_FILE = "single-rate.pth"
BUNDLE_FORMAT = "licbench-single-rate"
BUNDLE_VERSION = 1
# The multi-rate model's trained lambda set (configs/multirate.yaml); one single-rate model per lambda.
SINGLE_RATE_LAMBDAS = (0.0012, 0.0032, 0.0085, 0.0225, 0.06)


def save_bundle(nets: list[MultiRateCheckerboard], path: Path, half: bool = False) -> Path:
    """Write K single-lambda networks (rising lambda) as one file; ``half`` stores float tensors as float16."""
    lambdas = [net.config.lambdas for net in nets]
    if any(len(lam) != 1 for lam in lambdas):
        raise ValueError("every network of a single-rate bundle is trained at exactly one lambda")
    flat = [lam[0] for lam in lambdas]
    if any(b <= a for a, b in zip(flat, flat[1:])):
        raise ValueError(f"single-rate models must be in rising lambda order, got {flat}")
    states = []
    for net in nets:
        state = export_state(net.eval())
        if half:
            state["state_dict"] = {k: v.half() if v.is_floating_point() else v for k, v in state["state_dict"].items()}
        states.append(state)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "models": states}, path)
    return path


def load_bundle(path: Path, device: str = "cpu") -> list[MultiRateCheckerboard]:
    """The K networks of a bundle (float32, entropy-coder tables rebuilt); ``ValueError`` if it is not one."""
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != BUNDLE_FORMAT:
        raise ValueError(f"{path} is not a {BUNDLE_FORMAT} weights file")
    if int(state.get("version", -1)) != BUNDLE_VERSION:
        raise ValueError(f"{path} has version {state.get('version')}, expected {BUNDLE_VERSION}")
    nets = []
    for entry in state["models"]:
        if entry.get("format") != CHECKPOINT_FORMAT or int(entry.get("version", -1)) != CHECKPOINT_VERSION:
            raise ValueError(f"{path} holds a model that is not a {CHECKPOINT_FORMAT} v{CHECKPOINT_VERSION} state")
        net = MultiRateCheckerboard(MultiRateConfig.from_dict(entry["model_config"]))
        load_weights(net, {k: v.float() if v.is_floating_point() else v for k, v in entry["state_dict"].items()})
        nets.append(net.eval().to(device))
    return nets


@dataclass
class SingleRateCodec(Codec):
    """One network per trained lambda; rate point = lambda (see the module docstring)."""

    name: str = "licbench-single-rate"
    kind: CodecKind = CodecKind.LEARNED
    rate: RateSpec = RateSpec(
        points=SINGLE_RATE_LAMBDAS,
        minimum=SINGLE_RATE_LAMBDAS[0],
        maximum=SINGLE_RATE_LAMBDAS[-1],
        integer=False,
        label="lambda",
        discrete=True,
    )
    description: str = (
        "per-rate baseline of licbench-multirate: the same architecture trained once per lambda "
        "(K models); rate point = lambda; CompressAI rANS coder"
    )
    checkpoint: Path = field(default_factory=lambda: PACKAGE_WEIGHTS / WEIGHTS_FILE)
    _nets: dict[float, MultiRateCheckerboard] | None = field(default=None, init=False, repr=False)
    _ids: dict[bytes, float] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def availability(self) -> Availability:
        if not Path(self.checkpoint).is_file():
            return Availability(
                False,
                f"missing weights file {self.checkpoint}: the K single-rate models "
                f"(python benchmarks/multirate.py trains them, "
                f"python -m models.training.single_rate_bundle writes the file)",
            )
        return Availability(True)

    @property
    def device(self) -> str:
        return resolve_device(self.context.device)

    def networks(self) -> dict[float, MultiRateCheckerboard]:
        """Lambda -> loaded network (loaded once, then cached on this codec)."""
        with self._lock:
            if self._nets is None:
                if not Path(self.checkpoint).is_file():
                    raise CodecError(f"{self.name}: {self.availability().reason}")
                try:
                    nets = load_bundle(self.checkpoint, self.device)
                except (ValueError, RuntimeError, KeyError) as exc:
                    raise CodecError(f"{self.name}: cannot load {self.checkpoint}: {exc}") from exc
                found = tuple(net.config.lambdas[0] for net in nets)
                if found != tuple(self.rate.points):
                    raise CodecError(
                        f"{self.name}: {self.checkpoint} holds lambdas {found}, this codec offers "
                        f"{tuple(self.rate.points)}"
                    )
                self._ids = {model_id(net): net.config.lambdas[0] for net in nets}
                self._nets = {net.config.lambdas[0]: net for net in nets}
            return self._nets

    def encode(self, image: np.ndarray, rate_point: float) -> bytes:
        return self.encode_with_reconstruction(image, rate_point)[0]

    @torch.no_grad()
    def encode_with_reconstruction(self, image: np.ndarray, rate_point: float) -> tuple[bytes, np.ndarray]:
        """The bitstream and the reconstruction the encoder computed alongside it."""
        check_image(image)
        lmbda = self.rate.validate(rate_point)
        net = self.networks()[lmbda]
        mid = next(k for k, v in self._ids.items() if v == lmbda)
        x_padded, padding = pad_to_multiple(image_to_tensor(image).to(self.device), PAD_MULTIPLE)
        out = net.compress(x_padded, 0.0)
        data = fileformat.pack(
            fileformat.LicFile(
                model_id=mid,
                height=image.shape[0],
                width=image.shape[1],
                rate=lmbda,
                streams=tuple(g[0] for g in out["strings"]),
            )
        )
        return data, tensor_to_image(crop_padding(out["x_hat"], padding))

    @torch.no_grad()
    def decode(self, data: bytes) -> np.ndarray:
        f = fileformat.unpack(data)
        nets = self.networks()
        lmbda = self._ids.get(f.model_id)
        if lmbda is None:
            raise CorruptStreamError(
                f"file was written by model {f.model_id.hex()}, which is none of the "
                f"{len(nets)} single-rate models in {self.checkpoint}"
            )
        if f.rate != lmbda or len(f.streams) != 3:
            raise CorruptStreamError("header lambda or stream count does not match the model that wrote it")
        x_padded, padding = pad_to_multiple(torch.zeros(1, 3, f.height, f.width), PAD_MULTIPLE)
        latent_hw = (x_padded.shape[-2] // 16, x_padded.shape[-1] // 16)
        try:
            out = nets[lmbda].decompress([[s] for s in f.streams], latent_hw, 0.0)
        except Exception as exc:  # the rANS decoder rejects some malformed payloads
            raise CorruptStreamError(f"{self.name}: cannot decode payload: {exc}") from exc
        return tensor_to_image(crop_padding(out["x_hat"], padding))
