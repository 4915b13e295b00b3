"""Agreement of quality metrics with human scores, as pure statistics (numpy/scipy; no web, no DB).

- ``observations``: ``Observation`` (one judged condition: metric values, human score, image, codec...)
  and the breakdown keys (``family``, ``codec``, ``band``, ``image``, ``distortion``).
- ``orientation``: ``orient`` makes every metric higher = better before any statistic.
- ``logistic``: ``fit_logistic``, the monotonically increasing VQEG 4-parameter and Sheikh et al.
  2006 5-parameter mappings (scipy ``curve_fit``, slope constrained).
- ``coefficients``: SROCC, KROCC, PLCC, RMSE of one metric (``agreement``), checked against scipy.
- ``bootstrap``: resampling whole source images (all their conditions together), seeded.
- ``williams``: Williams' (1959) test of two dependent correlations sharing the human scores.
- ``report``: ``correlate`` -> ``CorrelationReport`` whose ``to_dict()`` is the REST shape.
- ``pairwise``: 2AFC agreement for pairwise data without a scale (CLIC triplets).
- ``failures``: ``worst_disagreements`` and ``family_bias`` (where a metric fails).
"""

from analysis.correlation.coefficients import Agreement, agreement, krocc, plcc, rmse, srocc
from analysis.correlation.failures import (
    ContradictingPair,
    Disagreements,
    FamilyBias,
    Residual,
    family_bias,
    worst_disagreements,
)
from analysis.correlation.logistic import FIT_FORMS, Fit, fit_logistic
from analysis.correlation.observations import GROUPS, Observation, group_values
from analysis.correlation.orientation import orient
from analysis.correlation.pairwise import TwoAFC, TwoAFCPair, two_afc_agreement
from analysis.correlation.report import Comparison, CorrelationReport, MetricRow, correlate
from analysis.correlation.williams import williams_test

__all__ = [
    "Agreement",
    "Comparison",
    "ContradictingPair",
    "CorrelationReport",
    "Disagreements",
    "FIT_FORMS",
    "FamilyBias",
    "Fit",
    "GROUPS",
    "MetricRow",
    "Observation",
    "Residual",
    "TwoAFC",
    "TwoAFCPair",
    "agreement",
    "correlate",
    "family_bias",
    "fit_logistic",
    "group_values",
    "krocc",
    "orient",
    "plcc",
    "rmse",
    "srocc",
    "two_afc_agreement",
    "williams_test",
    "worst_disagreements",
]
