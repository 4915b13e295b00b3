"""``licbench codec encode|decode|info`` and ``licbench train`` on files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from app.cli import main
from models.multirate.checkpoint import save_exported
from models.multirate.codec import MultiRateCodec
from models.multirate.network import MultiRateCheckerboard, MultiRateConfig


@pytest.fixture()
def weights(tmp_path):
    torch.manual_seed(0)
    return save_exported(
        MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=(0.002, 0.01, 0.05))), tmp_path / "multirate.pth"
    )


@pytest.fixture()
def png(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    path = tmp_path / "in.png"
    Image.fromarray(image).save(path)
    return path, image


def test_encode_then_decode_files(tmp_path, weights, png, capsys):
    path, image = png
    lic, out = tmp_path / "x.lic", tmp_path / "out.png"
    assert main(["codec", "--weights", str(weights), "encode", str(path), str(lic), "--rate", "0.4"]) == 0
    printed = capsys.readouterr().out
    data = lic.read_bytes()
    assert f"{len(data)} bytes" in printed and f"{8 * len(data) / (40 * 56):.4f} bpp" in printed
    assert main(["codec", "--weights", str(weights), "decode", str(lic), str(out)]) == 0
    decoded = np.asarray(Image.open(out).convert("RGB"))
    _, reconstruction = MultiRateCodec(checkpoint=weights).encode_with_reconstruction(image, 0.4)
    assert np.array_equal(decoded, reconstruction)


def test_refined_encode_is_read_by_the_plain_decoder(tmp_path, weights, png, capsys):
    path, image = png
    lic, out = tmp_path / "x.lic", tmp_path / "out.png"
    argv = ["codec", "--weights", str(weights), "encode", str(path), str(lic), "--rate", "0.4", "--refine-steps", "3"]
    assert main(argv) == 0
    assert "latent refined (3 steps)" in capsys.readouterr().out
    assert main(["codec", "--weights", str(weights), "decode", str(lic), str(out)]) == 0
    from models.multirate.refine import RefineSettings

    refined = MultiRateCodec(checkpoint=weights, refine=RefineSettings(steps=3))
    data, reconstruction = refined.encode_with_reconstruction(image, 0.4)
    assert data == lic.read_bytes()
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), reconstruction)


def test_encode_by_lambda_and_info_shows_range_and_header(tmp_path, weights, png, capsys):
    path, _ = png
    lic = tmp_path / "x.lic"
    assert main(["codec", "--weights", str(weights), "encode", str(path), str(lic), "--lmbda", "0.01"]) == 0
    assert "rate 0.5000" in capsys.readouterr().out
    assert main(["codec", "--weights", str(weights), "info", str(lic)]) == 0
    printed = capsys.readouterr().out
    assert "trained lambdas: 0.002, 0.01, 0.05" in printed
    assert "56x40, rate 0.5000" in printed


@pytest.mark.parametrize(
    "argv_tail, message",
    [
        (["encode", "{png}", "{tmp}/x.lic", "--lmbda", "0.5"], "outside the trained range"),
        (["encode", "{png}", "{tmp}/x.lic", "--rate", "1.5"], "out of range"),
        (["encode", "{tmp}/none.png", "{tmp}/x.lic", "--rate", "0.5"], "cannot read image"),
        (["encode", "{png}", "{tmp}/x.lic", "--rate", "0.5", "--refine-steps", "-2"], "refinement steps must be >= 0"),
        (["decode", "{tmp}/corrupt.lic", "{tmp}/o.png"], "truncated"),
        (["decode", "{png}", "{tmp}/o.png"], "bad magic"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(tmp_path, weights, png, capsys, argv_tail, message):
    path, image = png
    (tmp_path / "corrupt.lic").write_bytes(MultiRateCodec(checkpoint=weights).encode(image, 0.5)[:-9])
    argv = [a.format(png=path, tmp=tmp_path) for a in argv_tail]
    assert main(["codec", "--weights", str(weights), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_weights_are_named(tmp_path, png, capsys):
    assert main(["codec", "--weights", str(tmp_path / "nope.pth"), "info"]) == 2
    assert str(tmp_path / "nope.pth") in capsys.readouterr().err


def test_train_command_writes_a_run_and_resumes(tmp_path, capsys):
    data = tmp_path / "photos"
    data.mkdir()
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (70, 70, 3), dtype=np.uint8)).save(data / "a.png")
    config = dict(
        lambdas=[0.005, 0.05],
        N=8,
        M=8,
        crop=64,
        batch_size=1,
        steps=2,
        eval_every=1,
        eval_crops=1,
        data=str(data),
        device="cpu",
    )
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    logs = tmp_path / "logs"
    assert main(["train", "--config", str(tmp_path / "c.yaml"), "--log-dir", str(logs), "--no-progress"]) == 0
    (run_dir,) = logs.iterdir()
    captured = capsys.readouterr()
    assert str(run_dir) in captured.out
    assert "multirate:" not in captured.err  # --no-progress: no progress bar
    assert main(["train", "--resume", str(run_dir), "--no-progress"]) == 0
    assert main(["train", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_single_rate_bundle_command(tmp_path, capsys):
    from models.codecs.single_rate import load_bundle
    from models.training.single_rate_bundle import main as bundle

    paths = []
    for k, lmbda in enumerate((0.01, 0.002)):  # given out of order: written in rising lambda order
        torch.manual_seed(k)
        paths.append(
            str(
                save_exported(
                    MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=(lmbda,))), tmp_path / f"m{k}.pth"
                )
            )
        )
    assert bundle([*paths, "-o", str(tmp_path / "b.pth"), "--half"]) == 0
    assert "lambdas [0.002, 0.01]" in capsys.readouterr().out
    assert [n.config.lambdas for n in load_bundle(tmp_path / "b.pth")] == [(0.002,), (0.01,)]
    (tmp_path / "junk.pth").write_bytes(b"junk")
    assert bundle([str(tmp_path / "junk.pth"), "-o", str(tmp_path / "c.pth")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err and not (tmp_path / "c.pth").exists()
