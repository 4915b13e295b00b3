"""The exceptions Pillow raises while opening or decoding a file that is not an image, is damaged or is too large.

One tuple for every place that reads an image from outside (uploads, the CLI, data sets on disk, a training
folder), so that each turns a bad file into its own clear error instead of a traceback.
"""

from __future__ import annotations

import struct

from PIL import Image

# UnidentifiedImageError is an OSError. Pillow's plugins raise the others on damaged files: TypeError("Missing
# dimensions") when counting the pages of a TIFF whose later directory lacks ImageWidth, SyntaxError from the
# PNG chunk reader, struct.error on short headers, EOFError/IndexError/KeyError from truncated tables.
# DecompressionBombError (over twice Image.MAX_IMAGE_PIXELS) derives from Exception only.
PIL_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    TypeError,
    KeyError,
    IndexError,
    struct.error,
    Image.DecompressionBombError,
)
