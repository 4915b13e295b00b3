"""The multi-rate training recipe: augmented crops, warm start with re-mapped gains, the lr schedule, and the
RD evaluation helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from models.multirate.checkpoint import load_network, save_exported
from models.multirate.network import MultiRateCheckerboard, MultiRateConfig
from models.training.crops import RandomCrops, is_colour
from models.training.multirate import TrainConfig, make_crops, train, validation_batch
from models.training.rd_eval import bd_rate, is_monotone, restrict
from models.training.warm_start import remap_log_gains, warm_start


@pytest.fixture()
def photos():
    rng = np.random.default_rng(0)
    colour = rng.integers(0, 256, (150, 200, 3), dtype=np.uint8)
    grey = np.repeat(rng.integers(0, 256, (160, 140, 1), dtype=np.uint8), 3, axis=2)
    return [colour, grey]


def test_augmented_crops_are_8bit_batches_and_grey_stays_grey(photos):
    crops = RandomCrops(photos, 64, seed=1, min_scale=0.4, rotate=True, colour=True, weights=[0.0, 1.0])
    batch = crops.batch(6)
    assert batch.shape == (6, 3, 64, 64) and 0 <= batch.min() and batch.max() <= 1
    assert torch.equal(batch, (batch * 255).round() / 255)
    assert torch.equal(batch[:, 0], batch[:, 1]) and torch.equal(batch[:, 1], batch[:, 2])  # only the grey photo


def test_colour_augmentation_changes_colour_photos_only_by_permutation_and_saturation(photos):
    # zero jitter: the first crop of a seed is a channel permutation of the plain crop at the same position
    for seed in range(4):
        a = RandomCrops(photos[:1], 64, seed=seed).batch(1)[0]
        b = RandomCrops(photos[:1], 64, seed=seed, colour=True, colour_jitter=0.0).batch(1)[0]
        assert any(
            torch.equal(a[list(p)], b) for p in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))
        )
    assert is_colour(photos[0]) and not is_colour(photos[1])


def test_multi_scale_crops_downscale(photos):
    # a flat-vs-stripes photo: downscaled windows average the 1-pixel stripes
    stripes = np.zeros((256, 256, 3), dtype=np.uint8)
    stripes[:, ::2] = 255
    full = RandomCrops([stripes], 64, seed=0).batch(8)
    scaled = RandomCrops([stripes], 64, seed=0, min_scale=0.25).batch(8)
    assert full.std() > scaled.std()


def test_mosaics_paste_discs_of_other_crops_with_soft_edges():
    # two flat photos, red and blue: a mosaic shows both, with blends only on the discs' anti-aliased rims
    red = np.zeros((96, 96, 3), dtype=np.uint8)
    red[..., 0] = 255
    blue = np.zeros((96, 96, 3), dtype=np.uint8)
    blue[..., 2] = 255
    batch = RandomCrops([red, blue], 64, seed=0, mosaic=1.0, mosaic_discs=8).batch(16)
    assert torch.equal(batch, (batch * 255).round() / 255) and torch.all(batch[:, 1] == 0)
    assert torch.allclose(batch[:, 0] + batch[:, 2], torch.ones_like(batch[:, 0]), atol=1.5 / 255)
    pure = ((batch[:, 0] == 1) | (batch[:, 2] == 1)).float().mean()
    assert 0.9 < pure < 1.0  # mostly whole-photo pixels; some rim pixels blend the two
    both = [bool((b[0] == 1).any() and (b[2] == 1).any()) for b in batch]
    assert sum(both) >= 4
    plain = RandomCrops([red, blue], 64, seed=0).batch(16)
    assert not any(bool((b[0] > 0).any() and (b[2] > 0).any()) for b in plain)


def test_tone_jitter_changes_exposure_keeps_grey_and_off_switches_keep_the_old_stream(photos):
    plain = RandomCrops(photos, 64, seed=3, min_scale=0.5, rotate=True, colour=True).batch(6)
    off = RandomCrops(photos, 64, seed=3, min_scale=0.5, rotate=True, colour=True, tone_jitter=0.0, mosaic=0.0).batch(6)
    assert torch.equal(plain, off)  # older configs keep their exact crops
    toned = RandomCrops(photos[1:], 64, seed=3, tone_jitter=0.5).batch(6)
    same = RandomCrops(photos[1:], 64, seed=3).batch(6)
    assert not torch.equal(toned, same) and 0 <= toned.min() and toned.max() <= 1
    assert torch.equal(toned[:, 0], toned[:, 1]) and torch.equal(toned[:, 1], toned[:, 2])


def test_validation_crops_ignore_tone_and_mosaic(photos):
    base = TrainConfig(lambdas=[0.01], N=8, M=8, crop=64, min_scale=0.5, rotate=True, colour=True)
    mixed = TrainConfig(
        lambdas=[0.01], N=8, M=8, crop=64, min_scale=0.5, rotate=True, colour=True, tone_jitter=0.3, mosaic=0.5
    )
    assert torch.equal(validation_batch(base, photos), validation_batch(mixed, photos))
    assert not torch.equal(make_crops(base, photos, 7).batch(4), make_crops(mixed, photos, 7).batch(4))
    with pytest.raises(ValueError, match="mosaic"):
        TrainConfig(lambdas=[0.01], N=8, M=8, mosaic=1.5)


def test_sampling_weights_and_bad_arguments(photos):
    with pytest.raises(ValueError, match="one weight per image"):
        RandomCrops(photos, 64, weights=[1.0])
    with pytest.raises(ValueError, match="min_scale"):
        RandomCrops(photos, 64, min_scale=0)
    with pytest.raises(ValueError, match="tone_jitter"):
        RandomCrops(photos, 64, tone_jitter=1.0)
    with pytest.raises(ValueError, match="mosaic"):
        RandomCrops(photos, 64, mosaic=-0.1)
    with pytest.raises(ValueError, match="at least"):
        RandomCrops(photos, 512)


def test_gain_remap_interpolates_in_log_lambda():
    old = torch.tensor([[0.0, 1.0], [1.0, 3.0], [2.0, 5.0]])
    lambdas = [0.001, 0.01, 0.1]
    same = remap_log_gains(old, lambdas, lambdas)
    assert torch.allclose(same, old)
    mid = remap_log_gains(old, lambdas, [math.sqrt(0.001 * 0.01), 1.0])  # half-way, and one decade beyond
    assert torch.allclose(mid, torch.tensor([[0.5, 2.0], [3.0, 7.0]]))


def test_warm_start_copies_transforms_and_refuses_other_sizes(tmp_path):
    torch.manual_seed(0)
    old = MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=(0.002, 0.01, 0.05)))
    path = save_exported(old, tmp_path / "old.pth")
    new = warm_start(MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=(0.002, 0.05))), path)
    assert torch.equal(new.g_a[0].weight, old.g_a[0].weight)
    assert torch.allclose(new.y_log_gain[1], old.y_log_gain[2])
    with pytest.raises(ValueError, match="N=8, M=8"):
        warm_start(MultiRateCheckerboard(MultiRateConfig(N=16, M=8, lambdas=(0.01,))), path)


def test_warm_start_widens_transforms_without_changing_the_function(tmp_path):
    torch.manual_seed(0)
    old = MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=(0.002, 0.05))).eval()
    path = save_exported(old, tmp_path / "old.pth")
    wide = warm_start(
        MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=(0.002, 0.05), transform_channels=16)), path
    ).eval()
    assert wide.g_a[0].weight.shape[0] == 16 and wide.g_s[-1].weight.shape[0] == 16
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        for position in (0, 0.5, 1):
            a, b = old(x, position), wide(x, position)
            assert torch.allclose(a["x_hat"], b["x_hat"], atol=1e-5)
            assert torch.allclose(a["likelihoods"]["y"], b["likelihoods"]["y"], atol=1e-6)
    # the new channels are live: their input weights are not all zero, so training can grow them
    assert wide.g_a[2].weight[8:].abs().sum() > 0
    reloaded = load_network(save_exported(wide, tmp_path / "wide.pth"))
    assert reloaded.config.transform_width == 16
    with pytest.raises(ValueError, match="widened, not narrowed"):
        warm_start(MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=(0.01,))), tmp_path / "wide.pth")


def test_warm_start_widens_the_latent_without_changing_the_old_channels(tmp_path):
    torch.manual_seed(0)
    old = MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=(0.002, 0.05), transform_channels=12)).eval()
    path = save_exported(old, tmp_path / "old.pth")
    wide = warm_start(
        MultiRateCheckerboard(MultiRateConfig(N=8, M=12, lambdas=(0.002, 0.05), transform_channels=12)), path
    ).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        for position in (0, 0.5, 1):
            a, b = old(x, position), wide(x, position)
            assert torch.allclose(a["x_hat"], b["x_hat"], atol=1e-5)
            assert torch.allclose(a["likelihoods"]["y"], b["likelihoods"]["y"][:, :8], atol=1e-6)
            assert torch.allclose(a["likelihoods"]["z"], b["likelihoods"]["z"], atol=1e-6)
            # the new channels carry values (so their synthesis weights get a gradient) and cost bits
            assert b["likelihoods"]["y"][:, 8:].lt(1).any()
    assert wide.g_a[-1].weight[8:].abs().sum() > 0 and wide.g_s[0].weight[8:].abs().sum() == 0
    # real bitstreams still round-trip with the widened entropy model
    with torch.no_grad():
        enc = wide.compress(x, 0.5)
        dec = wide.decompress(enc["strings"], (4, 4), 0.5)
    assert torch.allclose(enc["x_hat"], dec["x_hat"], atol=1e-5)
    # transforms and latent widened in one warm start
    both = warm_start(
        MultiRateCheckerboard(MultiRateConfig(N=8, M=12, lambdas=(0.002, 0.05), transform_channels=16)), path
    ).eval()
    with torch.no_grad():
        assert torch.allclose(old(x, 1)["x_hat"], both(x, 1)["x_hat"], atol=1e-5)
    with pytest.raises(ValueError, match="M can be widened, not narrowed"):
        warm_start(MultiRateCheckerboard(MultiRateConfig(N=8, M=6, lambdas=(0.01,), transform_channels=12)), path)


def test_cosine_schedule_with_warmup():
    cfg = TrainConfig(schedule="cosine", warmup_steps=10, min_lr_ratio=0.01, steps=100)
    assert cfg.lr_factor(5, 0.05) == pytest.approx(0.5)
    assert cfg.lr_factor(11, 0.0) == pytest.approx(1.0)
    assert cfg.lr_factor(60, 0.5) == pytest.approx(0.505)
    assert cfg.lr_factor(100, 1.0) == pytest.approx(0.01)
    assert TrainConfig(lr_drop_at=0.8).lr_factor(90, 0.9) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="linear")


def test_time_budget_ends_the_run_and_warm_start_is_used(tmp_path, photos):
    torch.manual_seed(0)
    init = save_exported(MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=(0.004, 0.08))), tmp_path / "i.pth")
    cfg = TrainConfig(
        lambdas=[0.004, 0.02, 0.08],
        N=8,
        M=8,
        crop=64,
        batch_size=2,
        steps=10_000,
        log_every=1,
        eval_every=1,
        eval_crops=2,
        device="cpu",
        time_budget_s=1e-9,
        schedule="cosine",
        init_from=str(init),
        min_scale=0.5,
        rotate=True,
        colour=True,
    )
    run_dir = train(cfg, log_root=tmp_path / "logs", images=photos, progress=False)
    state = torch.load(run_dir / "checkpoint_latest.pth", weights_only=True)
    assert state["step"] == 1 and state["elapsed_s"] > 0  # the budget stopped it after one step
    assert load_network(run_dir / "multirate.pth").config.lambdas == (0.004, 0.02, 0.08)


def test_rd_helpers():
    anchor = [(0.2, 26.0), (0.4, 29.0), (0.8, 32.0)]
    better = [(b * 0.8, p) for b, p in anchor]  # same quality, 20% fewer bits
    assert bd_rate(anchor, better) == pytest.approx(-20.0, abs=0.5)
    assert math.isnan(bd_rate(anchor, [(0.1, 10.0), (0.2, 11.0), (0.3, 12.0)]))
    assert is_monotone(anchor) and not is_monotone([(0.2, 26.0), (0.3, 25.0)])
    assert restrict([(0.05, 1), (0.1, 2), (0.5, 3), (1.5, 4), (2.0, 5)], 0.15, 1.0) == [(0.1, 2), (0.5, 3), (1.5, 4)]
