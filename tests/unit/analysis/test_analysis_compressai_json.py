"""CompressAI's results JSON: exported files read back (by us and by CompressAI's plot tool's rules)."""

from __future__ import annotations

import json

import pytest

from analysis.compressai_json import (
    ResultsFormatError,
    from_compressai_json,
    published_kodak_anchors,
    published_reference_curves,
    read_compressai_json,
    to_compressai_json,
)
from analysis.rd import average_rd_points
from models.zoo import zoo_weight_files


def jpeg_curve():
    rows = [
        {"codec": "jpeg", "rate_point": q, "bpp": bpp, "metrics": {"psnr": p, "ms-ssim": m}}
        for q, bpp, p, m in [(10, 0.3, 27.0, 0.90), (50, 0.9, 33.0, 0.97), (30, 0.6, 31.0, 0.95)]
    ]
    return average_rd_points(rows)["jpeg"]


def test_export_uses_compressai_keys_one_entry_per_rate_point():
    doc = to_compressai_json(jpeg_curve(), description="licbench job 7")
    assert doc["name"] == "jpeg" and doc["description"] == "licbench job 7"
    results = doc["results"]
    assert results["bpp"] == [0.3, 0.6, 0.9]
    assert results["psnr-rgb"] == [27.0, 31.0, 33.0]
    assert results["ms-ssim-rgb"] == [0.90, 0.95, 0.97]
    assert results["rate_point"] == [10.0, 30.0, 50.0]
    json.dumps(doc)  # plain JSON types only


def test_exported_file_reads_back_as_the_same_curve(tmp_path):
    path = tmp_path / "jpeg.json"
    path.write_text(json.dumps(to_compressai_json(jpeg_curve())))
    curve = read_compressai_json(path, label="imported")
    assert curve.name == "jpeg" and curve.label == "imported"
    assert curve.xy("psnr") == ([0.3, 0.6, 0.9], [27.0, 31.0, 33.0])
    assert curve.metrics["ms-ssim"] == [0.90, 0.95, 0.97]
    assert curve.extra["rate_point"] == [10.0, 30.0, 50.0]


def test_metric_missing_at_some_point_is_not_exported():
    rows = [
        {"codec": "x", "rate_point": 1, "bpp": 0.1, "metrics": {"psnr": 28.0, "vmaf": 60.0}},
        {"codec": "x", "rate_point": 2, "bpp": 0.2, "metrics": {"psnr": 30.0}},
    ]
    results = to_compressai_json(average_rd_points(rows)["x"])["results"]
    assert "psnr-rgb" in results and "vmaf" not in results


@pytest.mark.parametrize(
    "doc, words",
    [
        ([1, 2], "JSON object"),
        ({"name": "x", "results": {"psnr-rgb": [30.0]}}, "no results.bpp"),
        ({"name": "x", "results": {"bpp": [0.1, 0.2], "psnr-rgb": [30.0]}}, "has 1 values"),
        ({"name": "x", "results": {"bpp": [0.1, "a"], "psnr-rgb": [30.0, 31.0]}}, "finite numbers"),
        ({"name": "x", "results": {"bpp": [0.1]}}, "no metric"),
    ],
)
def test_malformed_documents_are_refused_with_a_reason(doc, words):
    with pytest.raises(ResultsFormatError, match=words):
        from_compressai_json(doc)


def test_unreadable_file_is_a_format_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(ResultsFormatError, match="not JSON"):
        read_compressai_json(path)


def test_published_reference_covers_every_zoo_codec_and_cites_its_source():
    curves = published_reference_curves()
    assert set(curves) == {f.codec for f in zoo_weight_files()}
    for name, curve in curves.items():
        quality_levels = max(f.quality for f in zoo_weight_files() if f.codec == name)
        assert len(curve.bpp) == quality_levels
        assert curve.label == "published"
        assert curve.source["repository"] == "InterDigitalInc/CompressAI"
        assert curve.source["path"].startswith("results/image/kodak/compressai-")
        assert curve.bpp == sorted(curve.bpp)
        assert curve.metrics["psnr"] == sorted(curve.metrics["psnr"])
        assert set(curve.metrics) == {"psnr", "ms-ssim"}


def test_published_cheng2020_anchor_matches_the_figures_in_references_md():
    # shared/REFERENCES.md, from results/image/kodak/compressai-cheng2020-anchor_mse_cpu.json
    curve = published_reference_curves()["cheng2020-anchor"]
    assert [round(b, 3) for b in curve.bpp] == [0.120, 0.184, 0.271, 0.417, 0.594, 0.806]
    assert [round(p, 2) for p in curve.metrics["psnr"]] == [28.58, 29.97, 31.34, 33.39, 35.12, 36.70]


def test_published_kodak_anchors_cite_their_source_and_are_listed_with_the_reference_curves():
    from app.services.jobs.reference_curves import published_curves

    anchors = published_kodak_anchors()
    assert set(anchors) == {
        "JPEG",
        "WebP",
        "BPG 4:4:4",
        "AV1",
        "VTM",
        "bmshj2018-hyperprior-vbr",
        "mbt2018-mean-vbr",
        "mbt2018-vbr",
    }
    for curve in anchors.values():
        assert curve.source["repository"] == "InterDigitalInc/CompressAI"
        assert curve.source["path"].startswith("results/image/kodak/")
        assert curve.source["dataset"] == "Kodak (24 images)"
        assert curve.bpp == sorted(curve.bpp) and len(curve.bpp) == len(curve.metrics["psnr"])
    assert {c.name for c in published_curves()} >= set(anchors) | set(published_reference_curves())
