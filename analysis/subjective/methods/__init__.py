"""Study methods as plugins (``base.StudyMethod``), registered in ``registry``: pairwise, dsis, triplet."""

from analysis.subjective.methods.base import Answer, InvalidAnswer, Stimulus, StudyMethod, Trial
from analysis.subjective.methods.registry import get_method, method_names

__all__ = ["Answer", "InvalidAnswer", "Stimulus", "StudyMethod", "Trial", "get_method", "method_names"]
