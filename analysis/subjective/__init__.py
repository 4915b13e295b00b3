"""Human studies as a pure library: perceptual scales from pairwise comparisons and ratings.

- ``types``: ``Comparison``, ``Rating`` in; ``Scale`` (``ConditionScore``, ``ObserverReport``) out.
- ``thurstone.pw_scale``: a port of pwcmp's ``pw_scale`` (Perez-Ortiz and Mantiuk 2017) on one
  comparison-count matrix; ``thurstone.thurstone_case_v`` the same objective on a batch of them.
- ``pairwise.scale_pairwise``: JOD per scene with pwcmp's scaling, bootstrap intervals, leave-one-out
  observer screening, effective comparisons and design warnings.
- ``design``: effective comparisons per condition; groups too sparse and near-unanimous for JOD distances.
- ``rating.scale_ratings``: MOS with 95% t-intervals, ITU-R BT.500 observer screening.
- ``sampling``: ``balanced_next_pair`` and ``active_next_pair`` (ASAP, Mikhailiuk et al. 2020).
- ``screening.trap_failures``: observers who fail hidden trap trials.
- ``simulate.simulate_observers``: Thurstone observers with a known scale, for tests and benchmarks.
- ``triplet.triplet_scale``: JND scales from plain and boosted triplet answers jointly, as JPEG AIC-3
  reconstructs them (Testolina et al. 2024; Jenadeleh et al. 2025), trap screening, bootstrap intervals.
- ``aic3_csv.read_aic3_answers``: ``TripletAnswer`` rows from the JPEG AIC response CSVs.
"""

from analysis.subjective.design import effective_comparisons, group_design
from analysis.subjective.pairwise import scale_pairwise
from analysis.subjective.rating import scale_ratings
from analysis.subjective.sampling import active_next_pair, balanced_next_pair
from analysis.subjective.screening import trap_failures
from analysis.subjective.simulate import simulate_observers
from analysis.subjective.triplet import TripletAnswer, TripletCondition, TripletScale, triplet_scale
from analysis.subjective.types import Comparison, ConditionScore, GroupWarning, ObserverReport, Rating, Scale

__all__ = [
    "Comparison",
    "ConditionScore",
    "GroupWarning",
    "ObserverReport",
    "Rating",
    "Scale",
    "TripletAnswer",
    "TripletCondition",
    "TripletScale",
    "active_next_pair",
    "balanced_next_pair",
    "effective_comparisons",
    "group_design",
    "scale_pairwise",
    "scale_ratings",
    "simulate_observers",
    "trap_failures",
    "triplet_scale",
]
