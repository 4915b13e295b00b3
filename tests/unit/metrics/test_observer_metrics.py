"""ColorVideoVDP and FLIP: our metrics give exactly what the packages' own functions give on the
calibration pairs, for the display model set in the context, and record its pixels per degree."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metrics.base import MetricContext
from metrics.cvvdp import ColorVideoVDP
from metrics.flip import FLIP, flip_error_map
from metrics.scoring import score
from metrics.scoring import to_tensor as _tensor
from metrics.viewing import DEFAULT_DISPLAY, viewing_condition
from tests.support.calibration import calibration_arrays
from tests.support.images import random_photo

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    return calibration_arrays()[0]  # I03: strongly distorted


def test_default_viewing_condition_is_cvvdp_standard_4k_with_its_pixels_per_degree():
    import pycvvdp

    condition = viewing_condition()
    assert condition.display == DEFAULT_DISPLAY == "standard_4k" == MetricContext().display
    assert condition.pixels_per_degree == pytest.approx(
        pycvvdp.cvvdp(display_name="standard_4k", device=torch.device("cpu")).pix_per_deg
    )
    assert 60 < condition.pixels_per_degree < 90
    assert f"{condition.pixels_per_degree:.2f} pixels per degree" in condition.note()


def test_cvvdp_equals_the_packages_predict_on_a_calibration_pair(pair):
    import pycvvdp

    ref, dist = pair
    theirs, _ = pycvvdp.cvvdp(display_name="standard_4k", device=torch.device("cpu"), quiet=True).predict(
        dist, ref, dim_order="HWC"
    )
    ours = ColorVideoVDP().compute(_tensor(ref), torch.cat([_tensor(dist), _tensor(ref)]))
    assert ours[0] == pytest.approx(float(theirs), abs=1e-4)
    assert 0.0 < ours[0] < 9.0  # visibly distorted, in JOD
    assert ours[1] == pytest.approx(10.0, abs=1e-4)  # identical image: no difference


def test_flip_equals_the_packages_evaluate_and_keeps_its_error_map(pair):
    import flip_evaluator

    ref, dist = pair
    ppd = viewing_condition().pixels_per_degree
    their_map, theirs, parameters = flip_evaluator.evaluate(
        ref.astype(np.float32) / 255, dist.astype(np.float32) / 255, "LDR", applyMagma=False, parameters={"ppd": ppd}
    )
    metric = FLIP()
    ours = metric.compute(_tensor(ref), torch.cat([_tensor(dist), _tensor(ref)]))
    assert ours[0] == pytest.approx(theirs, rel=1e-6) and 0.05 < ours[0] < 1.0
    assert ours[1] == 0.0
    error_map = metric.error_map(_tensor(ref), _tensor(dist))
    assert error_map.shape == ref.shape[:2]
    np.testing.assert_allclose(error_map, np.asarray(their_map).reshape(ref.shape[:2]), atol=1e-6)
    assert float(error_map.mean()) == pytest.approx(ours[0], rel=1e-4)
    assert parameters["ppd"] == pytest.approx(ppd)


def test_display_model_is_a_setting_and_changes_pixels_per_degree():
    ref = random_photo(64, 80, seed=3)
    dist = np.clip(ref.astype(int) + np.random.default_rng(0).integers(-30, 31, ref.shape), 0, 255).astype(np.uint8)
    fhd = MetricContext(display="standard_fhd")
    assert viewing_condition("standard_fhd").pixels_per_degree != viewing_condition().pixels_per_degree
    default, other = FLIP().compute(_tensor(ref), _tensor(dist))[0], FLIP(fhd).compute(_tensor(ref), _tensor(dist))[0]
    assert default != other
    assert other == pytest.approx(flip_error_map(ref, dist, viewing_condition("standard_fhd").pixels_per_degree)[1])
    assert "standard_fhd" in ColorVideoVDP(fhd).value_note()


def test_unknown_or_hdr_display_models_make_the_metrics_unavailable_with_the_choices():
    for display in ("no-such-display", "standard_hdr_pq"):
        for metric in (ColorVideoVDP(MetricContext(display=display)), FLIP(MetricContext(display=display))):
            availability = metric.availability()
            assert not availability.available
            assert display in availability.reason and "standard_fhd" in availability.reason


def test_scores_carry_the_viewing_condition_as_their_note():
    ref = random_photo(32, 40, seed=4)
    row = score(ref, [ref], [FLIP()])[0]
    assert row["flip"].value == 0.0 and row["flip"].reason is None
    assert row["flip"].note == viewing_condition().note()


def test_nothing_is_downloaded_at_run_time(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("a metric tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    ref = _tensor(random_photo(24, 32, seed=5))
    dist = _tensor(random_photo(24, 32, seed=6))
    assert ColorVideoVDP().compute(ref, dist)[0] < 10.0
    assert FLIP().compute(ref, dist)[0] > 0.0
