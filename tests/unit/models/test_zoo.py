"""The CompressAI zoo codecs load released-format checkpoints from a local folder, and only those.

The published weights cannot ship with the tests, so each test makes a randomly initialised network
of the zoo architecture, runs ``update()``, saves its state dict the way CompressAI's files are saved,
names the file as CompressAI names its releases (hash prefix computed from the saved bytes) and loads
it through the same code the real files go through.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)

from models.base import CodecContext, CodecError, CorruptStreamError  # noqa: E402
from models.learned import crop_padding, image_to_tensor, pad_to_multiple, tensor_to_image  # noqa: E402
from models.weights_store import WeightFile  # noqa: E402
from models.zoo import (  # noqa: E402
    ARCHITECTURES,
    build_network,
    released_weight_files,
    zoo_codec,
    zoo_weight_files,
)

QUALITY_COUNTS = {
    "bmshj2018-factorized": 8,
    "bmshj2018-hyperprior": 8,
    "mbt2018-mean": 8,
    "mbt2018": 8,
    "cheng2020-anchor": 6,
    "cheng2020-attn": 6,
}


def save_released_style(
    weights_dir: Path, architecture: str, metric: str, quality: int, *, legacy_keys: bool = False, net=None
) -> tuple[WeightFile, torch.nn.Module]:
    """Random-init network saved as ``<released stem>-<sha256[:8]>.pth.tar`` under ``weights_dir/compressai``."""
    torch.manual_seed(quality)
    net = net or build_network(architecture, quality)
    net.update(force=True)
    state = net.state_dict()
    if legacy_keys:  # older CompressAI releases: DataParallel prefix, ParameterList names
        renamed = {}
        for key, value in state.items():
            key = re.sub(r"^entropy_bottleneck\.(biases|matrices|factors)\.", r"entropy_bottleneck._\1.", key)
            key = key.replace(".skip.", ".downsample.")
            renamed["module." + key] = value
        state = renamed
    released = released_weight_files(architecture, metric)[quality]
    stem = released.filename.rsplit("-", 1)[0]  # e.g. "bmshj2018-hyperprior-1"
    folder = weights_dir / "compressai"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "unnamed.pth.tar"
    torch.save(state, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    path = folder / f"{stem}-{digest[:8]}.pth.tar"
    tmp.rename(path)
    file = WeightFile(
        codec=released.codec,
        quality=quality,
        filename=path.name,
        folder="compressai",
        architecture=architecture,
        metric=metric,
    )
    return file, net.eval()


def photo(h: int = 64, w: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) * 127 / (h + w)], axis=-1)
    return np.clip(base + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8)


def test_zoo_lists_six_architectures_mse_and_ms_ssim_with_released_file_names():
    files = zoo_weight_files()
    codecs = {f.codec for f in files}
    assert set(ARCHITECTURES) == set(QUALITY_COUNTS)
    assert codecs == set(QUALITY_COUNTS) | {f"{a}-ms-ssim" for a in QUALITY_COUNTS}
    for arch, count in QUALITY_COUNTS.items():
        for codec in (arch, f"{arch}-ms-ssim"):
            qualities = sorted(f.quality for f in files if f.codec == codec)
            assert qualities == list(range(1, count + 1))
    assert len({f.filename for f in files}) == len(files)
    hyper4 = released_weight_files("bmshj2018-hyperprior", "mse")[4]
    assert hyper4.filename == "bmshj2018-hyperprior-4-de1b779c.pth.tar"
    assert hyper4.hash_prefix == "de1b779c"
    assert all(f.hash_prefix and len(f.hash_prefix) == 8 for f in files)


def test_codec_rate_points_are_the_zoo_quality_levels():
    ctx = CodecContext(weights_dir=Path("/nonexistent"))
    assert zoo_codec("mbt2018", "mse", ctx).rate.points == tuple(float(q) for q in range(1, 9))
    cheng = zoo_codec("cheng2020-attn", "ms-ssim", ctx)
    assert cheng.name == "cheng2020-attn-ms-ssim"
    assert cheng.rate.points == tuple(float(q) for q in range(1, 7))
    with pytest.raises(CodecError):
        cheng.rate.validate(7)


def test_missing_weights_make_the_codec_unavailable_naming_every_file(tmp_path):
    codec = zoo_codec("bmshj2018-hyperprior", "mse", CodecContext(weights_dir=tmp_path))
    availability = codec.availability()
    assert not availability.available
    for f in released_weight_files("bmshj2018-hyperprior", "mse").values():
        assert str(tmp_path / "compressai" / f.filename) in availability.reason
    with pytest.raises(CodecError, match="missing weights file"):
        codec.encode(photo(), 1)


def test_some_qualities_present_is_still_unavailable_and_names_only_the_missing(tmp_path):
    released = released_weight_files("bmshj2018-factorized", "mse")
    file, _ = save_released_style(tmp_path, "bmshj2018-factorized", "mse", 1)
    files = dict(released)
    files[1] = file
    codec = zoo_codec("bmshj2018-factorized", "mse", CodecContext(weights_dir=tmp_path), weight_files=files)
    availability = codec.availability()
    assert not availability.available
    assert file.filename not in availability.reason
    assert all(released[q].filename in availability.reason for q in range(2, 9))


def test_file_whose_hash_does_not_match_its_name_is_corrupt_and_never_loaded(tmp_path):
    released = released_weight_files("bmshj2018-factorized", "mse")[1]
    folder = tmp_path / "compressai"
    folder.mkdir()
    net = build_network("bmshj2018-factorized", 1)
    net.update(force=True)
    torch.save(net.state_dict(), folder / released.filename)  # a valid state dict, but not the released bytes
    codec = zoo_codec("bmshj2018-factorized", "mse", CodecContext(weights_dir=tmp_path), weight_files={1: released})
    availability = codec.availability()
    assert not availability.available
    assert "corrupt" in availability.reason and released.filename in availability.reason
    with pytest.raises(CodecError, match="does not start with 446d5c7f"):
        codec.encode(photo(), 1)


@pytest.mark.parametrize("architecture", list(QUALITY_COUNTS))
def test_checkpoint_in_compressai_format_loads_and_codes_like_the_saved_network(tmp_path, architecture):
    file, saved_net = save_released_style(tmp_path, architecture, "mse", 1)
    codec = zoo_codec(architecture, "mse", CodecContext(weights_dir=tmp_path), weight_files={1: file})
    assert codec.availability().available

    loaded = codec.network(1)
    saved_state, loaded_state = saved_net.state_dict(), loaded.state_dict()
    assert saved_state.keys() == loaded_state.keys()
    assert all(torch.equal(saved_state[k], loaded_state[k]) for k in saved_state)

    image = photo(64, 64)
    data = codec.encode(image, 1)
    reconstruction = codec.decode(data)
    assert reconstruction.shape == image.shape and reconstruction.dtype == np.uint8

    # The same image through the network that was saved, outside the codec.
    with torch.no_grad():
        x, padding = pad_to_multiple(image_to_tensor(image), 64)
        out = saved_net.compress(x)
        expected = tensor_to_image(crop_padding(saved_net.decompress(out["strings"], out["shape"])["x_hat"], padding))
    np.testing.assert_array_equal(reconstruction, expected)


def test_checkpoint_with_legacy_keys_and_dataparallel_prefix_is_converted(tmp_path):
    file, saved_net = save_released_style(tmp_path, "bmshj2018-hyperprior", "ms-ssim", 1, legacy_keys=True)
    raw = torch.load(file.path(tmp_path), weights_only=True)
    assert any(k.startswith("module.entropy_bottleneck._biases.") for k in raw)
    codec = zoo_codec("bmshj2018-hyperprior", "ms-ssim", CodecContext(weights_dir=tmp_path), weight_files={1: file})
    loaded = codec.network(1)
    assert torch.equal(loaded.entropy_bottleneck.biases[0], saved_net.entropy_bottleneck.biases[0])
    assert codec.decode(codec.encode(photo(), 1)).shape == (64, 64, 3)


def test_checkpoint_of_another_quality_size_is_rejected_with_reason(tmp_path):
    # Quality 1 uses N=128, M=192; quality 6 uses N=192, M=320.
    small = build_network("bmshj2018-factorized", 1)
    file, _ = save_released_style(tmp_path, "bmshj2018-factorized", "mse", 6, net=small)
    codec = zoo_codec("bmshj2018-factorized", "mse", CodecContext(weights_dir=tmp_path), weight_files={6: file})
    with pytest.raises(CodecError, match="does not fit bmshj2018-factorized quality 6"):
        codec.encode(photo(), 6)


class NotAStateDict:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickle_that_carries_code_is_refused(tmp_path):
    folder = tmp_path / "compressai"
    folder.mkdir()
    tmp = folder / "x.pth.tar"
    torch.save({"g_a.0.weight": NotAStateDict()}, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    path = tmp.rename(folder / f"bmshj2018-factorized-prior-1-{digest[:8]}.pth.tar")
    file = WeightFile("bmshj2018-factorized", 1, path.name, "compressai", "bmshj2018-factorized", "mse")
    codec = zoo_codec("bmshj2018-factorized", "mse", CodecContext(weights_dir=tmp_path), weight_files={1: file})
    with pytest.raises(CodecError, match="cannot load"):
        codec.encode(photo(), 1)


def test_stream_of_another_codec_or_truncated_is_corrupt(tmp_path):
    file, _ = save_released_style(tmp_path, "bmshj2018-factorized", "mse", 1)
    codec = zoo_codec("bmshj2018-factorized", "mse", CodecContext(weights_dir=tmp_path), weight_files={1: file})
    data = codec.encode(photo(), 1)
    with pytest.raises(CorruptStreamError):
        codec.decode(data[: len(data) // 2])
    other = zoo_codec("bmshj2018-factorized", "ms-ssim", CodecContext(weights_dir=tmp_path))
    with pytest.raises(CorruptStreamError):
        other.decode(data)


def test_registry_offers_every_zoo_codec_beside_the_classical_anchors(tmp_path):
    from models.registry import build_codecs

    codecs = build_codecs(CodecContext(weights_dir=tmp_path))
    zoo_names = {f.codec for f in zoo_weight_files()}
    assert zoo_names <= set(codecs)
    assert {"jpeg", "jpeg-444", "webp", "avif", "jpeg-xl"} <= set(codecs)
    for name in zoo_names:
        assert codecs[name].kind == "learned"
        assert not codecs[name].availability().available  # empty weights folder: never random weights
