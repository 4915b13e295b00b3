"""The one place IQA data set layouts are registered: adding a layout is adding its class here."""

from __future__ import annotations

from analysis.iqa_datasets.aic4 import Aic4Layout
from analysis.iqa_datasets.base import DatasetError, Layout
from analysis.iqa_datasets.clic2021 import Clic2021PerceptualLayout
from analysis.iqa_datasets.csiq import CsiqLayout
from analysis.iqa_datasets.generic_csv import GenericCsvLayout
from analysis.iqa_datasets.kadid10k import Kadid10kLayout
from analysis.iqa_datasets.live import LiveLayout
from analysis.iqa_datasets.tid2013 import Tid2013Layout

LAYOUT_CLASSES = (
    Tid2013Layout,
    Kadid10kLayout,
    CsiqLayout,
    LiveLayout,
    Clic2021PerceptualLayout,
    GenericCsvLayout,
    Aic4Layout,
)
_LAYOUTS = {cls.name: cls for cls in LAYOUT_CLASSES}


def layout_names() -> list[str]:
    """Registered layout names, in registration order."""
    return list(_LAYOUTS)


def get_layout(name: str, *, higher_is_better: bool | None = None) -> Layout:
    """A layout instance by name (``higher_is_better`` only for generic-csv); ``DatasetError`` if unknown."""
    if name not in _LAYOUTS:
        raise DatasetError(f"unknown layout {name!r}; choose one of {', '.join(_LAYOUTS)}")
    if name == GenericCsvLayout.name:
        return GenericCsvLayout(higher_is_better)
    if higher_is_better is not None:
        raise DatasetError(
            f"the {name} layout fixes its own score direction; higher_is_better applies to generic-csv only"
        )
    return _LAYOUTS[name]()


def is_scores_only(name: str) -> bool:
    """True for a layout that ships scores and metric values but no images (nothing for the workers to score)."""
    return bool(getattr(_LAYOUTS.get(name), "scores_only", False))


def distortion_family(name: str, distortion: str | None) -> str | None:
    """The codec family (learned | classical) of a distortion type, for layouts whose distortions are codecs."""
    family_of = getattr(_LAYOUTS.get(name), "family_of", None)
    return family_of(distortion) if family_of is not None else None
