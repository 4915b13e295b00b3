"""Hostile files beyond images: checkpoints (wrong keys or shapes, a pickle carrying code), data set zips
(bomb, zip-slip, symlink, not a zip) and a truncated ``.lic`` bitstream given to the CLI."""

from __future__ import annotations

import builtins
import io
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from compressai.models import FactorizedPrior
from PIL import Image

from tests.support import iqa_fixtures as fx

# --- checkpoints ---------------------------------------------------------------------------------------------


def _state_dict(n: int = 8, m: int = 12) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    net = FactorizedPrior(N=n, M=m)
    net.update(force=True)
    return net.state_dict()


def _pth(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


class _OpensAFile:
    """Unpickling this calls ``open(path, "w")``: the file appears only if the pickle's code runs."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return builtins.open, (self.path, "w")


def _submit(client, data: bytes, filename: str = "model.pth", architecture: str = "bmshj2018-factorized"):
    return client.post(
        "/api/v1/models",
        data={"name": "hostile", "architecture": architecture},
        files={"checkpoint": (filename, data, "application/octet-stream")},
    )


def _checkpoint_cases(tmp_path: Path) -> dict[str, tuple[bytes, str, str]]:
    state = _state_dict()
    renamed = {f"encoder.{k}": v for k, v in state.items()}  # ("module." prefixes are stripped, as CompressAI does)
    reshaped = dict(state)
    first = next(k for k, v in state.items() if v.ndim == 4)
    reshaped[first] = torch.zeros(3, 3, 3, 3)
    sentinel = tmp_path / "pickle-ran"
    return {
        "wrong keys": (_pth(renamed), "model.pth", "do not match"),
        "wrong shapes": (_pth(reshaped), "model.pth", ""),
        "not a state dict": (_pth([1, 2, 3]), "model.pth", ""),
        "pickle carrying code (torch.save)": (_pth({"weights": _OpensAFile(sentinel)}), "model.pth", "weights_only"),
        "pickle carrying code (raw pickle)": (pickle.dumps(_OpensAFile(sentinel)), "model.pt", ""),
        "random bytes": (np.random.default_rng(0).bytes(4096), "model.pth", ""),
        "truncated torch zip": (_pth(state)[:2000], "model.pth", ""),
        "empty file": (b"", "model.pth", ""),
        "safetensors header lying about its size": (b"\xff" * 8 + b"{}", "model.safetensors", ""),
        "unknown architecture": (_pth(state), "model.pth", "architecture"),
    }


CHECKPOINT_CASES = [
    "wrong keys",
    "wrong shapes",
    "not a state dict",
    "pickle carrying code (torch.save)",
    "pickle carrying code (raw pickle)",
    "random bytes",
    "truncated torch zip",
    "empty file",
    "safetensors header lying about its size",
    "unknown architecture",
]


@pytest.mark.parametrize("case", CHECKPOINT_CASES)
def test_hostile_checkpoint_is_refused_and_nothing_stored(client, nothing_stored, tmp_path, case):
    data, filename, message = _checkpoint_cases(tmp_path)[case]
    architecture = "no-such-architecture" if case == "unknown architecture" else "bmshj2018-factorized"
    response = _submit(client, data, filename, architecture)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert message in response.json()["detail"]
    assert not (tmp_path / "pickle-ran").exists(), "the pickle's code ran"


def test_the_sentinel_pickle_does_run_code_when_unpickled_unsafely(tmp_path):
    """The control: the same bytes, loaded by plain pickle, do create the file (so the check above can fail)."""
    sentinel = tmp_path / "pickle-ran"
    pickle.loads(pickle.dumps(_OpensAFile(sentinel))).close()
    assert sentinel.exists()


# --- data set import ---------------------------------------------------------------------------------------


def _zip_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    return {
        "zip bomb": (fx.zip_bomb(tmp_path / "bomb.zip", megabytes=8), "zip bomb"),
        "zip-slip ../ name": (fx.zip_entries(tmp_path / "slip.zip", {"../../evil.txt": b"x"}), ".."),
        "zip-slip absolute name": (fx.zip_entries(tmp_path / "abs.zip", {"/tmp/evil.txt": b"x"}), "absolute"),
        "symlink entry": (fx.zip_symlink(tmp_path / "link.zip"), "link"),
        "not a zip": (_write(tmp_path / "fake.zip", b"PK\x03\x04 but not really a zip"), "zip"),
        "empty zip file": (_write(tmp_path / "empty.zip", b""), ""),
    }


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "case", ["zip bomb", "zip-slip ../ name", "zip-slip absolute name", "symlink entry", "not a zip", "empty zip file"]
)
def test_hostile_dataset_archive_is_refused_and_nothing_written(client, nothing_stored, settings_env, tmp_path, case):
    archive, message = _zip_cases(tmp_path)[case]
    response = client.post(
        "/api/v1/iqa-datasets",
        data={"name": "hostile", "layout": "tid2013"},
        files={"archive": ("data.zip", archive.read_bytes(), "application/zip")},
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert message.lower() in response.json()["detail"].lower()
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()


def test_unknown_dataset_layout_is_refused(client, nothing_stored, tmp_path):
    archive = fx.zip_entries(tmp_path / "x.zip", {"a.txt": b"x"})
    response = client.post(
        "/api/v1/iqa-datasets",
        data={"name": "x", "layout": "no-such-layout"},
        files={"archive": ("x.zip", archive.read_bytes(), "application/zip")},
    )
    assert response.status_code == 422 and "layout" in response.json()["detail"]


# --- truncated .lic bitstream -------------------------------------------------------------------------------


@pytest.fixture
def lic_file(tmp_path):
    from app.cli import main
    from models.multirate.checkpoint import save_exported
    from models.multirate.network import MultiRateCheckerboard, MultiRateConfig

    torch.manual_seed(0)
    weights = save_exported(
        MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=(0.002, 0.01))), tmp_path / "multirate.pth"
    )
    png = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(png)
    lic = tmp_path / "x.lic"
    assert main(["codec", "--weights", str(weights), "encode", str(png), str(lic), "--rate", "0.5"]) == 0
    return weights, lic


@pytest.mark.parametrize("keep", [0, 3, 20, -5, -1])
def test_truncated_lic_file_gives_a_clear_cli_message(lic_file, tmp_path, capsys, keep):
    from app.cli import main

    weights, lic = lic_file
    data = lic.read_bytes()
    cut = tmp_path / "cut.lic"
    cut.write_bytes(data[:keep])
    capsys.readouterr()
    out = tmp_path / "out.png"
    code = main(["codec", "--weights", str(weights), "decode", str(cut), str(out)])
    printed = capsys.readouterr()
    assert code != 0
    message = (printed.err + printed.out).lower()
    assert "truncated" in message or "checksum" in message, message
    assert "traceback" not in message
    assert not out.exists()
