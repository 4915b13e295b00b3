"""Viewing conditions of the metrics that model the observer (ColorVideoVDP, FLIP).

A condition is one of the display models that ship with ColorVideoVDP (``pycvvdp/vvdp_data/
display_models.json``: resolution, diagonal, viewing distance, peak luminance, contrast, ambient
light). Its pixels per degree of visual angle (ppd) come from the package's own display geometry
(``vvdp_display_geometry.get_ppd``), so ColorVideoVDP and FLIP score for the same observer. The
default, ``standard_4k``, is ColorVideoVDP's own: a 30-inch 4K desktop monitor, 200 cd/m^2, office
light (250 lux), seen from 0.7472 m (twice the display height), 75.4 ppd.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

DEFAULT_DISPLAY = "standard_4k"


@dataclass(frozen=True)
class ViewingCondition:
    """A named display model and the pixels per degree it implies."""

    display: str
    description: str
    pixels_per_degree: float

    def note(self) -> str:
        """The condition as stored beside each value that depends on it."""
        return f"display {self.display} ({self.description}); {self.pixels_per_degree:.2f} pixels per degree"


def _models_file() -> Path | None:
    spec = find_spec("pycvvdp")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "vvdp_data" / "display_models.json"
    return path if path.is_file() else None


@cache
def display_models() -> dict[str, dict]:
    """ColorVideoVDP's shipped SDR display models by name (empty when the package is missing).

    Only models without a ``colorspace`` entry, i.e. display-encoded sRGB: our images are 8-bit
    sRGB, and an HDR model (PQ, HLG, linear) would read their values in another encoding.
    """
    path = _models_file()
    models = json.loads(path.read_text()) if path else {}
    return {name: model for name, model in models.items() if "colorspace" not in model}


def missing_display(display: str) -> str | None:
    """Why ``display`` cannot be used here, or None when it can."""
    if _models_file() is None:
        return "the cvvdp package (ColorVideoVDP, ships the display models) is not installed"
    models = display_models()
    if display not in models:
        return f"unknown or non-sRGB display model {display!r}; SDR models: {', '.join(sorted(models))}"
    return None


@cache
def viewing_condition(display: str = DEFAULT_DISPLAY) -> ViewingCondition:
    """The viewing condition of display model ``display``; ``ValueError`` names the known ones."""
    reason = missing_display(display)
    if reason:
        raise ValueError(reason)
    from pycvvdp.display_model import vvdp_display_geometry

    geometry = vvdp_display_geometry.load(display)
    return ViewingCondition(display, display_models()[display].get("name", display), float(geometry.get_ppd()))
