"""Local ImageNet backbones for the learned metrics: found by torchvision's file name, hash checked.

Nothing here downloads. A backbone is usable when ``<weights_dir>/<file name>`` exists and its
SHA-256 starts with the prefix torchvision puts in the file name (``alexnet-owt-7be5be79.pth`` ->
``7be5be79``), or equals a hash the caller trusts explicitly (``MetricContext.trusted_sha256``,
for tests that save random weights of the same architecture under the expected name).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import torch
import torchvision
from torch import nn

from metrics.base import Metric, MetricAvailability, MetricContext
from models.checkpoints import is_tensor_state_dict, read_checkpoint
from models.devices import resolve_device
from models.weights_store import sha256_of


@dataclass(frozen=True)
class BackboneFile:
    """One torchvision ImageNet checkpoint: its file name carries the SHA-256 prefix."""

    file_name: str
    title: str

    @property
    def sha256_prefix(self) -> str:
        return self.file_name.rsplit("-", 1)[1].split(".", 1)[0]


ALEXNET = BackboneFile("alexnet-owt-7be5be79.pth", "torchvision AlexNet IMAGENET1K_V1")
VGG16 = BackboneFile("vgg16-397923af.pth", "torchvision VGG16 IMAGENET1K_V1")


def backbone_path(context: MetricContext, backbone: BackboneFile) -> Path:
    return context.weights_dir / backbone.file_name


def check_backbone(context: MetricContext, backbone: BackboneFile, metric: str) -> MetricAvailability:
    """Available when the file exists and its hash is the published one (or one the context trusts)."""
    path = backbone_path(context, backbone)
    folder = context.weights_dir.resolve()
    if not path.is_file():
        return MetricAvailability(
            False,
            f"{metric} needs the ImageNet backbone {backbone.file_name} ({backbone.title}) "
            f"in {folder}; that file is not there",
        )
    digest = sha256_of(path)
    trusted = context.trusted_sha256.get(backbone.file_name)
    if not (digest.startswith(backbone.sha256_prefix) or digest == trusted):
        return MetricAvailability(
            False,
            f"{metric}: {path.resolve()} is not the published {backbone.title} checkpoint "
            f"(SHA-256 {digest[:8]}..., expected {backbone.sha256_prefix}...)",
        )
    return MetricAvailability(True)


def load_features(context: MetricContext, backbone: BackboneFile, features: nn.Module, metric: str) -> None:
    """Load the ``features.*`` tensors of a torchvision checkpoint into ``features`` (strict).

    The classifier tensors, when present, are not needed by any metric and are ignored.
    """
    availability = check_backbone(context, backbone, metric)
    if not availability.available:
        raise FileNotFoundError(availability.reason)
    state = read_checkpoint(backbone_path(context, backbone))
    if not is_tensor_state_dict(state):
        raise ValueError(f"{backbone_path(context, backbone)} is not a state dict of tensors")
    prefix = "features."
    features.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}, strict=True)


BATCH = 4  # distorted images per forward pass (bounds memory on large images)


NetworkT = TypeVar("NetworkT", bound=nn.Module)


def channels_last(network: NetworkT) -> NetworkT:
    """``network`` with its 4-d weights in channels-last (NHWC) layout, the layout oneDNN's CPU
    convolutions run fastest in (PyTorch's channels-last tutorial): AlexNet's forward takes ~0.6x
    the time of the default NCHW layout on one thread, VGG16's ~0.9x (benchmarks/metrics.py). The
    arithmetic is the same; only float32 rounding of the sums may differ (~1e-7 relative)."""
    return network.to(memory_format=torch.channels_last)


class ScoringNetwork(Protocol):
    """What a backbone metric's network offers: the reference's features once, then scores per image."""

    def prepare_reference(self, reference: torch.Tensor) -> Any: ...

    def score(self, reference: Any, images: torch.Tensor) -> torch.Tensor: ...


class BackboneMetric(Metric):
    """A learned metric on an ImageNet backbone: runs on the context's device; its network is built
    lazily (``self._network``) on first use by ``network()``, and offers ``prepare_reference(x)`` (the
    reference-side features, computed once) and ``score(prepared, distorted)``."""

    def __init__(self, context: MetricContext | None = None) -> None:
        super().__init__(context)
        self._network: nn.Module | None = None

    @property
    def device(self) -> str:
        return resolve_device(self.context.device)

    def network(self) -> ScoringNetwork:
        raise NotImplementedError

    @torch.no_grad()
    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        return self.score_many(self.prepare(reference), distorted)

    def _input(self, images: torch.Tensor) -> torch.Tensor:
        """Images on the metric's device in the layout its network was put in (channels-last)."""
        return images.to(self.device).contiguous(memory_format=torch.channels_last)

    @torch.no_grad()
    def prepare(self, reference: torch.Tensor) -> Any:
        """The reference's features through the network, on the metric's device."""
        return self.network().prepare_reference(self._input(reference))

    @torch.no_grad()
    def score_many(self, prepared: Any, distorted: torch.Tensor) -> list[float]:
        network = self.network()
        values = [network.score(prepared, self._input(chunk)) for chunk in distorted.split(BATCH)]
        return [float(v) for v in torch.cat(values).cpu()]


def vgg16_features() -> nn.Sequential:
    """torchvision's VGG16 ``features`` (same layer indices and parameter names), without building
    and initialising the 120M-parameter classifier that no metric uses."""
    vgg = torchvision.models.vgg
    return vgg.make_layers(vgg.cfgs["D"], batch_norm=False)
