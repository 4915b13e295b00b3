"""The one place study methods are registered: adding a method is adding its class here (plus its
participant page template and script, named on the class)."""

from __future__ import annotations

from analysis.subjective.methods.base import StudyMethod
from analysis.subjective.methods.dsis import DsisMethod
from analysis.subjective.methods.pairwise import PairwiseMethod
from analysis.subjective.methods.triplet import TripletMethod

METHOD_CLASSES: tuple[type[StudyMethod], ...] = (PairwiseMethod, DsisMethod, TripletMethod)
_METHODS: dict[str, StudyMethod] = {cls.name: cls() for cls in METHOD_CLASSES}


def method_names() -> list[str]:
    """Registered method names, in registration order."""
    return list(_METHODS)


def get_method(name: str) -> StudyMethod:
    """The method registered as ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        return _METHODS[name]
    except KeyError:
        raise KeyError(f"unknown study method {name!r}; choose one of {', '.join(_METHODS)}") from None
