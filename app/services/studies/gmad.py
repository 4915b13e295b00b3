"""gMAD over a job's stored results (Ma et al. 2018, group maximum differentiation), and the pairwise study
that lets people settle which metric was right.

``pairs_for_job`` finds, per source image, reconstructions the defender scores nearly equal and the attacker
scores most differently (``analysis.gmad.gmad_pairs``). ``create_study`` turns the pairs of one or every
ordered metric pair into a pairwise study through the human-studies service (its conditions are exactly
those results); ``study_summary`` reads the answers back: per gMAD pair the share of people preferring the
attacker's choice (from the direct comparisons of the two conditions, else from their JOD difference with
1 JOD = 75% preference), then each metric's aggressiveness and resistance (``gmad_summary``).
"""

from __future__ import annotations

import math
from itertools import permutations

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.gmad import GmadItem, GmadJudgement, gmad_pairs, gmad_summary
from app.db.tables import GmadStudy, Job, Result, StudyTrial
from app.services.errors import Invalid, NotFound
from app.services.jobs import jobs
from app.services.studies import studies
from app.settings import get_settings
from metrics.registry import metric_class

JOD_SIGMA = 1.4826  # Thurstone Case V scaling of JOD: P(a over b) = Phi((q_a - q_b) / 1.4826), 1 JOD = 75%


def _check_metric(job: Job, name: str, role: str) -> bool:
    if name not in job.metrics:
        raise Invalid(f"{role} {name!r} is not a metric job {job.id} measured ({', '.join(job.metrics)})")
    try:
        return bool(metric_class(name).higher_is_better)
    except KeyError:
        raise Invalid(f"{role} {name!r} is not a registered metric") from None


def pairs_for_job(
    session: Session, job_id: int, defender: str, attacker: str, pairs: int = 10, tolerance: float | None = None
) -> list[dict]:
    """gMAD pairs of job ``job_id``: ``{"image", "a", "b", "defender_gap", "attacker_gap", "tolerance"}``
    with ``a`` the reconstruction the attacker rates better. Unknown job 404; a metric the job did not
    measure, the same metric twice, ``pairs`` < 1 or a negative tolerance 422."""
    job = jobs.get_job(session, job_id)
    if defender == attacker:
        raise Invalid("defender and attacker must be different metrics")
    _check_metric(job, defender, "defender")
    attacker_higher = _check_metric(job, attacker, "attacker")
    if pairs < 1:
        raise Invalid("pairs must be at least 1")
    if tolerance is not None and tolerance < 0:
        raise Invalid("tolerance must not be negative")
    items = [
        GmadItem(
            result_id=r.id,
            image=str(r.image_id),
            codec=r.codec,
            rate_point=r.rate_point,
            bpp=r.bpp,
            defender=r.metrics.get(defender),
            attacker=r.metrics.get(attacker),
        )
        for r in session.scalars(select(Result).where(Result.job_id == job_id).order_by(Result.id))
    ]
    found = gmad_pairs(items, pairs=pairs, tolerance=tolerance, attacker_higher_is_better=attacker_higher)
    return [p.to_dict() for p in found]


def create_study(
    session: Session,
    storage,
    job_id: int,
    *,
    metrics: list[str] | None,
    defender: str | None,
    attacker: str | None,
    pairs: int,
    name: str | None,
    trials_per_session: int | None,
    crop: int | None,
    min_viewing_ms: int | None,
    tolerance: float | None = None,
) -> tuple[GmadStudy, int]:
    """A pairwise study over the results in the gMAD pairs of every ordered pair of ``metrics`` (or of
    ``defender``/``attacker``); returns the link row and how many gMAD pairs it holds. 422 when no pair is found."""
    if metrics:
        combos = list(permutations(dict.fromkeys(metrics), 2))
    elif defender and attacker:
        combos = [(defender, attacker)]
    else:
        raise Invalid("give metrics (two or more) or a defender and an attacker")
    stored: list[dict] = []
    for d, a in combos:
        for p in pairs_for_job(session, job_id, d, a, pairs, tolerance):
            stored.append(
                {
                    "defender": d,
                    "attacker": a,
                    "image": p["image"],
                    "a_result_id": p["a"]["result_id"],
                    "b_result_id": p["b"]["result_id"],
                    "defender_gap": p["defender_gap"],
                    "attacker_gap": p["attacker_gap"],
                }
            )
    if not stored:
        raise Invalid("no gMAD pair found (too few results per image with both metrics' values)")
    result_ids = sorted({p[k] for p in stored for k in ("a_result_id", "b_result_id")})
    settings = get_settings()
    label = " vs ".join(dict.fromkeys(m for c in combos for m in c))
    spec = studies.StudySpec(
        name=name or f"gMAD {label} (job {job_id})",
        method="pairwise",
        job_id=job_id,
        result_ids=result_ids,
        trials_per_session=trials_per_session or settings.study_trials_per_session,
        sampling="balanced",
        crop=crop,
        min_viewing_ms=settings.study_min_viewing_ms if min_viewing_ms is None else min_viewing_ms,
    )
    study = studies.create_study(session, storage, spec)
    link = GmadStudy(study_id=study.id, job_id=job_id, pairs=stored)
    session.add(link)
    session.flush()
    return link, len(stored)


def gmad_study(session: Session, study_id: int) -> GmadStudy | None:
    return session.scalar(select(GmadStudy).where(GmadStudy.study_id == study_id))


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def study_summary(session: Session, study_id: int) -> dict:
    """Per gMAD pair: how people chose between ``a`` (the attacker's choice) and ``b``; then each
    metric's aggressiveness and resistance. 404 when the study was not made from gMAD pairs."""
    study = studies.get_study(session, study_id)
    link = gmad_study(session, study_id)
    if link is None:
        raise NotFound(f"study {study_id} was not made from gMAD pairs")
    condition_of = {c.result_id: c.id for c in study.conditions if c.result_id is not None}
    direct: dict[frozenset, list[tuple[int, int]]] = {}
    for t in session.scalars(
        select(StudyTrial).where(
            StudyTrial.study_id == study_id, StudyTrial.answered_at.is_not(None), StudyTrial.condition_b_id.is_not(None)
        )
    ):
        if t.condition_b_id is None or t.condition_a_id == t.condition_b_id or t.choice not in ("a", "b"):
            continue  # (condition_b_id is never None here: the query selects two-sided trials)
        chosen = t.condition_a_id if t.choice == "a" else t.condition_b_id
        direct.setdefault(frozenset((t.condition_a_id, t.condition_b_id)), []).append((chosen, 1))
    computed = studies.study_scale(session, study_id)
    assert computed is not None  # a gMAD study is native and pairwise: its scale is computed in the request
    scale = {c["condition_id"]: c["score"] for c in computed["conditions"]}
    rows, judgements = [], []
    for p in link.pairs:
        ca, cb = condition_of.get(p["a_result_id"]), condition_of.get(p["b_result_id"])
        votes = direct.get(frozenset((ca, cb)), [])
        share, basis = None, None
        if votes:
            share, basis = sum(1 for chosen, _ in votes if chosen == ca) / len(votes), "comparisons"
        elif scale.get(ca) is not None and scale.get(cb) is not None:
            share, basis = _phi((scale[ca] - scale[cb]) / JOD_SIGMA), "scale"
        rows.append({**p, "prefers_attacker_choice": share, "basis": basis, "n_comparisons": len(votes)})
        if share is not None:
            judgements.append(
                GmadJudgement(defender=p["defender"], attacker=p["attacker"], prefers_attacker_choice=share)
            )
    return {
        "study_id": study_id,
        "job_id": link.job_id,
        "pairs": rows,
        "summary": [s.to_dict() for s in gmad_summary(judgements)] if judgements else [],
    }
