"""Train one multi-rate model over a set of lambdas: the sandbox behind ``licbench train``.

Each step draws one lambda index at random and minimises ``lambda * 255^2 * MSE + bpp`` at that index's
gain vectors (CompressAI's ``RateDistortionLoss``), so one set of transforms learns every rate.
A run writes, under ``<log_root>/<timestamp>/``:

* ``config.yaml``: the configuration it ran with (``--resume`` reads it back);
* ``metrics.csv``: training rows every ``log_every`` steps and validation rows (fixed crops, every lambda)
  every ``eval_every`` steps: loss, bpp, MSE, PSNR per lambda; TensorBoard scalars too when the
  ``tensorboard`` package happens to be installed;
* ``checkpoint_latest.pth`` / ``checkpoint_best.pth``: network, optimisers, training time and data RNG
  (best = lowest validation loss averaged over the lambdas);
* ``multirate.pth``: the best network exported for the codec (weights and config; the entropy-coder
  tables are dropped and rebuilt on load, see ``models.multirate.checkpoint``), the file to copy to
  ``models/weights/multirate.pth``.
"""

from __future__ import annotations

import csv
import itertools
import math
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
import yaml
from compressai.losses import RateDistortionLoss
from compressai.optimizers import net_aux_optimizer
from torch.utils.data import DataLoader
from tqdm import tqdm

from models.devices import resolve_device
from models.image_errors import PIL_DECODE_ERRORS
from models.learned import image_to_tensor
from models.multirate.checkpoint import export_state, load_weights, save_exported
from models.multirate.network import MultiRateCheckerboard, MultiRateConfig
from models.photo_manifest import REPO_ROOT, load_manifest, verify_photos
from models.photos import training_photos, tuning_crops
from models.training.crops import CropStream, RandomCrops
from models.training.warm_start import warm_start

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm")
CSV_FIELDS = ("step", "split", "lambda_index", "lmbda", "loss", "bpp", "mse", "psnr", "aux_loss", "lr", "seconds")


@dataclass
class TrainConfig:
    """Everything a run needs; ``configs/multirate.yaml`` holds the same keys."""

    lambdas: list[float] = field(default_factory=lambda: [0.0018, 0.0048, 0.013, 0.035, 0.0932])
    N: int = 48
    M: int = 64
    transform_channels: int | None = None  # g_a/g_s width when wider than N (warm start widens an older N)
    crop: int = 128
    batch_size: int = 8
    steps: int = 5000
    lr: float = 1e-3
    aux_lr: float = 1e-3
    lr_drop_at: float = 0.8  # schedule "step": fraction of the run after which the main lr is divided by 10
    schedule: str = "step"  # "step" (lr_drop_at) or "cosine" (linear warm-up, then cosine down to min_lr_ratio*lr)
    warmup_steps: int = 0
    min_lr_ratio: float = 0.01
    time_budget_s: float | None = None  # stop (and finish the schedule) at this much training time, if earlier
    clip_grad_norm: float = 1.0
    data: str | None = None  # a folder of images; None = the photos shipped in installed packages
    # photo sets kept out of git, trained on together with the shipped photos (or ``data``): manifest paths
    # (models.photo_manifest; relative to the repository root). Every listed photo must be in place with its
    # sha256, else the run stops naming the file (scripts/fetch_photos.py copies them).
    photo_sets: list[str] | None = None
    photo_weights: dict[str, float] | None = None  # sampling weight per named training photo (default 1)
    min_scale: float = 1.0  # multi-scale crops: random downscaling by s in [min_scale, 1] before cropping
    rotate: bool = False  # 90-degree rotations on top of the horizontal flips
    colour: bool = False  # channel permutations and saturation jitter of colour photos
    colour_jitter: float = 0.3
    tone_jitter: float = 0.0  # gamma and contrast jitter of every crop (0 = off)
    mosaic: float = 0.0  # probability of a dead-leaves mosaic of training-photo crops instead of one crop
    mosaic_discs: int = 6  # at most this many discs per mosaic
    init_from: str | None = None  # warm start from this multirate checkpoint (same N and M)
    seed: int = 0
    log_every: int = 50
    eval_every: int = 250
    eval_crops: int = 8
    eval_crop: int | None = None  # side of the fixed validation crops; None = crop (keeps losses comparable
    # between runs that train on other crop sizes)
    loader_workers: int = 0  # >0: crops are made in this many worker processes (GPU runs), each its own seeded
    # stream; 0 = in the training process, whose crop stream a resumed run continues exactly
    # also log the RD terms on models.photos.tuning_crops() (split "tune"): a photo never trained on, so the
    # curves show whether training still generalises; checkpoints are still chosen on the validation crops
    tune_eval: bool = False
    device: str = "auto"
    num_threads: int | None = 1  # None leaves torch's default

    def __post_init__(self) -> None:
        self.model_config()  # validates lambdas, N, M
        for name in ("crop", "batch_size", "steps", "log_every", "eval_every", "eval_crops"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.crop % 64 or (self.eval_crop is not None and (int(self.eval_crop) < 64 or self.eval_crop % 64)):
            raise ValueError("crop and eval_crop must each be a multiple of 64 (the network's total stride)")
        if int(self.loader_workers) < 0:
            raise ValueError("loader_workers must be 0 or more")
        if not 0 < self.lr_drop_at <= 1:
            raise ValueError("lr_drop_at is a fraction of the steps in (0, 1]")
        if self.schedule not in ("step", "cosine"):
            raise ValueError('schedule must be "step" or "cosine"')
        if not 0 < self.min_scale <= 1:
            raise ValueError("min_scale must be in (0, 1]")
        if not 0 <= self.tone_jitter < 1 or not 0 <= self.mosaic <= 1 or self.mosaic_discs < 1:
            raise ValueError("tone_jitter must be in [0, 1), mosaic in [0, 1] and mosaic_discs at least 1")
        if self.time_budget_s is not None and float(self.time_budget_s) <= 0:
            raise ValueError("time_budget_s must be positive")
        if self.warmup_steps < 0 or not 0 <= self.min_lr_ratio <= 1:
            raise ValueError("warmup_steps must be >= 0 and min_lr_ratio in [0, 1]")
        if self.photo_weights is not None and not isinstance(self.photo_weights, dict):
            raise ValueError("photo_weights maps photo names to weights")
        if self.photo_sets is not None and (
            not isinstance(self.photo_sets, list) or not all(isinstance(p, str) for p in self.photo_sets)
        ):
            raise ValueError("photo_sets is a list of photo-set manifest paths")

    def lr_factor(self, step: int, progress: float) -> float:
        """Multiplier of ``lr`` at ``step`` when ``progress`` (0..1) of the run is done."""
        if self.warmup_steps and step <= self.warmup_steps:
            return step / self.warmup_steps
        if self.schedule == "step":
            return 0.1 if progress > self.lr_drop_at else 1.0
        cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
        return self.min_lr_ratio + (1.0 - self.min_lr_ratio) * cosine

    def model_config(self) -> MultiRateConfig:
        width = None if self.transform_channels is None else int(self.transform_channels)
        return MultiRateConfig(
            N=int(self.N), M=int(self.M), lambdas=tuple(float(v) for v in self.lambdas), transform_channels=width
        )

    @classmethod
    def from_mapping(cls, raw: dict) -> TrainConfig:
        if not isinstance(raw, dict):
            raise ValueError("the config must be a mapping of keys to values")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown config key(s): {', '.join(unknown)}")
        return cls(**raw)


def load_config(path: Path) -> TrainConfig:
    """Read a YAML training config; ``ValueError`` says what is wrong with it."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not valid YAML: {exc}") from exc
    return TrainConfig.from_mapping(raw or {})


def image_folder(folder: Path) -> list[np.ndarray]:
    """Every image under ``folder`` (recursively) as uint8 HxWx3 RGB."""
    from PIL import Image

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"data folder {folder} does not exist")
    images = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        try:
            with Image.open(path) as img:
                images.append(np.asarray(img.convert("RGB")))
        except PIL_DECODE_ERRORS as exc:
            raise ValueError(f"cannot read training image {path}: {exc}") from None
    if not images:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {folder}")
    return images


def _manifest_path(path: str) -> Path:
    return Path(path) if Path(path).is_absolute() else REPO_ROOT / path


def photo_set_names(config: TrainConfig) -> list[str]:
    """``<set>/<file>`` for every photo of the config's ``photo_sets``, in manifest order (no file read)."""
    names = []
    for path in config.photo_sets or ():
        manifest = load_manifest(_manifest_path(path))
        names += [f"{manifest.name}/{f.path}" for f in manifest.files]
    return names


def photo_set_images(config: TrainConfig, root: Path = REPO_ROOT) -> list[np.ndarray]:
    """The photos of the config's ``photo_sets``, every one checked against its manifest's sha256 first
    (``models.photo_manifest.PhotoSetError`` names a missing or differing file: no run on a partial set)."""
    from PIL import Image

    images = []
    for path in config.photo_sets or ():
        for photo in verify_photos(load_manifest(_manifest_path(path)), root):
            with Image.open(photo) as img:
                images.append(np.asarray(img.convert("RGB")))
    return images


def training_images(config: TrainConfig) -> list[np.ndarray]:
    """The shipped training photos (or the ``data`` folder), then the ``photo_sets`` photos."""
    base = image_folder(Path(config.data)) if config.data else list(training_photos().values())
    return base + photo_set_images(config)


def photo_weights(config: TrainConfig, count: int) -> list[float] | None:
    """Sampling weights for the shipped training photos (in ``TRAINING_PHOTOS`` order) and then the
    ``photo_sets`` photos (named ``<set>/<file>``; weight 1 unless named), None = uniform."""
    if not config.photo_weights or config.data:
        return None
    names = list(training_photos()) + photo_set_names(config)
    unknown = sorted(set(config.photo_weights) - set(names))
    if unknown:
        raise ValueError(f"photo_weights names unknown training photo(s): {', '.join(unknown)}")
    weights = [float(config.photo_weights.get(name, 1.0)) for name in names]
    return weights if len(weights) == count else None


def make_crops(config: TrainConfig, images: list[np.ndarray], seed: int, validation: bool = False) -> RandomCrops:
    """The run's crop stream; ``validation`` leaves out tone jitter and mosaics and uses ``eval_crop``, so the
    fixed validation crops stay the same crops whichever of those a run trains with (losses stay comparable
    across runs)."""
    crop = int(config.eval_crop or config.crop) if validation else config.crop
    return RandomCrops(
        images,
        crop,
        seed=seed,
        weights=photo_weights(config, len(images)),
        min_scale=config.min_scale,
        rotate=config.rotate,
        colour=config.colour,
        colour_jitter=config.colour_jitter,
        tone_jitter=0.0 if validation else config.tone_jitter,
        mosaic=0.0 if validation else config.mosaic,
        mosaic_discs=config.mosaic_discs,
    )


def validation_batch(config: TrainConfig, images: list[np.ndarray]) -> torch.Tensor:
    """The run's fixed validation crops of the TRAINING photos (own seed, no tone jitter or mosaics): the
    ``eval_crops`` crops checkpoints are chosen by, the same in training and in ``rd_eval``."""
    return make_crops(config, images, config.seed + 10_000, validation=True).batch(config.eval_crops)


def crop_batches(
    crops: RandomCrops, config: TrainConfig, start_step: int = 0, device: str = "cpu"
) -> Iterator[torch.Tensor]:
    """Endless float training batches on ``device``: from ``crops`` itself when ``loader_workers`` is 0, else
    from that many worker processes, each with its own stream seeded by (seed, ``start_step``, worker) so a
    resumed run draws new crops (not bit-identical to an uninterrupted run, unlike the single-process stream).
    The workers' uint8 codes travel to the device as they are (pinned on CUDA) and become floats there."""
    if not config.loader_workers:
        return (crops.batch(config.batch_size).to(device) for _ in itertools.count())
    stream = CropStream(crops, config.batch_size, seed=(int(config.seed), int(start_step)))
    loader = DataLoader(
        stream,
        batch_size=None,
        num_workers=int(config.loader_workers),
        pin_memory=device.startswith("cuda"),
        prefetch_factor=4,
    )
    return (codes.to(device, non_blocking=True).float().div_(255.0) for codes in loader)


def save_exports(net: MultiRateCheckerboard, folder: Path) -> None:
    """A run's deployable files: ``multirate.pth`` (float32) and ``multirate-f16.pth`` (the same weights stored
    as float16, as shipped)."""
    save_exported(net.cpu(), folder / "multirate.pth")
    save_exported(net, folder / "multirate-f16.pth", half=True)


def rd_terms(out: dict, x: torch.Tensor, lmbda: float) -> dict[str, torch.Tensor]:
    """CompressAI's rate-distortion loss terms, plus PSNR."""
    terms = RateDistortionLoss(lmbda=lmbda)(out, x)
    terms["psnr"] = -10.0 * torch.log10(terms["mse_loss"].detach().clamp_min(1e-10))
    return terms


class RunLog:
    """CSV rows (and TensorBoard scalars when available) for one run directory."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "metrics.csv"
        new = not self.path.exists()
        self.file = self.path.open("a", newline="")
        self.writer = csv.DictWriter(self.file, fieldnames=CSV_FIELDS)
        if new:
            self.writer.writeheader()
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional; the CSV is the record
            self.tb = None
        else:
            self.tb = SummaryWriter(str(run_dir))

    def row(self, **values) -> None:
        self.writer.writerow({k: values.get(k, "") for k in CSV_FIELDS})
        if self.tb is not None:
            tag = f"{values['split']}/lambda{values['lambda_index']}"
            for key in ("loss", "bpp", "mse", "psnr"):
                self.tb.add_scalar(f"{tag}/{key}", float(values[key]), int(values["step"]))

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()
        if self.tb is not None:
            self.tb.close()


@torch.no_grad()
def validate(net: MultiRateCheckerboard, batch: torch.Tensor) -> list[dict[str, float]]:
    """RD terms at every trained lambda on fixed crops (noise quantisation, as in training)."""
    was_training = net.training
    net.eval()
    rows = []
    for index, lmbda in enumerate(net.config.lambdas):
        terms = rd_terms(net(batch, index), batch, lmbda)
        rows.append({k: float(terms[k]) for k in ("loss", "bpp_loss", "mse_loss", "psnr")})
    net.train(was_training)
    return rows


def tuning_batch() -> torch.Tensor:
    """The tiles of :data:`models.photos.TUNING_PHOTOS` as one float batch in [0, 1] (never trained on)."""
    return torch.cat([image_to_tensor(tile) for tile in tuning_crops().values()])


def _new_run_dir(log_root: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    run_dir = log_root / stamp
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = log_root / f"{stamp}-{suffix}"
    run_dir.mkdir(parents=True)
    return run_dir


def train(
    config: TrainConfig,
    log_root: Path = Path("logs"),
    resume: Path | None = None,
    progress: bool = True,
    images: list[np.ndarray] | None = None,
) -> Path:
    """Run (or resume) training; return the run directory."""
    if config.num_threads:
        torch.set_num_threads(int(config.num_threads))
    device = resolve_device(config.device)
    if resume is not None:
        run_dir = Path(resume)
        latest = run_dir / "checkpoint_latest.pth"
        if not latest.is_file():
            raise ValueError(f"cannot resume: {latest} does not exist")
        config = load_config(run_dir / "config.yaml")
    images = images if images is not None else training_images(config)
    crops = make_crops(config, images, config.seed)
    # checkpoints are chosen by these fixed crops of the TRAINING photos, never by held-out photos
    val_batch = validation_batch(config, images).to(device)
    tune_batch = tuning_batch().to(device) if config.tune_eval else None
    if resume is None:
        run_dir = _new_run_dir(Path(log_root))
        (run_dir / "config.yaml").write_text(yaml.safe_dump(asdict(config), sort_keys=False))

    torch.manual_seed(config.seed)
    random.seed(config.seed)
    net = MultiRateCheckerboard(config.model_config()).to(device)
    if device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True  # fixed crop shapes: let cuDNN pick its fastest kernels once
    optimizers = net_aux_optimizer(
        net, {"net": {"type": "Adam", "lr": config.lr}, "aux": {"type": "Adam", "lr": config.aux_lr}}
    )
    if resume is None and config.init_from:
        warm_start(net, Path(config.init_from))
    lambda_rng = np.random.default_rng(config.seed + 1)

    step, best, elapsed_before = 0, math.inf, 0.0
    if resume is not None:
        state = torch.load(run_dir / "checkpoint_latest.pth", map_location=device, weights_only=True)
        load_weights(net, state["state_dict"])
        optimizers["net"].load_state_dict(state["optimizer"])
        optimizers["aux"].load_state_dict(state["aux_optimizer"])
        crops.rng.bit_generator.state = state["crop_rng"]
        lambda_rng.bit_generator.state = state["lambda_rng"]
        torch.set_rng_state(state["torch_rng"])
        step, best = int(state["step"]), float(state["best_val_loss"])
        elapsed_before = float(state.get("elapsed_s", 0.0))

    def checkpoint(path: Path) -> None:
        torch.save(
            {
                **export_state(net),
                "optimizer": optimizers["net"].state_dict(),
                "aux_optimizer": optimizers["aux"].state_dict(),
                "elapsed_s": elapsed(),
                "crop_rng": crops.rng.bit_generator.state,
                "lambda_rng": lambda_rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(),
                "step": step,
                "best_val_loss": best,
            },
            path,
        )

    start = time.perf_counter()

    def elapsed() -> float:
        return elapsed_before + time.perf_counter() - start

    def fraction_done() -> float:
        done = step / config.steps
        if config.time_budget_s:
            done = max(done, elapsed() / float(config.time_budget_s))
        return done

    log = RunLog(run_dir)
    batches = crop_batches(crops, config, start_step=step, device=device)

    def evaluate(split: str, batch: torch.Tensor, aux_loss: float) -> list[dict[str, float]]:
        """:func:`validate` on ``batch``, one ``split`` row per lambda."""
        rows = validate(net, batch)
        for i, r in enumerate(rows):
            log.row(
                step=step,
                split=split,
                lambda_index=i,
                lmbda=net.config.lambdas[i],
                loss=r["loss"],
                bpp=r["bpp_loss"],
                mse=r["mse_loss"],
                psnr=r["psnr"],
                aux_loss=aux_loss,
                lr=optimizers["net"].param_groups[0]["lr"],
                seconds=round(elapsed(), 2),
            )
        return rows

    net.train()
    bar = tqdm(
        total=config.steps, initial=step, disable=not progress, desc="multirate", mininterval=2.0, dynamic_ncols=True
    )
    try:
        finished = resume is not None and fraction_done() >= 1.0
        while not finished and step < config.steps:
            step += 1
            lr = config.lr * config.lr_factor(step, fraction_done())
            for group in optimizers["net"].param_groups:
                group["lr"] = lr
            index = int(lambda_rng.integers(net.num_rates))
            lmbda = net.config.lambdas[index]
            x = next(batches)
            optimizers["net"].zero_grad()
            optimizers["aux"].zero_grad()
            terms = rd_terms(net(x, index), x, lmbda)
            terms["loss"].backward()
            if config.clip_grad_norm:
                torch.nn.utils.clip_grad_norm_(net.parameters(), config.clip_grad_norm)
            optimizers["net"].step()
            aux = net.aux_loss()
            aux.backward()
            optimizers["aux"].step()
            bar.update(1)
            last = finished = fraction_done() >= 1.0
            if step % config.log_every == 0 or last:
                bar.set_postfix(lmbda=lmbda, bpp=f"{terms['bpp_loss'].item():.3f}", psnr=f"{terms['psnr'].item():.2f}")
                log.row(
                    step=step,
                    split="train",
                    lambda_index=index,
                    lmbda=lmbda,
                    loss=terms["loss"].item(),
                    bpp=terms["bpp_loss"].item(),
                    mse=terms["mse_loss"].item(),
                    psnr=terms["psnr"].item(),
                    aux_loss=aux.item(),
                    lr=optimizers["net"].param_groups[0]["lr"],
                    seconds=round(elapsed(), 2),
                )
            if step % config.eval_every == 0 or last:
                rows = evaluate("val", val_batch, aux.item())
                val_loss = sum(r["loss"] for r in rows) / len(rows)
                if tune_batch is not None:
                    evaluate("tune", tune_batch, aux.item())
                if val_loss < best:
                    best = val_loss
                    checkpoint(run_dir / "checkpoint_best.pth")
                checkpoint(run_dir / "checkpoint_latest.pth")
                log.flush()
    finally:
        bar.close()
        log.close()
        del batches  # stops the loader's worker processes, if any
    best_path = run_dir / "checkpoint_best.pth"
    if best_path.is_file():
        state = torch.load(best_path, map_location="cpu", weights_only=True)
        load_weights(net, state["state_dict"])
    save_exports(net, run_dir)
    return run_dir
