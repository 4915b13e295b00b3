"""The one place codecs are registered: adding a codec is adding its class to ``CODEC_CLASSES``."""

from __future__ import annotations

from collections.abc import Callable

from models.base import Codec, CodecContext
from models.codecs.avif import AvifCodec
from models.codecs.heic import Heic444Codec, HeicCodec
from models.codecs.jpeg import Jpeg444Codec, JpegCodec
from models.codecs.jpeg2000 import Jpeg2000Codec
from models.codecs.jpegxl import JpegXlCodec
from models.codecs.single_rate import SingleRateCodec
from models.codecs.tiny_hyperprior import TinyHyperpriorCodec
from models.codecs.webp import WebpCodec
from models.multirate.codec import MultiRateCodec
from models.zoo import zoo_codec_factories

CodecFactory = Callable[[CodecContext], Codec]

CODEC_CLASSES: list[CodecFactory] = [
    lambda ctx: JpegCodec(context=ctx),
    lambda ctx: Jpeg444Codec(context=ctx),
    lambda ctx: WebpCodec(context=ctx),
    lambda ctx: AvifCodec(context=ctx),
    lambda ctx: JpegXlCodec(context=ctx),
    lambda ctx: HeicCodec(context=ctx),
    lambda ctx: Heic444Codec(context=ctx),
    lambda ctx: Jpeg2000Codec(context=ctx),
    lambda ctx: TinyHyperpriorCodec(context=ctx),
    lambda ctx: MultiRateCodec(context=ctx),
    lambda ctx: MultiRateCodec.refined(context=ctx),
    lambda ctx: SingleRateCodec(context=ctx),
    # CompressAI's pretrained zoo: six architectures x (MSE, MS-SSIM), weights from <weights_dir>/compressai/.
    *zoo_codec_factories(),
]


def build_codecs(context: CodecContext) -> dict[str, Codec]:
    """Instantiate every registered codec (cheap: weights load lazily on first use)."""
    codecs = [factory(context) for factory in CODEC_CLASSES]
    return {codec.name: codec for codec in codecs}
