"""DISTS (Ding, Ma, Wang, Simoncelli, IEEE TPAMI 2020): structure and texture similarity.

VGG16 with its max-pools replaced by L2 pooling (3x3 Hann window, stride 2); for the image itself
and five stages, per-channel global means (texture) and variances/covariance (structure) give
two similarity terms weighted by the learned alpha/beta. The VGG16 ImageNet backbone loads from
the local weights folder under torchvision's file name; alpha/beta load from the
``DISTS_pytorch`` wheel (``DISTS_pytorch/weights.pt``). Reference statistics are computed once per
batch. Lower is better (0 for identical images).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from metrics.base import MetricAvailability
from metrics.weights import VGG16, BackboneMetric, channels_last, check_backbone, load_features, vgg16_features

_CHANNELS = (3, 64, 128, 256, 512, 512)
_POOLS = (4, 9, 16, 23)  # VGG16 max-pool positions replaced by L2 pooling
_C1 = _C2 = 1e-6


def dists_weights_path() -> Path | None:
    spec = importlib.util.find_spec("DISTS_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "weights.pt"


class L2Pooling(nn.Module):
    """sqrt(Hann-weighted 3x3 mean of x^2), stride 2, padding 1."""

    filter: torch.Tensor  # buffer

    def __init__(self, channels: int):
        super().__init__()
        a = torch.tensor([0.5, 1.0, 0.5])  # np.hanning(5)[1:-1]
        g = a[:, None] * a[None, :]
        self.register_buffer("filter", (g / g.sum()).expand(channels, 1, 3, 3).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(x * x, self.filter, stride=2, padding=1, groups=x.shape[1])
        return (out + 1e-12).sqrt()


class DISTSNetwork(nn.Module):
    mean: torch.Tensor  # buffers
    std: torch.Tensor

    def __init__(self, features: nn.Sequential, alpha: torch.Tensor, beta: torch.Tensor):
        super().__init__()
        layers: list[nn.Module] = list(features)
        channels = {4: 64, 9: 128, 16: 256, 23: 512}
        for i in _POOLS:
            layers[i] = L2Pooling(channels[i])
        bounds = (0,) + _POOLS + (30,)
        self.stages = nn.ModuleList(nn.Sequential(*layers[a:b]) for a, b in zip(bounds, bounds[1:]))
        total = alpha.sum() + beta.sum()
        self.alpha = [a.view(1, -1) for a in (alpha / total).split(_CHANNELS, dim=1)]
        self.beta = [b.view(1, -1) for b in (beta / total).split(_CHANNELS, dim=1)]
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def to(self, *args, **kwargs):  # keep the plain-tensor weights on the module's device
        module = super().to(*args, **kwargs)
        device = self.mean.device
        self.alpha = [a.to(device) for a in self.alpha]
        self.beta = [b.to(device) for b in self.beta]
        return module

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        h = (images - self.mean) / self.std
        out = [images]
        for stage in self.stages:
            h = stage(h)
            out.append(h)
        return out

    def score(
        self, reference: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], images: torch.Tensor
    ) -> torch.Tensor:
        total = torch.zeros(images.shape[0], device=images.device)
        for (ref, ref_mean, ref_var), feat, alpha, beta in zip(reference, self.features(images), self.alpha, self.beta):
            mean = feat.mean(dim=(2, 3))
            var = ((feat - mean[..., None, None]) ** 2).mean(dim=(2, 3))
            cov = (feat * ref).mean(dim=(2, 3)) - mean * ref_mean
            texture = (2 * mean * ref_mean + _C1) / (mean**2 + ref_mean**2 + _C1)
            structure = (2 * cov + _C2) / (var + ref_var + _C2)
            total += (alpha * texture).sum(dim=1) + (beta * structure).sum(dim=1)
        return 1 - total

    def prepare_reference(self, reference: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        stats = []
        for feat in self.features(reference):
            mean = feat.mean(dim=(2, 3))
            stats.append((feat, mean, ((feat - mean[..., None, None]) ** 2).mean(dim=(2, 3))))
        return stats


class DISTS(BackboneMetric):
    _network: DISTSNetwork | None
    name = "dists"
    unit = "distance"
    reference = "the DISTS_pytorch package with the same backbone, equal"
    higher_is_better = False
    value_range = (0.0, 1.0)
    description = "DISTS, VGG16 backbone (ImageNet weights from the weights folder); lower is better"
    min_size = 32

    def availability(self) -> MetricAvailability:
        path = dists_weights_path()
        if path is None or not path.is_file():
            return MetricAvailability(
                False,
                "dists needs the DISTS_pytorch package (pip install DISTS_pytorch) "
                "for its learned alpha/beta weights.pt",
            )
        return check_backbone(self.context, VGG16, self.name)

    def network(self) -> DISTSNetwork:
        if self._network is None:
            features = vgg16_features()
            load_features(self.context, VGG16, features, self.name)
            path = dists_weights_path()
            if path is None:  # availability() says so first
                raise FileNotFoundError("dists needs the DISTS_pytorch package for its weights.pt")
            weights = torch.load(path, map_location="cpu", weights_only=True)
            network = DISTSNetwork(features, weights["alpha"], weights["beta"]).eval()
            self._network = channels_last(network.to(self.device))
        return self._network
