"""GET /api/v1/metrics names each metric's unit, range and the reference its values are checked
against; the display model of cvvdp/flip is a setting (METRIC_DISPLAY)."""

from __future__ import annotations

import pytest


def test_every_metric_has_unit_range_and_reference(api):
    metrics = {m["name"]: m for m in api.get("/api/v1/metrics").json()}
    assert {"vif", "vifp", "cvvdp", "flip", "iw-ssim", "butteraugli"} <= set(metrics)
    for name, m in metrics.items():
        assert m["unit"] and m["reference"], name
        low, high = m["range"]
        assert low < high, name
    assert metrics["psnr"]["unit"] == "dB" and metrics["cvvdp"]["unit"] == "JOD"
    assert "vifvec" in metrics["vif"]["reference"] and "piq" in metrics["vifp"]["reference"]
    assert metrics["flip"]["higher_is_better"] is False


@pytest.fixture
def hdr_display(monkeypatch):
    monkeypatch.setenv("METRIC_DISPLAY", "standard_hdr_pq")


def test_display_model_setting_reaches_cvvdp_and_flip(hdr_display, api):
    metrics = {m["name"]: m for m in api.get("/api/v1/metrics").json()}
    for name in ("cvvdp", "flip"):
        assert metrics[name]["available"] is False and "standard_hdr_pq" in metrics[name]["reason"]
    assert metrics["psnr"]["available"]
