"""Build ``.device/``: what a training run on the lent GPU machine needs besides this repository.

That machine has PyTorch but not CompressAI's compiled extensions, nor the wheels the photos come from, and
it cannot download anything. The bundle holds:

* ``site/compressai``: CompressAI's Python sources from this environment, with two stand-ins for its compiled
  modules. Training never entropy-codes, so ``ans`` only refuses to be used, and ``_CXX`` rebuilds CDF tables
  in plain Python (valid tables, not bit-identical to CompressAI's, and never shipped: checkpoints leave the
  tables out and every loader rebuilds them with the real extension);
* ``site/pytorch_msssim``: imported by CompressAI's losses module;
* ``photos.npz``: the training photos and the tuning photo, exactly as ``models.photos.load_photo`` gives
  them here;
* with ``--photo-sets MANIFEST ...``: ``photo_sets.npz``, every photo of those sets (``models.photo_manifest``; each
  sha256 checked here first) downscaled by ``--photo-scale`` (bicubic, antialiased, as DIV2K/CLIC training
  pipelines downscale their photos) so that the bundle fits the device tool's upload limit (64 MiB with this
  repository's working tree). ``scripts/device_train.py`` trains on them when the config lists the same sets.

Usage: ``python scripts/device_bundle.py [--photo-sets models/training/data/wikipedia_photos_manifest.json]``
(then ``scripts/device_train.py`` there; docs/codecs.md, "Compute").
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.photo_manifest import load_manifest, verify_photos  # noqa: E402
from models.photos import TRAINING_PHOTOS, TUNING_PHOTOS, load_photo  # noqa: E402

CXX_STANDIN = '''"""Stand-in for CompressAI's compiled ``_CXX`` (training bundle only; see scripts/device_bundle.py)."""


def pmf_to_quantized_cdf(pmf, precision=16):
    """A CDF over ``precision`` bits with every symbol at least one count (largest bin absorbs the rest)."""
    total = 1 << int(precision)
    if any(p < 0 or p != p for p in pmf) or not sum(pmf) > 0:
        raise ValueError("invalid probability mass function")
    scale = sum(pmf)
    freq = [max(1, int(p / scale * total)) for p in pmf]
    freq[freq.index(max(freq))] += total - sum(freq)
    cdf = [0]
    for f in freq:
        cdf.append(cdf[-1] + f)
    return cdf
'''

ANS_STANDIN = '''"""Stand-in for CompressAI's compiled rANS coder: the training bundle never entropy-codes."""


class _Refuse:
    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        raise RuntimeError("no rANS coder in the training bundle (scripts/device_bundle.py): train only")


RansEncoder = BufferedRansEncoder = RansDecoder = _Refuse
'''


def copy_sources(package: str, target: Path) -> None:
    """Copy a package's ``.py`` files (no compiled modules, no caches) under ``target``."""
    source = Path(__import__(package).__file__).parent
    for path in source.rglob("*.py"):
        out = target / package / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)


def photo_set_arrays(manifests: list[Path], scale: float) -> dict[str, np.ndarray]:
    """``<set>/<file>`` -> the photo (sha256 checked) as uint8 RGB, downscaled by ``scale`` (1 = as is)."""
    from PIL import Image

    out = {}
    for path in manifests:
        manifest = load_manifest(path)
        for photo, entry in zip(verify_photos(manifest), manifest.files):
            with Image.open(photo) as img:
                img = img.convert("RGB")
                if scale < 1:
                    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
                    img = img.resize(size, Image.Resampling.BICUBIC)
                out[f"{manifest.name}/{entry.path}"] = np.asarray(img)
    return out


def main(out: Path = ROOT / ".device", photo_sets: list[Path] | None = None, photo_scale: float = 0.5) -> None:
    shutil.rmtree(out, ignore_errors=True)
    site = out / "site"
    copy_sources("compressai", site)
    copy_sources("pytorch_msssim", site)
    (site / "compressai" / "_CXX.py").write_text(CXX_STANDIN)
    (site / "compressai" / "ans.py").write_text(ANS_STANDIN)
    photos = {name: load_photo(name) for name in (*TRAINING_PHOTOS, *TUNING_PHOTOS)}
    np.savez_compressed(out / "photos.npz", **photos)
    if photo_sets:
        arrays = photo_set_arrays(photo_sets, photo_scale)
        # npz member names stay plain; the photo names travel alongside, in order
        np.savez_compressed(
            out / "photo_sets.npz",
            names=np.array(list(arrays)),
            **{f"p{i:05d}": a for i, a in enumerate(arrays.values())},
        )
        print(
            f"{len(arrays)} photo-set photos at scale {photo_scale}: "
            f"{sum(a.shape[0] * a.shape[1] for a in arrays.values()) / 1e6:.1f} MP"
        )
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{out}: {len(photos)} photos, {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photo-sets", type=Path, nargs="*", default=[], help="photo-set manifests to pack")
    parser.add_argument("--photo-scale", type=float, default=0.5, help="downscaling of the photo sets (0-1]")
    args = parser.parse_args()
    if not 0 < args.photo_scale <= 1:
        parser.error("--photo-scale must be in (0, 1]")
    try:
        main(photo_sets=args.photo_sets, photo_scale=args.photo_scale)
    except ValueError as exc:  # models.photo_manifest.PhotoSetError: names the missing or altered photo
        raise SystemExit(f"error: {exc}") from None
