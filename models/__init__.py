"""Codecs as a pure library: no web, no queue, no database.

Every codec, learned or classical, honours one contract (see ``models.base.Codec``):
``encode(image, rate_point) -> bytes`` and ``decode(bytes) -> image``. The bytes are the whole
bitstream: bpp is computed from their length and the reconstruction is decoded from them alone.
"""
