"""The one place codecs are registered: adding a codec is adding its class to ``CODEC_CLASSES``."""
from __future__ import annotations

from collections.abc import Callable

from models.base import Codec, CodecContext
from models.codecs.jpeg import JpegCodec
from models.codecs.tiny_hyperprior import TinyHyperpriorCodec

CodecFactory = Callable[[CodecContext], Codec]

CODEC_CLASSES: list[CodecFactory] = [
    lambda ctx: JpegCodec(context=ctx),
    lambda ctx: TinyHyperpriorCodec(context=ctx),
]


def build_codecs(context: CodecContext) -> dict[str, Codec]:
    """Instantiate every registered codec (cheap: weights load lazily on first use)."""
    codecs = [factory(context) for factory in CODEC_CLASSES]
    return {codec.name: codec for codec in codecs}
