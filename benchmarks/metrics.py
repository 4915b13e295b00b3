"""Metric speed: megapixels per second, ours vs the usual way of calling piq / the reference packages.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/metrics.py [--n 4] [--size 768x512] [--device cpu]

One reference (scikit-image's astronaut, resized to --size) and N JPEG reconstructions of it
(qualities spread over 15..85). "ours" scores the N reconstructions against the reference in one
``Metric.compute`` call (reference-side work done once); the baseline scores the same batch with
piq's function (reference expanded to the batch) or, for LPIPS/DISTS, with the ``lpips`` /
``DISTS_pytorch`` packages' modules, and for VMAF with vmaf-torch. Both run in this process, one
thread. Fairness: both sides get the same torch threads (1) and the same inputs, both are warmed up
on the full-size inputs first (network build, oneDNN kernel selection for each shape, first-call costs),
ours is timed as a whole ``compute`` (its reference preparation included), and the two sides are
timed in alternating rounds (ours first, then the baseline first, ...) so that a shared machine's load
falls on both; the time is the median of --repeats rounds and the ratio the ratio of the medians, with
the range of the per-round ratios beside it (how much the machine's load moved it). LPIPS/DISTS use random backbones saved under torchvision's names in a
temporary folder (speed does not depend on the weight values; no ImageNet weights ship here).
cvvdp, flip, ssimulacra2 and butteraugli are compared with their own packages / tool called directly
(our metrics wrap them, so about 1x is expected), iw-ssim with piq's function on the same grey float64
input it gets from us; vif has no baseline here (pyiqa is not installed; its values are checked
against pyiqa's official values in tests). The last line is the full suite on ONE pair, ours and with
each metric's baseline where one exists (ours where none), and the ratio.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import os
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import piq  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from PIL import Image  # noqa: E402

from metrics.base import MetricContext  # noqa: E402
from metrics.colour import gray8, ycbcr_bt709_limited  # noqa: E402
from metrics.registry import create_metric, metric_names  # noqa: E402
from metrics.scoring import to_tensor  # noqa: E402
from metrics.weights import ALEXNET, VGG16, vgg16_features  # noqa: E402


def _images(width: int, height: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    import skimage.data

    photo = Image.fromarray(skimage.data.astronaut()).resize((width, height), Image.BICUBIC)
    reference = np.asarray(photo)
    reconstructions = []
    for quality in np.linspace(15, 85, n).round().astype(int):
        buffer = io.BytesIO()
        photo.save(buffer, format="JPEG", quality=int(quality))
        reconstructions.append(np.asarray(Image.open(buffer).convert("RGB")))
    return to_tensor(reference), torch.cat([to_tensor(r) for r in reconstructions])


def _random_backbones(folder: Path) -> dict:
    torch.manual_seed(0)
    out, trusted = {}, {}
    for backbone, features in ((ALEXNET, torchvision.models.alexnet(weights=None).features), (VGG16, vgg16_features())):
        path = folder / backbone.file_name
        torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, path)
        trusted[backbone.file_name] = hashlib.sha256(path.read_bytes()).hexdigest()
        out[backbone.file_name] = features.eval()
    return {"trusted": trusted, **out}


def _baselines(backbones: dict, device: torch.device) -> dict:
    """name -> (label, fn(reference, distorted)) computing the same quantity the usual way."""
    import lpips
    import lpips.pretrained_networks as pn
    from DISTS_pytorch import DISTS_pt

    def fake(features):
        return lambda *a, **k: types.SimpleNamespace(features=copy.deepcopy(features))

    pn.tv.alexnet = fake(backbones[ALEXNET.file_name])
    pn.tv.vgg16 = fake(backbones[VGG16.file_name])
    DISTS_pt.models.vgg16 = fake(backbones[VGG16.file_name])
    lp_alex = lpips.LPIPS(net="alex", verbose=False).eval().to(device)
    lp_vgg = lpips.LPIPS(net="vgg", verbose=False).eval().to(device)
    dists_ref = DISTS_pt.DISTS(load_weights=False).eval().to(device)

    def expand(fn):
        return lambda r, d: fn(d, r.expand_as(d))

    def grey(fn):
        return lambda r, d: fn(gray8(d), gray8(r).expand(len(d), -1, -1, -1))

    out = {
        "psnr": ("piq", expand(lambda d, r: piq.psnr(d, r, reduction="none"))),
        "psnr-y": ("piq", expand(lambda d, r: piq.psnr(d, r, reduction="none", convert_to_greyscale=True))),
        "ssim": ("piq", grey(lambda d, r: piq.ssim(d, r, reduction="none", downsample=False))),
        "ms-ssim": ("piq", expand(lambda d, r: piq.multi_scale_ssim(d, r, reduction="none"))),
        "ms-ssim-y": ("piq", grey(lambda d, r: piq.multi_scale_ssim(d, r, reduction="none"))),
        "vifp": ("piq", expand(lambda d, r: piq.vif_p(d, r, reduction="none"))),
        "fsim": ("piq", expand(lambda d, r: piq.fsim(d, r, reduction="none"))),
        "gmsd": ("piq", expand(lambda d, r: piq.gmsd(d, r, reduction="none"))),
        "haarpsi": ("piq", expand(lambda d, r: piq.haarpsi(d, r, reduction="none"))),
        "lpips": ("lpips pkg", expand(lambda d, r: lp_alex(d.to(device), r.to(device), normalize=True))),
        "lpips-vgg": ("lpips pkg", expand(lambda d, r: lp_vgg(d.to(device), r.to(device), normalize=True))),
        "dists": ("DISTS_pytorch", expand(lambda d, r: dists_ref(r.to(device), d.to(device)))),
    }
    out["iw-ssim"] = (
        "piq",
        grey(lambda d, r: piq.information_weighted_ssim(d.double(), r.double(), data_range=1.0, reduction="none")),
    )
    out.update(_package_baselines(device))
    try:
        import vmaf_torch

        for name, neg in (("vmaf", False), ("vmaf-neg", True)):
            model = vmaf_torch.VMAF(enable_motion=False, NEG=neg, clip_score=True).eval().to(device)
            out[name] = (
                "vmaf-torch",
                lambda r, d, m=model: m(
                    ycbcr_bt709_limited(r)[:, :1].expand(len(d), -1, -1, -1).to(device),
                    ycbcr_bt709_limited(d)[:, :1].to(device),
                ),
            )
    except ImportError:
        pass
    return out


def _package_baselines(device: torch.device) -> dict:
    """The reference packages our observer and XYB metrics call, called directly the usual way:
    pycvvdp's ``predict`` on the reference repeated to the batch, flip_evaluator's ``evaluate`` per
    pair, the ssimulacra2 port on PNG files per pair."""
    from metrics.viewing import DEFAULT_DISPLAY, viewing_condition

    out = {}
    try:
        import pycvvdp

        from metrics.cvvdp import to_display_encoded

        model = pycvvdp.cvvdp(display_name=DEFAULT_DISPLAY, device=device, quiet=True)
        out["cvvdp"] = (
            "pycvvdp",
            lambda r, d: model.predict(
                to_display_encoded(d).to(device), to_display_encoded(r.expand_as(d)).to(device), dim_order="BCFHW"
            ),
        )
    except ImportError:
        pass
    try:
        import flip_evaluator

        ppd = float(viewing_condition(DEFAULT_DISPLAY).pixels_per_degree)

        def hwc(x):
            return np.ascontiguousarray(x.permute(1, 2, 0).numpy(), dtype=np.float32)

        out["flip"] = (
            "flip-evaluator",
            lambda r, d: [
                flip_evaluator.evaluate(
                    hwc(r[0]),
                    hwc(x),
                    "LDR",
                    inputsRGB=True,
                    applyMagma=False,
                    computeMeanError=True,
                    parameters={"ppd": ppd},
                )[1]
                for x in d
            ],
        )
    except ImportError:
        pass
    try:
        from ssimulacra2 import compute_ssimulacra2

        def ssimulacra2_files(r, d):
            with tempfile.TemporaryDirectory() as tmp:
                paths = []
                for i, x in enumerate(torch.cat([r, d])):
                    paths.append(str(Path(tmp, f"{i}.png")))
                    Image.fromarray((x * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()).save(paths[-1])
                return [compute_ssimulacra2(paths[0], p) for p in paths[1:]]

        out["ssimulacra2"] = ("ssimulacra2 pkg", ssimulacra2_files)
    except ImportError:
        pass
    import shutil
    import subprocess

    tool = shutil.which("butteraugli_main")
    if tool:

        def butteraugli_files(r, d):
            with tempfile.TemporaryDirectory() as tmp:
                paths = []
                for i, x in enumerate(torch.cat([r, d])):
                    paths.append(str(Path(tmp, f"{i}.png")))
                    Image.fromarray((x * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()).save(paths[-1])
                return [
                    subprocess.run(
                        [tool, paths[0], p, "--intensity_target", "80"], capture_output=True, text=True, check=True
                    ).stdout
                    for p in paths[1:]
                ]

        out["butteraugli"] = out["butteraugli-3norm"] = ("butteraugli_main", butteraugli_files)
    return out


def _timed(fn) -> float:
    start = time.perf_counter()
    with torch.no_grad():
        fn()
    return time.perf_counter() - start


def paired_times(ours, base, repeats: int) -> tuple[list[float], list[float]]:
    """Times of ``ours`` and ``base`` (``base`` None: ours alone) after one warm-up call each on the same
    inputs, in ``repeats`` rounds that alternate which of the two runs first."""
    _timed(ours)
    if base is not None:
        _timed(base)
    times_ours, times_base = [], []
    for i in range(repeats):
        if base is not None and i % 2:
            times_base.append(_timed(base))
        times_ours.append(_timed(ours))
        if base is not None and not i % 2:
            times_base.append(_timed(base))
    return times_ours, times_base


def ratio_text(ours: list[float], base: list[float]) -> tuple[float, str]:
    """Ratio of the medians (baseline / ours) and the range of the per-round ratios."""
    ratio = statistics.median(base) / statistics.median(ours)
    rounds = [b / o for o, b in zip(ours, base)]
    return ratio, f"{ratio:5.2f}x [{min(rounds):4.2f}-{max(rounds):4.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4, help="reconstructions per reference")
    parser.add_argument("--size", default="768x512", help="WIDTHxHEIGHT")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (median); 3 for the VGG metrics")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (learned metrics and vmaf-torch)")
    parser.add_argument("--metric", action="append", help="only these metrics")
    parser.add_argument("--pair-only", action="store_true", help="time only the one-pair suite (the target)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    width, height = (int(v) for v in args.size.split("x"))
    reference, distorted = _images(width, height, args.n)
    device = torch.device(args.device)
    names = args.metric or metric_names()

    with tempfile.TemporaryDirectory() as tmp:
        backbones = _random_backbones(Path(tmp))
        context = MetricContext(weights_dir=Path(tmp), device=args.device, trusted_sha256=backbones["trusted"])
        baselines = _baselines(backbones, device)
        megapixels = args.n * width * height / 1e6
        print(
            f"{args.n} reconstructions of one {width}x{height} reference, {torch.get_num_threads()} thread, "
            f"device {args.device}, median of {args.repeats} alternating rounds after a warm-up; "
            f"load average {'/'.join(f'{v:.1f}' for v in os.getloadavg())} at the start"
        )
        print(
            f"{'metric':<17} {'ours MP/s':>9} {'baseline':>16} {'base MP/s':>9} {'ratio [round range]':>20}"
            f"   {'one pair: ours':>14} {'base':>8} {'ratio [round range]':>20}   (ratio = baseline time / ours)"
        )
        single_pair = base_pair = 0.0
        below = []
        for name in names:
            metric = create_metric(name, context)
            availability = metric.availability()
            if not availability.available:
                print(f"{name:<17} not available here: {availability.reason}")
                continue
            repeats = min(args.repeats, 3) if name in ("lpips-vgg", "dists") else args.repeats
            label, fn = baselines.get(name, ("(none here)", None))
            rounds = {}
            sizes = (("pair", distorted[:1]),) if args.pair_only else (("batch", distorted), ("pair", distorted[:1]))
            for key, batch in sizes:
                # Timed at once, inside this iteration; defaults bind this iteration's values all the same.
                rounds[key] = paired_times(
                    lambda metric=metric, batch=batch: metric.compute(reference, batch),
                    None if fn is None else (lambda fn=fn, batch=batch: fn(reference, batch)),
                    repeats,
                )
            rounds.setdefault("batch", ([float("nan")], [float("nan")]))
            ours_batch, ours_pair = (statistics.median(rounds[k][0]) for k in ("batch", "pair"))
            single_pair += ours_pair
            line = f"{name:<17} {megapixels / ours_batch:>9.2f} {label:>16}"
            pair = f"   {ours_pair * 1000:>11.0f} ms"
            if fn is not None:
                base_batch, base_single = (statistics.median(rounds[k][1]) for k in ("batch", "pair"))
                base_pair += base_single
                _, batch_text = ratio_text(*rounds["batch"])
                pair_ratio, pair_text = ratio_text(*rounds["pair"])
                line += f" {megapixels / base_batch:>9.2f} {batch_text:>20}"
                pair += f" {base_single * 1000:>5.0f} ms {pair_text:>20}"
                if pair_ratio < 1.0:
                    below.append(name)
            else:
                line += f" {'':>9} {'':>20}"
                base_pair += ours_pair  # no other implementation here: count ours on both sides
            print(line + pair, flush=True)
        print(
            f"full suite, one {width}x{height} pair: {single_pair:.2f} s ours, {base_pair:.2f} s with each "
            f"metric's baseline where one exists (ours elsewhere): {base_pair / single_pair:.2f}x; "
            f"one-pair ratios below 1x: {', '.join(below) or 'none'}; load average "
            f"{'/'.join(f'{v:.1f}' for v in os.getloadavg())} at the end"
        )


if __name__ == "__main__":
    main()
