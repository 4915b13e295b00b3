"""The training sandbox: a few steps on tiny data produce a complete, resumable run folder."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from models.multirate.codec import MultiRateCodec
from models.training.crops import CropStream, RandomCrops
from models.training.multirate import TrainConfig, crop_batches, load_config, train, validation_batch

TINY = dict(
    lambdas=[0.004, 0.02, 0.08],
    N=8,
    M=8,
    crop=64,
    batch_size=2,
    steps=4,
    log_every=1,
    eval_every=2,
    eval_crops=2,
    device="cpu",
)


@pytest.fixture()
def images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (72, 96, 3), dtype=np.uint8) for _ in range(2)]


def _rows(run_dir):
    with (run_dir / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


def test_training_runs_a_few_steps_and_writes_the_run_folder(tmp_path, images):
    run_dir = train(TrainConfig(**TINY), log_root=tmp_path / "logs", images=images, progress=False)
    assert run_dir.parent == tmp_path / "logs"
    for name in (
        "config.yaml",
        "metrics.csv",
        "checkpoint_latest.pth",
        "checkpoint_best.pth",
        "multirate.pth",
        "multirate-f16.pth",
    ):
        assert (run_dir / name).is_file(), name
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["lambdas"] == TINY["lambdas"]
    rows = _rows(run_dir)
    assert {r["split"] for r in rows} == {"train", "val"}
    val_at_end = [r for r in rows if r["split"] == "val" and int(r["step"]) == TINY["steps"]]
    assert sorted(float(r["lmbda"]) for r in val_at_end) == TINY["lambdas"]  # every lambda, every evaluation
    for r in rows:
        assert float(r["bpp"]) > 0 and float(r["psnr"]) > 0 and float(r["mse"]) > 0
    # the exported network is what the codec loads
    codec = MultiRateCodec(checkpoint=run_dir / "multirate.pth")
    image = images[0][:40, :50]
    assert codec.decode(codec.encode(image, 0.5)).shape == image.shape


def test_resume_continues_from_the_latest_checkpoint(tmp_path, images):
    run_dir = train(TrainConfig(**TINY), log_root=tmp_path, images=images, progress=False)
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    config["steps"] = 6
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    assert train(TrainConfig(**TINY), resume=run_dir, images=images, progress=False) == run_dir
    steps = [int(r["step"]) for r in _rows(run_dir) if r["split"] == "train"]
    assert steps == list(range(1, 7))  # picked up at step 5, no step repeated


def test_tune_split_logs_the_tuning_tiles_at_every_lambda(tmp_path, images):
    run_dir = train(
        TrainConfig(**{**TINY, "steps": 2, "tune_eval": True}), log_root=tmp_path, images=images, progress=False
    )
    rows = _rows(run_dir)
    tune = [r for r in rows if r["split"] == "tune"]
    assert sorted(float(r["lmbda"]) for r in tune) == TINY["lambdas"]  # one evaluation (step 2), every lambda
    val = {r["lambda_index"]: r for r in rows if r["split"] == "val"}
    # a different image set from the validation crops: different figures
    assert all(r["loss"] != val[r["lambda_index"]]["loss"] for r in tune)
    assert all(float(r["bpp"]) > 0 and float(r["psnr"]) > 0 for r in tune)


def test_resume_without_checkpoint_is_refused(tmp_path, images):
    with pytest.raises(ValueError, match="cannot resume"):
        train(TrainConfig(**TINY), resume=tmp_path, images=images, progress=False)


@pytest.mark.parametrize("name", ["multirate.yaml", "multirate-gpu.yaml", "multirate-photos.yaml"])
def test_shipped_config_holds_a_lambda_set(name):
    config = load_config(Path(__file__).resolve().parents[3] / "configs" / name)
    assert len(config.lambdas) >= 4 and config.lambdas == sorted(config.lambdas)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"lambdas": [0.01, 0.005]}, "increasing"),
        ({"crop": 100}, "multiple of 64"),
        ({"learning_rate": 1e-3}, "unknown config key"),
        ({"eval_crop": 96}, "eval_crop must each be a multiple of 64"),
        ({"loader_workers": -1}, "loader_workers"),
        ({"photo_sets": "models/training/data/wikipedia_photos_manifest.json"}, "list of photo-set manifest paths"),
    ],
)
def test_bad_configs_are_explained(tmp_path, change, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**TINY, **change}))
    with pytest.raises(ValueError, match=message):
        load_config(path)


def test_data_folder_of_images_is_used(tmp_path):
    from PIL import Image

    folder = tmp_path / "photos" / "nested"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (70, 80, 3), dtype=np.uint8)).save(folder / "a.png")
    run_dir = train(
        TrainConfig(**{**TINY, "steps": 1, "data": str(tmp_path / "photos")}),
        log_root=tmp_path / "logs",
        progress=False,
    )
    assert (run_dir / "multirate.pth").is_file()
    with pytest.raises(ValueError, match="no images"):
        train(TrainConfig(**{**TINY, "data": str(tmp_path / "logs")}), log_root=tmp_path / "l2", progress=False)


def test_worker_processes_feed_the_training_loop(tmp_path, images):
    config = TrainConfig(**{**TINY, "loader_workers": 2})
    run_dir = train(config, log_root=tmp_path, images=images, progress=False)
    assert [int(r["step"]) for r in _rows(run_dir) if r["split"] == "train"] == [1, 2, 3, 4]
    batches = crop_batches(RandomCrops(images, 64, seed=0), config)
    first, second = next(batches), next(batches)
    assert first.shape == (2, 3, 64, 64)
    # each worker its own generator: the two workers' first batches are not copies of each other
    assert not np.array_equal(first.numpy(), second.numpy())


def test_crop_stream_seeds_differ_by_start_step(images):
    a = next(iter(CropStream(RandomCrops(images, 64), 2, seed=(0, 0))))
    b = next(iter(CropStream(RandomCrops(images, 64), 2, seed=(0, 250))))
    assert a.dtype == torch.uint8 and not np.array_equal(a.numpy(), b.numpy())


def test_crop_stream_codes_are_the_float_crops_exactly(images):
    stream = CropStream(RandomCrops(images, 64, tone_jitter=0.2, mosaic=0.5), 3, seed=(4,))
    codes = next(iter(stream))
    twin = RandomCrops(images, 64, tone_jitter=0.2, mosaic=0.5)
    twin.rng = np.random.default_rng([4, 0])
    assert torch.equal(codes.float() / 255.0, twin.batch(3))


def test_validation_crops_keep_their_own_size(images):
    config = TrainConfig(**{**TINY, "crop": 128, "eval_crop": 64})
    assert validation_batch(config, images).shape == (2, 3, 64, 64)
    # the same crops as a run that trains on 64-pixel crops: losses stay comparable across crop sizes
    assert np.array_equal(
        validation_batch(config, images).numpy(), validation_batch(TrainConfig(**TINY), images).numpy()
    )
