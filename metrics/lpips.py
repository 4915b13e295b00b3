"""LPIPS v0.1 (Zhang, Isola, Efros, Shechtman, Wang, CVPR 2018): AlexNet and VGG16 variants.

Distance between channel-normalised deep features of the two images, each layer weighted by the
learned 1x1 "linear" layer and averaged over space, summed over layers. The ImageNet backbone
loads from the local weights folder under torchvision's file name (see ``metrics.weights``); the
small learned linear layers load from the ``lpips`` wheel (``lpips/weights/v0.1/<net>.pth``).
Inputs in [0, 1] are mapped to [-1, 1] and through LPIPS's scaling layer, as the package does with
``normalize=True``. The reference's features are computed once per batch. Lower is better.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torchvision
from torch import nn

from metrics.base import MetricAvailability
from metrics.weights import (
    ALEXNET,
    VGG16,
    BackboneFile,
    BackboneMetric,
    channels_last,
    check_backbone,
    load_features,
    vgg16_features,
)

# LPIPS's ScalingLayer constants (ImageNet statistics expressed on the [-1, 1] scale).
_SHIFT = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
_SCALE = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)
_EPS = 1e-10

# Layer boundaries in torchvision's ``features``: outputs after relu1..relu5 (alex) / relu1_2..relu5_3 (vgg).
_SLICES = {"alex": (2, 5, 8, 10, 12), "vgg": (4, 9, 16, 23, 30)}


def lpips_package_dir() -> Path | None:
    spec = importlib.util.find_spec("lpips")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def linear_layers_path(net: str) -> Path | None:
    package = lpips_package_dir()
    return None if package is None else package / "weights" / "v0.1" / f"{net}.pth"


def normalize_channels(features: torch.Tensor) -> torch.Tensor:
    return features / (features.pow(2).sum(dim=1, keepdim=True).sqrt() + _EPS)


class LPIPSNetwork(nn.Module):
    """Backbone slices + learned linear weights; ``score(prepare_reference(ref), images)`` per image."""

    shift: torch.Tensor  # buffers
    scale: torch.Tensor

    def __init__(self, net: str, features: nn.Sequential, linear: list[torch.Tensor]):
        super().__init__()
        bounds = (0,) + _SLICES[net]
        self.slices = nn.ModuleList(nn.Sequential(*features[a:b]) for a, b in zip(bounds, bounds[1:]))
        self.linear = nn.ParameterList(nn.Parameter(w, requires_grad=False) for w in linear)
        self.register_buffer("shift", _SHIFT.clone())
        self.register_buffer("scale", _SCALE.clone())

    def normalized_features(self, images: torch.Tensor) -> list[torch.Tensor]:
        h = ((2 * images - 1) - self.shift) / self.scale
        out = []
        for layer in self.slices:
            h = layer(h)
            out.append(normalize_channels(h))
        return out

    def prepare_reference(self, reference: torch.Tensor) -> list[torch.Tensor]:
        """Reference-side features, computed once per reference."""
        return self.normalized_features(reference)

    def score(self, reference: list[torch.Tensor], images: torch.Tensor) -> torch.Tensor:
        total = torch.zeros(images.shape[0], device=images.device)
        for ref, dist, weight in zip(reference, self.normalized_features(images), self.linear):
            total += ((ref - dist) ** 2 * weight).sum(dim=1).mean(dim=(1, 2))
        return total


class LPIPS(BackboneMetric):
    _network: LPIPSNetwork | None
    name = "lpips"
    unit = "distance"
    reference = "the lpips package (v0.1 linear layers) with the same backbone, equal"
    higher_is_better = False
    value_range = (0.0, 1.0)
    net = "alex"
    backbone: BackboneFile = ALEXNET
    description = "LPIPS v0.1, AlexNet backbone (ImageNet weights from the weights folder); lower is better"
    min_size = 32  # the deepest slice needs a non-empty feature map

    def availability(self) -> MetricAvailability:
        linear = linear_layers_path(self.net)
        if linear is None or not linear.is_file():
            return MetricAvailability(
                False,
                f"{self.name} needs the lpips package (pip install lpips) for its "
                f"learned linear layers weights/v0.1/{self.net}.pth",
            )
        return check_backbone(self.context, self.backbone, self.name)

    def _build_features(self) -> nn.Sequential:
        if self.net == "alex":
            return torchvision.models.alexnet(weights=None).features
        return vgg16_features()

    def network(self) -> LPIPSNetwork:
        if self._network is None:
            features = self._build_features()
            load_features(self.context, self.backbone, features, self.name)
            path = linear_layers_path(self.net)
            if path is None:  # availability() says so first
                raise FileNotFoundError(f"{self.name} needs the lpips package for weights/v0.1/{self.net}.pth")
            state = torch.load(path, map_location="cpu", weights_only=True)
            linear = [state[f"lin{k}.model.1.weight"].view(1, -1, 1, 1) for k in range(5)]
            self._network = channels_last(LPIPSNetwork(self.net, features, linear).eval().to(self.device))
        return self._network


class LPIPSVGG(LPIPS):
    name = "lpips-vgg"
    unit = "distance"
    reference = "the lpips package (v0.1 linear layers) with the same backbone, equal"
    net = "vgg"
    backbone = VGG16
    description = "LPIPS v0.1, VGG16 backbone (ImageNet weights from the weights folder); lower is better"
    min_size = 16
