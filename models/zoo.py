"""CompressAI's pretrained image zoo as licbench codecs, loaded from a local weights folder.

Six architectures, MSE- and MS-SSIM-optimised, one network per quality level (CompressAI's
convention): ``bmshj2018-factorized``, ``bmshj2018-hyperprior``, ``mbt2018-mean``, ``mbt2018`` (q1-8),
``cheng2020-anchor``, ``cheng2020-attn`` (q1-6); MS-SSIM variants are named ``<architecture>-ms-ssim``.

Which files, which architectures and which N/M per quality all come from the installed CompressAI
(``compressai.zoo.image.model_urls``, ``cfgs``, ``model_architectures``), so this module holds no copy of
that table. Files are looked for as ``<weights_dir>/compressai/<released file name>`` and loaded the
way CompressAI's own zoo loads them, minus the download: the hash prefix in the file name is checked
(as ``torch.hub`` does), ``torch.load(weights_only=True)`` (a pickle carrying code is refused),
``load_pretrained`` key conversion, the architecture built with the zoo's N/M for that quality,
``load_state_dict`` (strict) and ``update(force=True)`` to rebuild the entropy coder's CDF tables.

Availability is all-or-nothing per codec: a codec is available only when the file of every quality is
present and its hash matches, so its default sweep (all qualities) always runs. Otherwise the reason
names every missing or corrupt file; ``licbench weights status`` lists them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from compressai.models import CompressionModel
from compressai.zoo.image import cfgs, model_architectures, model_urls
from compressai.zoo.pretrained import load_pretrained

from models.base import Availability, CodecContext, CodecError, CodecKind, RateSpec
from models.checkpoints import is_tensor_state_dict, read_checkpoint
from models.learned import CompressAICodec
from models.weights_store import WeightFile, WeightsError, check_file, verify_hash

WEIGHTS_FOLDER = "compressai"

# (architecture, paper reference) in the order the zoo lists them.
ARCHITECTURES: dict[str, str] = {
    "bmshj2018-factorized": "Balle et al., ICLR 2018, factorized prior",
    "bmshj2018-hyperprior": "Balle et al., ICLR 2018, scale hyperprior",
    "mbt2018-mean": "Minnen et al., NeurIPS 2018, mean-scale hyperprior",
    "mbt2018": "Minnen et al., NeurIPS 2018, joint autoregressive + hierarchical prior (serial decoding)",
    "cheng2020-anchor": "Cheng et al., CVPR 2020, anchor (serial decoding)",
    "cheng2020-attn": "Cheng et al., CVPR 2020, with attention (serial decoding)",
}
METRICS = ("mse", "ms-ssim")


def codec_name(architecture: str, metric: str) -> str:
    """``bmshj2018-hyperprior`` for MSE models, ``bmshj2018-hyperprior-ms-ssim`` for MS-SSIM ones."""
    return architecture if metric == "mse" else f"{architecture}-{metric}"


def released_weight_files(architecture: str, metric: str) -> dict[int, WeightFile]:
    """The released file of each quality, named as CompressAI publishes it (URL basename)."""
    urls = model_urls[architecture][metric]
    return {
        int(q): WeightFile(
            codec=codec_name(architecture, metric),
            quality=int(q),
            filename=url.rsplit("/", 1)[1],
            folder=WEIGHTS_FOLDER,
            architecture=architecture,
            metric=metric,
        )
        for q, url in sorted(urls.items())
    }


def zoo_weight_files() -> list[WeightFile]:
    """Every file the zoo codecs can use, codec by codec, quality by quality."""
    return [
        f
        for arch in ARCHITECTURES
        for metric in METRICS
        if metric in model_urls.get(arch, {})
        for f in released_weight_files(arch, metric).values()
    ]


def build_network(architecture: str, quality: int) -> CompressionModel:
    """The architecture with the zoo's channel counts (N, M) for ``quality``, randomly initialised."""
    return model_architectures[architecture](*cfgs[architecture][quality])


def load_zoo_network(file: WeightFile, path: Path) -> CompressionModel:
    """Load one released checkpoint the way ``compressai.zoo`` does, from a local file.

    Raises ``CodecError`` saying what is wrong (missing, hash mismatch, not a tensor-only state dict,
    keys or shapes that do not fit the architecture).
    """
    if not path.is_file():
        raise CodecError(f"{file.codec}: missing weights file {path}")
    try:
        verify_hash(path, file.hash_prefix)
    except WeightsError as exc:
        raise CodecError(f"{file.codec}: {exc}") from exc
    try:
        state = read_checkpoint(path)
    except Exception as exc:  # unpickling refused or unreadable archive
        raise CodecError(f"{file.codec}: cannot load {path} as a state dict: {_first_line(exc)}") from exc
    if not is_tensor_state_dict(state):
        raise CodecError(f"{file.codec}: {path} is not a state dict of tensors")
    net = build_network(file.architecture, file.quality)
    try:
        net.load_state_dict(load_pretrained(state))
    except Exception as exc:  # missing/unexpected keys, shape mismatches
        raise CodecError(
            f"{file.codec}: {path} does not fit {file.architecture} quality {file.quality}: {_first_line(exc)}"
        ) from exc
    net.update(force=True)
    return net.eval()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass
class ZooCodec(CompressAICodec):
    """One zoo architecture x training metric; rate point = CompressAI quality index."""

    architecture: str = ""
    metric: str = "mse"
    weight_files: dict[int, WeightFile] = field(default_factory=dict)
    build: Callable[[], CompressionModel] = field(default=lambda: None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        weights_dir = Path(self.context.weights_dir)
        self.checkpoints = {q: f.path(weights_dir) for q, f in self.weight_files.items()}

    def availability(self) -> Availability:
        weights_dir = Path(self.context.weights_dir)
        problems = [s for s in (check_file(f, weights_dir) for f in self.weight_files.values()) if not s.ok]
        if not problems:
            return Availability(True)
        missing = [str(s.path) for s in problems if s.status == "missing"]
        corrupt = [str(s.path) for s in problems if s.status != "missing"]
        parts = []
        if missing:
            parts.append("missing weights file(s): " + ", ".join(missing))
        if corrupt:
            parts.append("corrupt weights file(s) (hash mismatch): " + ", ".join(corrupt))
        return Availability(False, "; ".join(parts) + " (add them with `licbench weights add FILE...`)")

    def load_network(self, rate_point: int) -> CompressionModel:
        file = self.weight_files.get(rate_point)
        if file is None:
            raise CodecError(f"{self.name}: no weights file is known for quality {rate_point}")
        return load_zoo_network(file, self.checkpoints[rate_point])


def zoo_codec(
    architecture: str,
    metric: str,
    context: CodecContext,
    weight_files: dict[int, WeightFile] | None = None,
) -> ZooCodec:
    """The codec for one zoo architecture and training metric; ``weight_files`` defaults to the released ones."""
    files = released_weight_files(architecture, metric) if weight_files is None else weight_files
    qualities = sorted(cfgs[architecture])
    rate = RateSpec(
        points=tuple(float(q) for q in qualities), minimum=qualities[0], maximum=qualities[-1], integer=True
    )
    return ZooCodec(
        name=codec_name(architecture, metric),
        kind=CodecKind.LEARNED,
        rate=rate,
        description=(
            f"CompressAI zoo {architecture}, {metric.upper()}-optimised ({ARCHITECTURES[architecture]}); "
            f"rate point = quality {qualities[0]}-{qualities[-1]}"
        ),
        context=context,
        architecture=architecture,
        metric=metric,
        weight_files=files,
    )


def zoo_codec_factories() -> list[Callable[[CodecContext], ZooCodec]]:
    """One factory per published (architecture, metric) pair, for ``models.registry``."""
    return [
        partial(zoo_codec, arch, metric)
        for arch in ARCHITECTURES
        for metric in METRICS
        if metric in model_urls.get(arch, {})
    ]
