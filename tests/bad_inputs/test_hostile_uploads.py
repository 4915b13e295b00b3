"""POST /api/v1/image-sets with hostile and unusual files: each case has one defined outcome.

Rejected uploads answer a 4xx JSON ``detail`` naming the problem and store nothing (rows and files counted
before and after). Valid-but-unusual images are accepted with the conversion documented in
``app/services/datasets/image_normalization.py`` and reported in the image's ``conversion`` field.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from tests.support.images import png_bytes, random_photo

GOOD = png_bytes(random_photo(24, 32))


def _jpeg(pixels: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A 100-byte PNG whose header declares 10 gigapixels (the decompression bomb's first line)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\0" * 4096, 9))
        + _chunk(b"IEND", b"")
    )


def _upload(client, files, name="set", **data):
    return client.post(
        "/api/v1/image-sets",
        data={"name": name, **data},
        files=[("files", (fn, content, "application/octet-stream")) for fn, content in files],
    )


def _stored_pixels(client, image_id: int) -> np.ndarray:
    response = client.get(f"/api/v1/images/{image_id}")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)))


# --- rejected: 4xx, nothing stored ------------------------------------------------------------------------

REJECTED = {
    "zero-byte file": ([("empty.png", b"")], 422, "is empty"),
    "truncated PNG": ([("cut.png", GOOD[: len(GOOD) // 2])], 422, "truncated"),
    "truncated JPEG (cut in the header)": ([("cut.jpg", _jpeg(random_photo(64, 64))[:400])], 422, "truncated"),
    "truncated JPEG (cut in the scan)": ([("half.jpg", _jpeg(random_photo(64, 64))[:-300])], 422, "truncated"),
    "decompression bomb (header declares 10 GP)": ([("bomb.png", png_bomb())], 413, "decompression-bomb"),
    "SVG renamed .png": (
        [
            (
                "vector.png",
                b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><script>alert(1)</script></svg>',
            )
        ],
        422,
        "not an image",
    ),
    "HTML renamed .png": (
        [("page.png", b"<!doctype html><html><script>alert(1)</script></html>")],
        422,
        "not an image",
    ),
    "PDF renamed .jpg": ([("doc.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF")], 422, "not an image"),
    "one bad file among good ones": ([("ok.png", GOOD), ("bad.png", b"\x89PNG\r\n\x1a\nnope")], 422, "bad.png".lower()),
    "ICO (a format we do not accept)": ([("icon.png", None)], 422, "accepted"),
}


def _ico() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(random_photo(16, 16)).save(buffer, format="ICO")
    return buffer.getvalue()


@pytest.mark.parametrize("case", list(REJECTED))
def test_rejected_upload_answers_4xx_and_stores_nothing(client, nothing_stored, case):
    files, status, message = REJECTED[case]
    files = [(fn, _ico() if content is None else content) for fn, content in files]
    response = _upload(client, files)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"].lower()


def test_upload_without_files_or_with_text_instead_of_files(client, nothing_stored):
    assert client.post("/api/v1/image-sets", data={"name": "x"}).status_code == 422
    response = client.post("/api/v1/image-sets", data={"name": "x", "files": "not a file"})
    assert response.status_code == 422 and "files" in response.json()["detail"]


@pytest.mark.parametrize("name, message", [("", "name"), ("   ", "name"), ("x" * 201, "200 characters")])
def test_bad_set_names_are_rejected(client, nothing_stored, name, message):
    response = _upload(client, [("a.png", GOOD)], name=name)
    assert response.status_code == 422 and message in response.json()["detail"]


def test_file_over_the_size_limit_is_rejected(client, nothing_stored, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("MAX_UPLOAD_BYTES", str(len(GOOD) - 1))
    get_settings.cache_clear()
    response = _upload(client, [("a.png", GOOD)])
    assert response.status_code == 413 and "upload limit" in response.json()["detail"]


def test_request_body_over_the_total_limit_is_refused_before_reading(client, nothing_stored, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("MAX_UPLOAD_BYTES", "1000")
    monkeypatch.setenv("MAX_FILES_PER_UPLOAD", "2")
    monkeypatch.setenv("MAX_DATASET_BYTES", "1000")
    get_settings.cache_clear()
    response = _upload(client, [("a.png", bytes(5000))])
    assert response.status_code == 413 and "over the limit" in response.json()["detail"]


def test_too_many_files_is_rejected(client, nothing_stored, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("MAX_FILES_PER_UPLOAD", "3")
    get_settings.cache_clear()
    response = _upload(client, [(f"{i}.png", GOOD) for i in range(4)])
    assert response.status_code == 422 and "too many files" in response.json()["detail"]


def test_garbage_multipart_body_is_a_4xx(client, nothing_stored):
    response = client.post(
        "/api/v1/image-sets",
        content=b"--xyz\r\nnot really multipart",
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert 400 <= response.status_code < 500, response.text
    response = client.post("/api/v1/image-sets", json={"name": "x", "files": []})
    assert response.status_code == 422


# --- accepted with a documented conversion -----------------------------------------------------------------


def _accepted(client, files, name="set"):
    response = _upload(client, files, name=name)
    assert response.status_code == 201, response.text
    return response.json()


def test_one_by_one_image_is_accepted(client):
    image = _accepted(client, [("dot.png", png_bytes(np.full((1, 1, 3), 200, np.uint8)))])["images"][0]
    assert (image["width"], image["height"]) == (1, 1)
    assert _stored_pixels(client, image["id"]).tolist() == [[[200, 200, 200]]]


def test_100000_by_1_image_is_accepted(client):
    line = np.tile(np.arange(256, dtype=np.uint8), 391)[:100_000]
    pixels = np.stack([line, line, line], axis=-1)[None]
    image = _accepted(client, [("line.png", png_bytes(pixels))])["images"][0]
    assert (image["width"], image["height"]) == (100_000, 1)
    assert np.array_equal(_stored_pixels(client, image["id"]), pixels)


def test_16_bit_png_is_scaled_by_v_over_257(client):
    grey = np.array([[0, 257 * 100, 65535, 1000]], dtype=np.uint16)
    image = _accepted(client, [("deep.png", png_bytes(grey))])["images"][0]
    assert "16-bit scaled to 8-bit (v/257)" in image["conversion"]
    assert _stored_pixels(client, image["id"])[0, :, 0].tolist() == [0, 100, 255, round(1000 / 257)]


def test_cmyk_jpeg_is_converted_to_rgb(client):
    buffer = io.BytesIO()
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(buffer, format="JPEG", quality=95)
    image = _accepted(client, [("print.jpg", buffer.getvalue())])["images"][0]
    assert image["original_format"] == "JPEG" and "CMYK converted to RGB" in image["conversion"]
    red, green, blue = _stored_pixels(client, image["id"])[8, 8].tolist()
    assert red > 200 and green < 60 and blue < 60


def test_palette_png_with_transparency_is_composited_on_white(client):
    palette = Image.new("P", (4, 2))
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.putdata([0, 1, 0, 1, 1, 0, 1, 0])
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", transparency=0)
    image = _accepted(client, [("palette.png", buffer.getvalue())])["images"][0]
    assert "alpha composited on white" in image["conversion"]
    stored = _stored_pixels(client, image["id"])
    assert stored[0, 0].tolist() == [255, 255, 255] and stored[0, 1].tolist() == [255, 0, 0]


def test_animated_gif_keeps_its_first_frame_and_says_so(client):
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    image = _accepted(client, [("anim.gif", buffer.getvalue())])["images"][0]
    assert image["original_format"] == "GIF" and "first frame of 3" in image["conversion"]
    assert _stored_pixels(client, image["id"])[4, 4].tolist() == [255, 0, 0]


@pytest.mark.parametrize(
    "filename", ["../../../../etc/passwd.png", "..\\..\\windows\\win.png", "/abs/x.png", "a/../../b.png"]
)
def test_path_traversal_names_are_labels_never_paths(client, settings_env, filename):
    image = _accepted(client, [(filename, GOOD)])["images"][0]
    assert image["filename"] == filename  # shown as given (escaped in pages), never used to build a path
    stored = [p for p in settings_env.rglob("*") if p.is_file() and ".sqlite" not in p.name]
    assert [p.name for p in stored] == [f"{image_hash}.png" for image_hash in _hashes(settings_env)]
    assert all(p.resolve().is_relative_to(settings_env.resolve()) for p in stored)
    assert not (settings_env.parent / "etc").exists() and not (settings_env / "abs").exists()


def _hashes(data_dir) -> list[str]:
    from sqlalchemy import select

    from app.db.session import session_scope
    from app.db.tables import Image as ImageRow

    with session_scope() as session:
        return sorted(set(session.scalars(select(ImageRow.content_hash))))


@pytest.mark.parametrize("filename", ["фото-🌅.png", "名前 スペース.png", "\u202egnp.exe", "café\u0301.png"])
def test_unicode_file_names_are_kept(client, filename):
    body = _accepted(client, [(filename, GOOD)])
    assert body["images"][0]["filename"] == filename
    assert client.get(f"/api/v1/image-sets/{body['id']}").json()["images"][0]["filename"] == filename


def test_duplicate_files_become_two_images_stored_once(client, settings_env):
    body = _accepted(client, [("a.png", GOOD), ("copy-of-a.png", GOOD)])
    assert [i["filename"] for i in body["images"]] == ["a.png", "copy-of-a.png"]
    blobs = [p for p in (settings_env / "images").rglob("*") if p.is_file()]
    assert len(blobs) == 1  # content-addressed: identical pixels are kept once


def test_script_in_set_name_is_stored_verbatim_and_escaped_in_pages(client):
    hostile = "<script>alert(1)</script>"
    body = _accepted(client, [(f"{hostile}.png", GOOD)], name=hostile)
    assert body["name"] == hostile
    page = client.get(f"/image-sets/{body['id']}").text
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
