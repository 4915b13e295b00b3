"""``licbench codec encode|decode|info``: the multi-rate codec on image files.

licbench codec encode IN.png OUT.lic --rate R      (R in [0, 1]; 0 = lowest bitrate)
licbench codec encode IN.png OUT.lic --lmbda L     (L inside the trained lambda range)
licbench codec decode OUT.lic OUT.png
licbench codec info [FILE.lic]                     (trained range; with a file, its header)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "codec",
        help="encode/decode images with licbench's multi-rate codec",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--weights", type=Path, help="checkpoint to use (default: the shipped multirate.pth)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    actions = parser.add_subparsers(dest="action", required=True)

    encode = actions.add_parser("encode", help="image file -> .lic bitstream")
    encode.add_argument("input", type=Path)
    encode.add_argument("output", type=Path)
    rate = encode.add_mutually_exclusive_group(required=True)
    rate.add_argument("--rate", type=float, help="rate parameter in [0, 1] (0 = lowest bitrate)")
    rate.add_argument("--lmbda", type=float, help="a lambda inside the trained range (see `licbench codec info`)")
    encode.add_argument(
        "--refine-steps",
        type=int,
        default=0,
        metavar="N",
        help="refine the latent for this image with N gradient steps (slower encoding, fewer "
        "bits for the same quality; any decoder reads the file; default 0)",
    )
    encode.set_defaults(handler=run_encode)

    decode = actions.add_parser("decode", help=".lic bitstream -> PNG image")
    decode.add_argument("input", type=Path)
    decode.add_argument("output", type=Path)
    decode.set_defaults(handler=run_decode)

    info = actions.add_parser("info", help="the trained rate range, or the header of a .lic file")
    info.add_argument("file", type=Path, nargs="?")
    info.set_defaults(handler=run_info)


def _codec(args: argparse.Namespace):
    from models.base import CodecContext
    from models.multirate.codec import MultiRateCodec

    codec = MultiRateCodec(context=CodecContext(device=args.device))
    if args.weights is not None:
        codec.checkpoint = args.weights
    available = codec.availability()
    if not available.available:
        raise CommandError(available.reason)
    return codec


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc


def run_encode(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from models.base import CodecError
    from models.image_errors import PIL_DECODE_ERRORS
    from models.multirate.refine import RefineSettings

    codec = _codec(args)
    try:
        codec.refine = RefineSettings(steps=args.refine_steps)
    except ValueError as exc:
        raise CommandError(f"--refine-steps: {exc}") from exc
    try:
        with Image.open(args.input) as img:
            image = np.array(img.convert("RGB"))
    except PIL_DECODE_ERRORS as exc:
        raise CommandError(f"cannot read image {args.input}: {exc}") from None
    try:
        rate = codec.rate_for_lambda(args.lmbda) if args.lmbda is not None else args.rate
        data = codec.encode(image, rate)
        lmbda = codec.lambda_for_rate(rate)
    except CodecError as exc:
        raise CommandError(str(exc)) from exc
    try:
        args.output.write_bytes(data)
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    h, w = image.shape[:2]
    refined = f", latent refined ({args.refine_steps} steps)" if args.refine_steps else ""
    print(
        f"{args.output}: {w}x{h}, rate {rate:.4f} (lambda {lmbda:.5g}), {len(data)} bytes, "
        f"{8 * len(data) / (h * w):.4f} bpp{refined}"
    )
    return 0


def run_decode(args: argparse.Namespace) -> int:
    from PIL import Image

    from models.base import CodecError

    codec = _codec(args)
    try:
        image = codec.decode(_read(args.input))
    except CodecError as exc:
        raise CommandError(f"{args.input}: {exc}") from exc
    try:
        Image.fromarray(image, "RGB").save(args.output, format="PNG")
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot write {args.output}: {exc}") from exc
    print(f"{args.output}: {image.shape[1]}x{image.shape[0]}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from models.base import CodecError

    codec = _codec(args)
    try:
        lambdas = codec.lambdas
        print(f"model {codec.name} {codec.model_id.hex()} ({codec.checkpoint})")
        config = codec.network().config
        print(
            f"architecture: N={config.N} (transforms {config.transform_width}) M={config.M}, checkerboard context, "
            f"{len(lambdas)} gain vectors"
        )
        print(f"trained lambdas: {', '.join(f'{v:g}' for v in lambdas)}")
        print(
            f"--rate R in [0, 1] (0 = lambda {lambdas[0]:g}, lowest bitrate; 1 = lambda {lambdas[-1]:g}); "
            f"--lmbda L in [{lambdas[0]:g}, {lambdas[-1]:g}]"
        )
        if args.file is not None:
            header = codec.describe_file(_read(args.file))
            print(
                f"{args.file}: {header['width']}x{header['height']}, rate {header['rate']:.4f} (lambda "
                f"{codec.lambda_for_rate(header['rate']):.5g}), model {header['model_id']}, "
                f"{header['bytes']} bytes, {header['bpp']:.4f} bpp, streams {header['stream_bytes']}"
            )
    except CodecError as exc:
        raise CommandError(str(exc)) from exc
    return 0
