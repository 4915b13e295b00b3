"""Property-based tests (hypothesis) of the parsers that read untrusted input: image normalisation, rate point
validation, the ``.lic`` container and data set score files. Each either returns a well-formed value or raises
its own documented error; no other exception escapes."""

from __future__ import annotations

import hashlib
import io
import math
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from analysis.iqa_datasets.base import DatasetError, DatasetIndex, parse_score, read_csv_rows
from analysis.iqa_datasets.verify import verify_images
from app.api.errors import status_of
from app.commands import CommandError
from app.commands.score import _read_image
from app.services.datasets.image_normalization import normalize_image
from app.services.errors import ServiceError
from models.base import CodecContext, CodecError, CorruptStreamError
from models.multirate.fileformat import LicFile, pack, unpack
from models.registry import build_codecs
from models.training.multirate import image_folder

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _encoded(fmt: str, mode: str = "RGB", size: tuple[int, int] = (5, 4)) -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(1).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).convert(mode).save(buffer, format=fmt)
    return buffer.getvalue()


SEEDS = [
    _encoded("PNG"),
    _encoded("JPEG"),
    _encoded("GIF", "P"),
    _encoded("BMP"),
    _encoded("TIFF"),
    _encoded("WEBP"),
    _encoded("PNG", "LA"),
    _encoded("PNG", "I;16"),
]


@st.composite
def mutated_images(draw) -> bytes:
    """A valid encoded image with a few bytes replaced, cut short or extended."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 4))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut]) + draw(st.binary(max_size=16))


def _check_normalised(data: bytes) -> None:
    try:
        image = normalize_image("x.png", data, max_pixels=100_000)
    except ServiceError as exc:
        assert 400 <= status_of(exc) < 500 and "x.png" in exc.message
        return
    assert image.pixels.dtype == np.uint8 and image.pixels.ndim == 3 and image.pixels.shape[2] == 3
    assert image.content_hash == hashlib.sha256(image.png).hexdigest()
    stored = np.asarray(Image.open(io.BytesIO(image.png)))
    assert np.array_equal(stored, image.pixels)


@FAST
@given(st.binary(max_size=512))
def test_normalising_arbitrary_bytes_gives_rgb_or_a_4xx_error(data):
    _check_normalised(data)


@FAST
@given(mutated_images())
def test_normalising_damaged_images_gives_rgb_or_a_4xx_error(data):
    _check_normalised(data)


def _check_file_readers(data: bytes) -> None:
    """The readers of image files on disk: ``licbench score``, a data set's verification and a training folder
    each return RGB or their own error naming the file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.png"
        path.write_bytes(data)
        try:
            pixels = _read_image(path)
        except CommandError as exc:
            assert str(path) in str(exc)
        else:
            assert pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 3
        index = DatasetIndex(
            layout="fuzz", root=Path(folder), references=["x.png"], distorted=[], higher_is_better=True, unit="MOS"
        )
        problems = verify_images(index)
        assert problems == [] or (len(problems) == 1 and problems[0].startswith("x.png does not decode"))
        try:
            images = image_folder(Path(folder))
        except ValueError as exc:
            assert str(path) in str(exc)
        else:
            assert len(images) == 1 and images[0].ndim == 3 and images[0].shape[2] == 3


@FAST
@given(mutated_images())
def test_reading_damaged_image_files_gives_rgb_or_the_readers_own_error(data):
    _check_file_readers(data)


def test_tiff_with_a_damaged_second_page_is_a_4xx_error():
    # found by the property test above in CI: counting the pages reads the next directory, which lacks
    # ImageWidth, and Pillow raised TypeError("Missing dimensions") through normalize_image
    pages = [Image.fromarray(np.full((4, 5, 3), value, dtype=np.uint8)) for value in (0, 9)]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
    data = bytearray(buffer.getvalue())
    assert data[:2] == b"II"
    first = struct.unpack_from("<I", data, 4)[0]
    second = struct.unpack_from("<I", data, first + 2 + 12 * struct.unpack_from("<H", data, first)[0])[0]
    for k in range(struct.unpack_from("<H", data, second)[0]):
        if struct.unpack_from("<H", data, second + 2 + 12 * k)[0] == 256:  # ImageWidth -> an unknown tag
            struct.pack_into("<H", data, second + 2 + 12 * k, 65000)
    with pytest.raises(ServiceError) as raised:
        normalize_image("two-pages.tif", bytes(data), max_pixels=100_000)
    assert 400 <= status_of(raised.value) < 500
    assert "two-pages.tif" in raised.value.message and "corrupt" in raised.value.message


CODECS = build_codecs(CodecContext(weights_dir=Path("/nonexistent-weights"), device="cpu"))
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**400), 10**400),
    st.integers(-200, 200),
    st.booleans(),
    st.text(max_size=5),
    st.none(),
)


@FAST
@given(st.sampled_from(sorted(CODECS)), NUMBERS)
def test_rate_point_validation_accepts_only_in_range_numbers(name, value):
    rate = CODECS[name].rate
    try:
        accepted = rate.validate(value)
    except CodecError as exc:
        assert str(exc)
        return
    assert isinstance(accepted, float) and math.isfinite(accepted)
    assert rate.minimum <= accepted <= rate.maximum
    assert not rate.integer or accepted.is_integer()
    assert not rate.discrete or accepted in rate.points


LIC_FILES = st.builds(
    LicFile,
    model_id=st.binary(min_size=8, max_size=8),
    height=st.integers(1, 2**32 - 1),
    width=st.integers(1, 2**32 - 1),
    rate=st.floats(0, 1),
    streams=st.lists(st.binary(max_size=64), max_size=4).map(tuple),
)


@FAST
@given(LIC_FILES)
def test_lic_pack_unpack_round_trips(lic):
    assert unpack(pack(lic)) == lic


@FAST
@given(LIC_FILES, st.data())
def test_every_truncation_of_a_lic_file_is_reported(lic, data):
    packed = pack(lic)
    keep = data.draw(st.integers(0, len(packed) - 1))
    with pytest.raises(CorruptStreamError):
        unpack(packed[:keep])


@FAST
@given(LIC_FILES, st.data())
def test_every_single_bit_flip_in_a_lic_file_is_reported(lic, data):
    packed = bytearray(pack(lic))
    bit = data.draw(st.integers(0, 8 * len(packed) - 1))
    packed[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(CorruptStreamError):
        unpack(bytes(packed))


@FAST
@given(st.binary(max_size=128))
def test_arbitrary_bytes_never_crash_the_lic_parser(data):
    try:
        parsed = unpack(b"LICM" + data if data[:1] == b"\x01" else data)
    except CorruptStreamError:
        return
    assert parsed.height > 0 and parsed.width > 0


@FAST
@given(st.text(max_size=20))
def test_scores_parse_to_finite_floats_or_a_named_error(text):
    try:
        value = parse_score(text, "mos.txt line 3")
    except DatasetError as exc:
        assert "mos.txt line 3" in str(exc)
        return
    assert math.isfinite(value)


CSV_CELLS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(CSV_CELLS, min_size=0, max_size=6), max_size=6), st.booleans(), st.binary(max_size=8))
def test_score_files_parse_to_rows_or_a_named_error(tmp_path, rows, with_header, noise):
    header = ["dis_img_path", "dis_type", "ref_img_path", "score"] if with_header else []
    lines = [",".join(header)] if header else []
    lines += [",".join(cell.replace("\n", " ") for cell in row) for row in rows]
    path = tmp_path / "scores.csv"
    path.write_bytes("\n".join(lines).encode() + noise)
    try:
        parsed = read_csv_rows(path, ("dis_img_path", "dis_type", "ref_img_path", "score"))
    except DatasetError as exc:
        assert "scores.csv" in str(exc)
        return
    assert parsed and all(isinstance(row, dict) for row in parsed)
    assert all(isinstance(k, str) and isinstance(v, str) for row in parsed for k, v in row.items())


def test_the_properties_see_every_seed_format():
    """The damaged-image strategy starts from real files of every accepted format (so it tests the decoders)."""
    formats = {Image.open(io.BytesIO(seed)).format for seed in SEEDS}
    assert formats == {"PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"}
