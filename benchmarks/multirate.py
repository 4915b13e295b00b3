"""Evidence for the multi-rate codec (issue 5), measured in one run on this machine's CPU (1 thread).

1. BD-rate (PSNR-RGB, PCHIP, ``bjontegaard`` package) of the shipped multi-rate checkpoint against K
   single-rate models of the same architecture, one per trained lambda, trained with the same total step
   budget (each gets ``steps / K`` steps of the multi-rate config); on the 4 held-out demo photos.
   The single-rate models are trained here on first use and cached under ``--baselines-dir``.
2. Decode time of the checkerboard model vs a serial autoregressive context model (CompressAI's
   ``mbt2018``, ``JointAutoregressiveHierarchicalPriors`` with the same N and M, RANDOMLY INITIALISED:
   its weights do not change the work its serial decoding loop does, so it is used for timing only) on the
   same 512x768 image.
3. Encode/decode seconds per megapixel and peak memory for 512x768 and 1024x1536 images, each size in a
   fresh subprocess: peak resident memory sampled every 2 ms during encode and during decode, and that
   peak minus the RSS after loading the model and a warm-up ("working" memory of the codec itself).

    python benchmarks/multirate.py                      # everything (trains the baselines if missing)
    python benchmarks/multirate.py --parts speed scaling
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from models.multirate.codec import MultiRateCodec  # noqa: E402
from models.photos import demo_photos, load_photo  # noqa: E402

SIZES = ((512, 768), (1024, 1536))


def psnr(reference: np.ndarray, decoded: np.ndarray) -> float:
    mse = np.mean((reference.astype(np.float64) - decoded.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse)) if mse > 0 else float("inf")


def rd_point(codec: MultiRateCodec, image: np.ndarray, rate: float) -> tuple[float, float]:
    data = codec.encode(image, rate)
    return 8 * len(data) / (image.shape[0] * image.shape[1]), psnr(image, codec.decode(data))


def benchmark_image(height: int, width: int) -> np.ndarray:
    """The astronaut photo resized (bicubic) to height x width: the same content at every size."""
    return np.asarray(Image.fromarray(load_photo("astronaut")).resize((width, height), Image.BICUBIC))


# --- 1. BD-rate against single-rate models ------------------------------------------------------------

def single_rate_checkpoints(config_path: Path, baselines_dir: Path, total_steps: int | None) -> list[Path]:
    from models.training.multirate import TrainConfig, load_config, train

    config = load_config(config_path)
    total = total_steps or config.steps
    per_model = max(1, total // len(config.lambdas))
    paths = []
    for k, lmbda in enumerate(config.lambdas):
        folder = baselines_dir / f"single-{k}-lambda{lmbda:g}-steps{per_model}"
        found = sorted(folder.glob("*/multirate.pth"))
        if not found:
            print(f"training single-rate model {k} (lambda {lmbda:g}) for {per_model} steps", flush=True)
            start = time.perf_counter()
            single = TrainConfig(**{**config.__dict__, "lambdas": [lmbda], "steps": per_model})
            run_dir = train(single, log_root=folder, progress=False)
            print(f"  done in {time.perf_counter() - start:.0f} s -> {run_dir}", flush=True)
            found = [run_dir / "multirate.pth"]
        paths.append(found[-1])
    return paths


def bd_figures(anchor: list, test: list) -> tuple[float, float]:
    """(BD-rate %, BD-PSNR dB) of ``test`` against ``anchor`` (lists of (bpp, psnr)), PCHIP.

    BD-rate needs the two curves to overlap in PSNR and BD-PSNR in rate; where they do not, the figure is
    NaN (undefined) rather than an extrapolation.
    """
    import bjontegaard as bd

    a, t = np.asarray(anchor, dtype=float), np.asarray(test, dtype=float)

    def overlap(column: int) -> bool:
        return min(a[:, column].max(), t[:, column].max()) > max(a[:, column].min(), t[:, column].min())

    rate = float(bd.bd_rate(a[:, 0], a[:, 1], t[:, 0], t[:, 1], method="pchip", min_overlap=0)) \
        if overlap(1) else float("nan")
    psnr_gain = float(bd.bd_psnr(a[:, 0], a[:, 1], t[:, 0], t[:, 1], method="pchip", min_overlap=0)) \
        if overlap(0) else float("nan")
    return rate, psnr_gain


def _pct(value: float) -> str:
    return "undefined (no PSNR overlap)" if np.isnan(value) else f"{value:+.2f}%"


def bd_rate_part(args: argparse.Namespace) -> dict:
    multi = MultiRateCodec(checkpoint=args.multirate) if args.multirate else MultiRateCodec()
    K = len(multi.lambdas)
    singles = [MultiRateCodec(checkpoint=p) for p in single_rate_checkpoints(args.config, args.baselines_dir,
                                                                              args.total_steps)]
    photos = demo_photos()
    result = {"photos": {}, "lambdas": list(multi.lambdas)}
    for name, image in photos.items():
        trained = [rd_point(multi, image, k / (K - 1)) for k in range(K)]
        sweep = [rd_point(multi, image, r) for r in multi.rate.points]
        single = [rd_point(codec, image, 0.0) for codec in singles]
        bd_pct, bd_db = bd_figures(single, trained)
        result["photos"][name] = {"shape": list(image.shape[:2]), "multirate_trained_points": trained,
                                  "multirate_16_points": sweep, "single_rate": single, "bd_rate_pct": bd_pct,
                                  "bd_psnr_db": bd_db}
        print(f"{name} {image.shape[1]}x{image.shape[0]}: multi vs single: BD-rate {_pct(bd_pct)}, "
              f"BD-PSNR {bd_db:+.2f} dB", flush=True)
    mean = lambda key: np.mean([v[key] for v in result["photos"].values()], axis=0)  # noqa: E731
    m, s = mean("multirate_trained_points"), mean("single_rate")
    result["bd_rate_pct_of_mean_curves"], result["bd_psnr_db_of_mean_curves"] = bd_figures(s.tolist(), m.tolist())
    print(f"mean curves over the photos: BD-rate {_pct(result['bd_rate_pct_of_mean_curves'])}, "
          f"BD-PSNR {result['bd_psnr_db_of_mean_curves']:+.2f} dB", flush=True)
    result["mean_multirate_16_points"] = mean("multirate_16_points").tolist()
    result["mean_single_rate"] = s.tolist()
    result["mean_multirate_trained_points"] = m.tolist()
    return result


# --- 2. checkerboard vs serial autoregressive decoding ------------------------------------------------

def _median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


@torch.no_grad()
def speed_part(args: argparse.Namespace) -> dict:
    from compressai.models import JointAutoregressiveHierarchicalPriors

    from models.learned import image_to_tensor, pad_to_multiple

    image = benchmark_image(*SIZES[0])
    codec = MultiRateCodec(checkpoint=args.multirate) if args.multirate else MultiRateCodec()
    net = codec.network()
    data = codec.encode(image, 0.5)
    checker_s, _ = _median_time(lambda: codec.decode(data), args.repeats)

    torch.manual_seed(0)
    ar = JointAutoregressiveHierarchicalPriors(N=net.config.N, M=net.config.M).eval()
    ar.update(force=True)
    x, _ = pad_to_multiple(image_to_tensor(image), 64)
    coded = ar.compress(x)
    ar_s, _ = _median_time(lambda: ar.decompress(coded["strings"], coded["shape"]), args.repeats)
    result = {"image": f"{image.shape[1]}x{image.shape[0]}", "checkerboard_decode_s": checker_s,
              "serial_ar_decode_s": ar_s, "speedup": ar_s / checker_s, "repeats": args.repeats,
              "latent": f"M={net.config.M} x {x.shape[-2] // 16}x{x.shape[-1] // 16}"}
    print(f"decode {result['image']}: checkerboard {checker_s:.3f} s, serial AR (mbt2018, random init) "
          f"{ar_s:.3f} s -> {ar_s / checker_s:.1f}x", flush=True)
    return result


# --- 3. time per megapixel and peak memory ------------------------------------------------------------

def current_rss_mb() -> float:
    """Resident set size now (Linux /proc), in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    """Highest RSS seen (sampled every 2 ms on a thread) while the block runs, and the RSS before it."""

    def __enter__(self) -> "PeakRss":
        import threading

        self.before = self.peak = current_rss_mb()
        self._stop = threading.Event()

        def sample() -> None:
            while not self._stop.wait(0.002):
                self.peak = max(self.peak, current_rss_mb())

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss_mb())


@torch.no_grad()
def measure_size(height: int, width: int, checkpoint: str | None) -> dict:
    """Run in a fresh process: encode + decode one image, report seconds and ru_maxrss."""
    torch.set_num_threads(1)
    codec = MultiRateCodec(checkpoint=Path(checkpoint)) if checkpoint else MultiRateCodec()
    image = benchmark_image(height, width)
    codec.decode(codec.encode(image[:64, :64], 0.5))  # load the model and warm up
    with PeakRss() as encode_mem:
        start = time.perf_counter()
        data = codec.encode(image, 0.5)
        encode_s = time.perf_counter() - start
    with PeakRss() as decode_mem:
        start = time.perf_counter()
        decoded = codec.decode(data)
        decode_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mp = height * width / 1e6
    return {"size": f"{width}x{height}", "megapixels": mp, "encode_s": encode_s, "decode_s": decode_s,
            "encode_s_per_mp": encode_s / mp, "decode_s_per_mp": decode_s / mp,
            "rss_after_load_mb": encode_mem.before, "encode_peak_rss_mb": encode_mem.peak,
            "encode_working_mb": encode_mem.peak - encode_mem.before, "decode_peak_rss_mb": decode_mem.peak,
            "decode_working_mb": decode_mem.peak - decode_mem.before, "process_max_rss_mb": peak_mb, "bpp": 8 * len(data) / (height * width),
            "psnr": psnr(image, decoded)}


def scaling_part(args: argparse.Namespace) -> list[dict]:
    rows = []
    for height, width in SIZES:
        cmd = [sys.executable, "-W", "ignore", __file__, "--measure", f"{height}x{width}"]
        if args.multirate:
            cmd += ["--multirate", str(args.multirate)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{row['size']}: encode {row['encode_s_per_mp']:.2f} s/MP, decode {row['decode_s_per_mp']:.2f} s/MP, "
              f"peak RSS encode {row['encode_peak_rss_mb']:.0f} MB / decode {row['decode_peak_rss_mb']:.0f} MB "
              f"(+{row['encode_working_mb']:.0f} / +{row['decode_working_mb']:.0f} MB above the loaded model's "
              f"{row['rss_after_load_mb']:.0f} MB)", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", choices=("bd", "speed", "scaling"), default=["bd", "speed", "scaling"])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "multirate.yaml")
    parser.add_argument("--multirate", type=Path, help="multi-rate checkpoint (default: the shipped one)")
    parser.add_argument("--baselines-dir", type=Path, default=ROOT / "logs" / "benchmark-multirate")
    parser.add_argument("--total-steps", type=int, help="total steps of the K single-rate models (default: config)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.measure:
        h, w = (int(v) for v in args.measure.split("x"))
        print(json.dumps(measure_size(h, w, str(args.multirate) if args.multirate else None)))
        return
    results = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "threads": 1,
               "torch": torch.__version__}
    if "bd" in args.parts:
        results["bd_rate"] = bd_rate_part(args)
    if "speed" in args.parts:
        results["decode_speed"] = speed_part(args)
    if "scaling" in args.parts:
        results["scaling"] = scaling_part(args)
    out = ROOT / "logs" / "benchmarks" / f"multirate-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
