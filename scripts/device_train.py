"""Run ``licbench train`` on the lent GPU machine, from the bundle ``scripts/device_bundle.py`` builds.

    python3 scripts/device_train.py .device configs/multirate-gpu.yaml OUT [key=value ...]

Photos come from ``.device/photos.npz`` (the machine has no scikit-image data or scikit-learn photos to
load) and a config's ``photo_sets`` from ``.device/photo_sets.npz`` (downscaled and sha256-checked when the bundle
was built; a photo the config needs and the bundle lacks stops the run, named); CompressAI from ``.device/site``. The run folder is written under a fresh temporary folder; every time the best
validation checkpoint changes, its weights (float32, no optimizer state) are written to ``OUT`` in parts of
at most 15 MiB (the device tool returns files of up to 16 MiB), so a run cut short still hands back its best
step. Back here, ``python scripts/device_train.py --join DIR`` (DIR holding the parts) joins them into
``best.pth`` and writes ``multirate.pth`` and ``multirate-f16.pth`` as ``licbench train`` does, with the
real CompressAI; ``python -m models.training.rd_eval DIR/multirate-f16.pth --against ...`` measures them.
"""

from __future__ import annotations

import io
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PART = 15 * 2**20


def setup(bundle: Path) -> None:
    sys.modules["torch.utils.tensorboard"] = None  # the metrics CSV is the record; one less import to break
    sys.path.insert(0, str(bundle / "site"))
    sys.path.insert(0, str(ROOT))
    import numpy as np

    import models.photos

    photos = np.load(bundle / "photos.npz")
    models.photos.load_photo = lambda name: np.ascontiguousarray(photos[name])
    if (bundle / "photo_sets.npz").is_file():
        import models.training.multirate as multirate

        packed = np.load(bundle / "photo_sets.npz")
        index = {str(name): f"p{i:05d}" for i, name in enumerate(packed["names"])}

        def photo_set_images(config, root=None):
            missing = [n for n in multirate.photo_set_names(config) if n not in index]
            if missing:
                raise ValueError(
                    f"{bundle / 'photo_sets.npz'} lacks {missing[0]} ({len(missing)} photos): build "
                    f"the bundle with scripts/device_bundle.py --photo-sets <manifest>"
                )
            return [np.ascontiguousarray(packed[index[n]]) for n in multirate.photo_set_names(config)]

        multirate.photo_set_images = photo_set_images


def hand_back(run_root: Path, out: Path, stop: threading.Event) -> None:
    """Copy the newest best checkpoint's weights to ``out`` in parts whenever it changes."""
    import torch

    seen = 0.0
    while True:
        for best in run_root.glob("*/checkpoint_best.pth"):
            stamp = best.stat().st_mtime
            if stamp != seen:
                time.sleep(2.0)  # let torch.save finish writing it
                state = torch.load(best, map_location="cpu", weights_only=True)
                keep = {
                    k: state[k]
                    for k in ("format", "version", "model_config", "state_dict", "step", "best_val_loss", "elapsed_s")
                }
                buffer = io.BytesIO()
                torch.save(keep, buffer)
                data = buffer.getvalue()
                for old in out.glob("best.pth.part*"):
                    old.unlink()
                for i in range(0, len(data), PART):
                    (out / f"best.pth.part{i // PART}").write_bytes(data[i : i + PART])
                seen = stamp
                print(
                    f"[hand-back] step {keep['step']} val {keep['best_val_loss']:.4f} ({len(data) / 2**20:.1f} MiB)",
                    flush=True,
                )
            for name in ("metrics.csv", "config.yaml"):
                if (best.parent / name).is_file():
                    (out / name).write_bytes((best.parent / name).read_bytes())
        if stop.wait(20.0):
            return


def join(folder: Path) -> None:
    """Here, not on the machine: the handed-back parts -> ``best.pth``, ``multirate.pth``, ``multirate-f16.pth``."""
    sys.path.insert(0, str(ROOT))
    from models.multirate.checkpoint import load_network
    from models.training.multirate import save_exports

    parts = sorted(folder.glob("best.pth.part*"), key=lambda p: int(p.name.removeprefix("best.pth.part")))
    if not parts:
        raise SystemExit(f"no best.pth.part* files in {folder}")
    (folder / "best.pth").write_bytes(b"".join(p.read_bytes() for p in parts))
    net = load_network(folder / "best.pth")
    save_exports(net, folder)
    print(f"{folder}: best.pth ({len(parts)} parts), multirate.pth, multirate-f16.pth")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--join":
        return join(Path(sys.argv[2]))
    bundle, config_path, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    setup(bundle)
    import torch
    import yaml

    from models.training.multirate import TrainConfig, load_config, train

    raw = load_config(config_path).__dict__.copy()
    for item in sys.argv[4:]:
        key, value = item.split("=", 1)
        raw[key] = yaml.safe_load(value)
    config = TrainConfig.from_mapping(raw)
    import compressai

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    print(f"compressai from {Path(compressai.__file__).parent}; torch {torch.__version__}; {gpu}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    run_root = Path(tempfile.mkdtemp(prefix="licbench-runs-"))
    stop = threading.Event()
    watcher = threading.Thread(target=hand_back, args=(run_root, out, stop), daemon=True)
    watcher.start()
    start = time.perf_counter()
    run_dir = train(config, log_root=run_root, progress=True)
    stop.set()
    watcher.join()
    hand_back(run_root, out, stop)  # one last pass (stop is set)
    print(f"run {run_dir.name}: done in {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
