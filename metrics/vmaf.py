"""VMAF (Netflix) through real libvmaf: the ffmpeg binary shipped in the ``imageio-ffmpeg`` wheel.

Colour: each RGB image is converted here to 8-bit Y'CbCr with the BT.709 matrix in limited range
(Y in 16..235), 4:4:4, the conversion an encoder applies to HD material. VMAF's features (VIF,
ADM, motion) read only the luma plane, so chroma handling does not change the score.

Still images: a single frame has no temporal information, so VMAF's motion feature is 0 (the
first frame of any video gets 0 too). The models were trained on video, their authors advise
caution on images, identical images score about 97.4 rather than 100, and scores of 100 despite
visible artefacts are known (Netflix/vmaf issues 494, 1165, 1168). Read VMAF on stills as a
secondary signal.

Batching: the N reconstructions go to one ffmpeg run as N frames against N copies of the
reference; the copies are identical, so the motion feature stays 0 and every frame is scored as
a still. Models: ``vmaf_v0.6.1`` (``vmaf``) and ``vmaf_v0.6.1neg`` (``vmaf-neg``, "no enhancement
gain"), both built into libvmaf, requested by ``model=version=...``.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from metrics.base import Metric, MetricAvailability
from metrics.colour import ycbcr_bt709_limited

VMAF_MODELS = {"vmaf": "vmaf_v0.6.1", "vmaf-neg": "vmaf_v0.6.1neg"}
VMAF_TIMEOUT_S = 600


class VMAFError(RuntimeError):
    """ffmpeg/libvmaf failed; the message carries ffmpeg's own error line."""


@lru_cache(maxsize=1)
def ffmpeg_with_libvmaf() -> tuple[str | None, str | None]:
    """(path of an ffmpeg that has the libvmaf filter, None) or (None, why not)."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None, "VMAF needs the imageio-ffmpeg package (its ffmpeg binary is built with libvmaf)"
    try:
        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        return None, f"imageio-ffmpeg has no usable ffmpeg binary here: {exc}"
    try:
        out = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"cannot run {exe}: {exc}"
    if " libvmaf " not in out.stdout:
        return None, f"{exe} is not built with libvmaf"
    return exe, None


def _planes(images: torch.Tensor) -> bytes:
    """(N,3,H,W) RGB in [0,1] -> raw yuv444p frames, 8-bit."""
    ycc = ycbcr_bt709_limited(images).to(torch.uint8).numpy()
    return np.ascontiguousarray(ycc).tobytes()  # N x (Y plane, Cb plane, Cr plane)


def vmaf_scores(
    reference: torch.Tensor | bytes, distorted: torch.Tensor, models: dict[str, str]
) -> dict[str, list[float]]:
    """libvmaf scores of each distorted frame against the reference (a (1,3,H,W) image or its
    yuv444p frame from ``_planes``, converted once per reference), for each named model."""
    exe, reason = ffmpeg_with_libvmaf()
    if exe is None:
        raise VMAFError(reason)
    n, _, height, width = distorted.shape
    with tempfile.TemporaryDirectory(prefix="licbench-vmaf-") as tmp:
        ref_path, dist_path, log_path = Path(tmp, "ref.yuv"), Path(tmp, "dist.yuv"), Path(tmp, "vmaf.json")
        ref_path.write_bytes((reference if isinstance(reference, bytes) else _planes(reference)) * n)
        dist_path.write_bytes(_planes(distorted))
        model = "|".join(f"version={version}\\:name={name}" for name, version in models.items())
        raw = ["-f", "rawvideo", "-pix_fmt", "yuv444p", "-s", f"{width}x{height}"]
        command = [
            exe,
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            *raw,
            "-i",
            str(dist_path),
            *raw,
            "-i",
            str(ref_path),
            "-lavfi",
            f"[0:v][1:v]libvmaf=model='{model}':log_fmt=json:log_path='{log_path}':n_threads=1",
            "-f",
            "null",
            "-",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=VMAF_TIMEOUT_S)
        if done.returncode != 0 or not log_path.is_file():
            lines = (done.stderr or "").strip().splitlines()
            raise VMAFError(f"ffmpeg libvmaf failed: {lines[-1] if lines else f'exit {done.returncode}'}")
        frames = json.loads(log_path.read_text())["frames"]
    return {name: [float(frame["metrics"][name]) for frame in frames] for name in models}


class VMAF(Metric):
    name = "vmaf"
    unit = "score"
    reference = "libvmaf vmaf_v0.6.1 through ffmpeg, agrees with vmaf-torch"
    higher_is_better = True
    value_range = (0.0, 100.0)
    description = (
        "VMAF v0.6.1 via libvmaf (ffmpeg from imageio-ffmpeg); RGB -> BT.709 limited-range "
        "Y'CbCr 4:4:4; still image, so no motion feature (identical images give ~97.4)"
    )
    colour = "luma"
    # libvmaf crashes on images of 16 pixels or fewer a side, and below ~48 pixels its coarse
    # ADM/VIF scales degenerate (identical noise images score 76 at 32x32 instead of ~97.4).
    min_size = 48

    def availability(self) -> MetricAvailability:
        _, reason = ffmpeg_with_libvmaf()
        return MetricAvailability(reason is None, reason)

    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        return self.score_many(self.prepare(reference), distorted)

    def prepare(self, reference: torch.Tensor) -> bytes:
        """The reference's yuv444p frame (libvmaf's input), converted once."""
        return _planes(reference)

    def score_many(self, prepared: bytes, distorted: torch.Tensor) -> list[float]:
        return vmaf_scores(prepared, distorted, {"vmaf": VMAF_MODELS[self.name]})["vmaf"]


class VMAFNEG(VMAF):
    name = "vmaf-neg"
    unit = "score"
    reference = "libvmaf vmaf_v0.6.1neg through ffmpeg, agrees with vmaf-torch"
    description = (
        "VMAF v0.6.1 NEG (no enhancement gain) via libvmaf (ffmpeg from imageio-ffmpeg); "
        "RGB -> BT.709 limited-range Y'CbCr 4:4:4; still image, so no motion feature"
    )
