"""Human studies on a finished job's reconstructions: create, sessions, trials, answers, scale, CSV.

Conditions are result rows plus one hidden reference (the original) per source image, each cropped to one
region per image and stored once. A session's plan fixes at its start which positions are credibility
controls: hidden traps (pairwise: the reference against the image's lowest-rate condition, the expected
answer is the reference; DSIS: the hidden reference as the test image, expected 4 or 5), identical pairs
(pairwise) and one earlier trial repeated with sides swapped. Everything else is drawn by the study's
sampling (``analysis.subjective``: balanced or active, ASAP). The scale is cached on the study and
recomputed only when answers arrived since (``answers_version``).
"""
from __future__ import annotations

import csv
import hashlib
import io
import secrets
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analysis.subjective import (Comparison, Rating, active_next_pair, balanced_next_pair, scale_pairwise,
                                 scale_ratings, trap_failures)
from app.db.tables import Image, Job, Result, Study, StudyCondition, StudySession, StudyTrial
from app.services import crops
from app.services.errors import Invalid, NotFound, ServiceError
from app.services.storage import BlobStorage, image_key
from app.settings import get_settings

METHODS = ("pairwise", "dsis")
SAMPLINGS = ("balanced", "active")
REFERENCE = "reference"
TRIAL_IMAGES = ("a", "b", "reference")
DSIS_TRAP_PASS = 4  # hidden reference rated at least "perceptible but not annoying"


class Conflict(ServiceError):
    status_code = 409


class Forbidden(ServiceError):
    status_code = 403


@dataclass(frozen=True)
class StudySpec:
    """A validated ``POST /api/v1/studies`` body."""

    name: str
    method: str
    job_id: int
    result_ids: list[int] | None
    trials_per_session: int
    sampling: str
    crop: int | None
    min_viewing_ms: int


def _now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- studies


def create_study(session: Session, storage: BlobStorage, spec: StudySpec) -> Study:
    """Validate the selection, then store the study, its conditions and their crops (PNG, once each).

    Unknown job -> 404; job not succeeded -> 409; results of another job or fewer than 2 conditions per
    image -> 422; nothing is stored in those cases.
    """
    if spec.method not in METHODS:
        raise Invalid(f"method must be one of {', '.join(METHODS)}")
    if spec.sampling not in SAMPLINGS:
        raise Invalid(f"sampling must be one of {', '.join(SAMPLINGS)}")
    job = session.get(Job, spec.job_id)
    if job is None:
        raise NotFound(f"job {spec.job_id} does not exist")
    if job.status != "succeeded":
        raise Conflict(f"job {job.id} is {job.status}; a study needs a succeeded job")
    results = _selected_results(session, job.id, spec.result_ids)
    by_image: dict[int, list[Result]] = defaultdict(list)
    for r in results:
        by_image[r.image_id].append(r)
    if not by_image:
        raise Invalid("a study needs at least 2 conditions per image (the reference and one result); "
                      "no results were selected")
    for image_id, rows in by_image.items():
        if len(rows) + 1 < 2:  # pragma: no cover - one result plus the reference always makes 2
            raise Invalid(f"image {image_id} has fewer than 2 conditions")
    images = {im.id: im for im in session.scalars(select(Image).where(Image.id.in_(by_image)))}

    # Read and crop every stimulus before anything is stored, so a bad file stores nothing.
    stimuli: list[tuple[dict, np.ndarray]] = []
    for image_id in sorted(by_image):
        image = images[image_id]
        reference = crops.decode_png(storage.get(image_key(image.content_hash)))
        box = crops.detailed_region(reference, spec.crop)
        stimuli.append(({"result_id": None, "image_id": image_id, "codec": REFERENCE, "rate_point": None,
                         "bpp": None, "crop_box": list(box)}, crops.cut(reference, box)))
        for r in sorted(by_image[image_id], key=lambda r: (r.codec, r.rate_point)):
            pixels = crops.decode_png(storage.get(r.reconstruction_path))
            if pixels.shape != reference.shape:
                raise Invalid(f"result {r.id}: reconstruction is {pixels.shape[1]}x{pixels.shape[0]}, "
                              f"the original {reference.shape[1]}x{reference.shape[0]}")
            stimuli.append(({"result_id": r.id, "image_id": image_id, "codec": r.codec,
                             "rate_point": r.rate_point, "bpp": r.bpp, "crop_box": list(box)},
                            crops.cut(pixels, box)))

    study = Study(name=spec.name, method=spec.method, sampling=spec.sampling, job_id=job.id, crop=spec.crop,
                  trials_per_session=spec.trials_per_session, min_viewing_ms=spec.min_viewing_ms,
                  token=secrets.token_urlsafe(32), status="open", answers_version=0, scale_version=-1)
    session.add(study)
    session.flush()
    for fields, pixels in stimuli:
        condition = StudyCondition(study_id=study.id, image_key="", **fields)
        session.add(condition)
        session.flush()
        condition.image_key = f"studies/{study.id}/conditions/{condition.id}.png"
        png = crops.encode_png(pixels)
        condition.image_sha256 = hashlib.sha256(png).hexdigest()
        storage.put(condition.image_key, png)
    session.flush()
    session.refresh(study)
    return study


def _selected_results(session: Session, job_id: int, result_ids: list[int] | None) -> list[Result]:
    if result_ids is None:
        return list(session.scalars(select(Result).where(Result.job_id == job_id)))
    wanted = sorted(set(result_ids))
    found = {r.id: r for r in session.scalars(select(Result).where(Result.id.in_(wanted)))} if wanted else {}
    unknown = [i for i in wanted if i not in found]
    if unknown:
        raise Invalid(f"results {', '.join(map(str, unknown))} do not exist")
    foreign = [i for i in wanted if found[i].job_id != job_id]
    if foreign:
        raise Invalid(f"results {', '.join(map(str, foreign))} are not results of job {job_id}")
    return [found[i] for i in wanted]


def list_studies(session: Session) -> list[Study]:
    return list(session.scalars(select(Study).order_by(Study.id.desc())))


def get_study(session: Session, study_id: int) -> Study:
    study = session.get(Study, study_id)
    if study is None:
        raise NotFound(f"study {study_id} does not exist")
    return study


def close_study(session: Session, study_id: int) -> Study:
    """Stop serving trials; stored answers and the scale stay."""
    study = get_study(session, study_id)
    if study.status != "closed":
        study.status = "closed"
        study.closed_at = _now()
    return study


def participant_path(study: Study) -> str:
    return f"/studies/{study.id}/take?token={study.token}"


def condition_json(c: StudyCondition) -> dict:
    return {"id": c.id, "result_id": c.result_id, "image_id": c.image_id, "codec": c.codec,
            "rate_point": c.rate_point, "bpp": c.bpp, "crop_box": c.crop_box}


def study_json(study: Study, base_url: str = "", with_token: bool = True) -> dict:
    """The study as the API shows it; ``with_token`` False hides the participant link's secret."""
    return {"id": study.id, "name": study.name, "method": study.method, "sampling": study.sampling,
            "status": study.status, "job_id": study.job_id, "crop": study.crop,
            "trials_per_session": study.trials_per_session, "min_viewing_ms": study.min_viewing_ms,
            "token": study.token if with_token else None,
            "participant_url": base_url.rstrip("/") + participant_path(study) if with_token else None,
            "created_at": study.created_at.isoformat() if study.created_at else None,
            "closed_at": study.closed_at.isoformat() if study.closed_at else None,
            "conditions": [condition_json(c) for c in study.conditions]}


def progress(session: Session, study: Study) -> dict:
    """Sessions started and complete, trials answered, and answered trials per condition."""
    sessions = session.scalar(select(func.count()).select_from(StudySession)
                              .where(StudySession.study_id == study.id)) or 0
    complete = session.scalar(select(func.count()).select_from(StudySession).where(
        StudySession.study_id == study.id, StudySession.finished_at.is_not(None))) or 0
    answered = list(session.execute(select(StudyTrial.condition_a_id, StudyTrial.condition_b_id).where(
        StudyTrial.study_id == study.id, StudyTrial.answered_at.is_not(None))))
    per_condition: Counter[int] = Counter()
    for a, b in answered:
        per_condition[a] += 1
        if b is not None and b != a:
            per_condition[b] += 1
    return {"sessions": sessions, "sessions_complete": complete, "trials_answered": len(answered),
            "conditions": [{"condition_id": c.id, "trials": per_condition.get(c.id, 0)} for c in study.conditions]}


# ---------------------------------------------------------------- sessions and trials


def _plan(method: str, total: int, rng: np.random.Generator) -> list[str]:
    """Control kind per position: traps, one repeat, identical pairs; at most a third of the trials,
    never the first (the repeat needs an earlier answered trial, so it goes in the second half)."""
    settings = get_settings()
    traps = settings.study_trap_trials
    identical = settings.study_identical_trials if method == "pairwise" else 0
    priority = (["trap"] if traps else []) + ["repeat"] + (["identical"] if identical else [])
    priority += ["trap"] * max(0, traps - 1) + ["identical"] * max(0, identical - 1)
    controls = priority[:total // 3]
    plan = ["regular"] * total
    free = list(range(1, total))
    if "repeat" in controls:
        late = [p for p in free if p >= total // 2] or free
        slot = int(rng.choice(late))
        plan[slot] = "repeat"
        free.remove(slot)
        controls.remove("repeat")
    for kind, slot in zip(controls, rng.permutation(free)):
        plan[int(slot)] = kind
    return plan


def start_session(session: Session, study_id: int, token: str, participant: str | None,
                  display: dict | None) -> StudySession:
    """A new observer session; the study's token is the only credential (wrong token -> 403)."""
    study = get_study(session, study_id)
    if not secrets.compare_digest(str(token).encode(), study.token.encode()):
        raise Forbidden("wrong study token")
    if study.status != "open":
        raise Conflict(f"study {study.id} is closed")
    seed = secrets.randbits(31)
    sitting = StudySession(id=secrets.token_urlsafe(24), study_id=study.id, participant=participant,
                           display=display, seed=seed,
                           plan=_plan(study.method, study.trials_per_session, np.random.default_rng(seed)))
    session.add(sitting)
    session.flush()
    return sitting


def get_session(session: Session, study: Study, session_id: str) -> StudySession:
    sitting = session.get(StudySession, session_id)
    if sitting is None or sitting.study_id != study.id:
        raise NotFound(f"study {study.id} has no session {session_id!r}")
    return sitting


def _pending(session: Session, sitting: StudySession) -> StudyTrial | None:
    return session.scalar(select(StudyTrial).where(StudyTrial.session_id == sitting.id,
                                                   StudyTrial.answered_at.is_(None))
                          .order_by(StudyTrial.position).limit(1))


def next_trial(session: Session, study_id: int, session_id: str) -> StudyTrial | None:
    """The session's unanswered trial (the same one until answered), else a new one; None when the session
    is complete or the study closed (HTTP 204)."""
    study = get_study(session, study_id)
    sitting = get_session(session, study, session_id)
    if study.status != "open":
        return None
    pending = _pending(session, sitting)
    if pending is not None:
        return pending
    served = session.scalar(select(func.count()).select_from(StudyTrial)
                            .where(StudyTrial.session_id == sitting.id)) or 0
    if served >= len(sitting.plan):
        if sitting.finished_at is None:
            sitting.finished_at = _now()
        return None
    trial = _draw(session, study, sitting, served + 1)
    session.add(trial)
    try:
        session.flush()
    except IntegrityError:  # a concurrent request served this position first: return that trial
        session.rollback()
        return _pending(session, sitting)
    return trial


def _draw(session: Session, study: Study, sitting: StudySession, position: int) -> StudyTrial:
    rng = np.random.default_rng([sitting.seed, position])
    control = sitting.plan[position - 1]
    by_image: dict[int, list[StudyCondition]] = defaultdict(list)
    for c in study.conditions:
        by_image[c.image_id].append(c)
    kind = study.method

    def trial(image_id: int, a: int, b: int | None, control: str, repeat_of: int | None = None) -> StudyTrial:
        return StudyTrial(study_id=study.id, session_id=sitting.id, position=position, kind=kind,
                          control=control, image_id=image_id, condition_a_id=a, condition_b_id=b,
                          repeat_of_trial_id=repeat_of, served_at=_now())

    if control == "repeat":
        earlier = list(session.scalars(select(StudyTrial).where(
            StudyTrial.session_id == sitting.id, StudyTrial.control == "regular",
            StudyTrial.answered_at.is_not(None)).order_by(StudyTrial.position)))
        if earlier:
            original = earlier[int(rng.integers(len(earlier)))]
            if kind == "pairwise":
                return trial(original.image_id, original.condition_b_id, original.condition_a_id, "repeat",
                             original.id)
            return trial(original.image_id, original.condition_a_id, None, "repeat", original.id)
        control = "regular"
    if control in ("trap", "identical"):
        image_id = int(rng.choice(sorted(by_image)))
        conditions = by_image[image_id]
        reference = next(c for c in conditions if c.result_id is None)
        distorted = [c for c in conditions if c.result_id is not None]
        if control == "identical":
            same = distorted[int(rng.integers(len(distorted)))]
            return trial(image_id, same.id, same.id, "identical")
        if kind == "dsis":
            return trial(image_id, reference.id, None, "trap")
        lowest = min(distorted, key=lambda c: (c.bpp if c.bpp is not None else 0.0, c.rate_point or 0.0, c.id))
        pair = [reference.id, lowest.id]
        if rng.random() < 0.5:
            pair.reverse()
        return trial(image_id, pair[0], pair[1], "trap")
    if kind == "dsis":
        return _draw_rating(session, study, rng, trial)
    return _draw_pair(session, study, by_image, rng, trial)


def _draw_rating(session: Session, study: Study, rng: np.random.Generator, trial) -> StudyTrial:
    """DSIS: a least-rated condition of the study (ties at random); both samplings, as a rating trial
    carries no pair for ASAP's information gain."""
    counts = Counter(session.scalars(select(StudyTrial.condition_a_id).where(
        StudyTrial.study_id == study.id, StudyTrial.control == "regular")))
    fewest = min(counts.get(c.id, 0) for c in study.conditions)
    candidates = [c for c in study.conditions if counts.get(c.id, 0) == fewest]
    chosen = candidates[int(rng.integers(len(candidates)))]
    return trial(chosen.image_id, chosen.id, None, "regular")


def _draw_pair(session: Session, study: Study, by_image: dict[int, list[StudyCondition]],
               rng: np.random.Generator, trial) -> StudyTrial:
    """Pairwise: the least-compared image, then a pair of its conditions by the study's sampling."""
    rows = list(session.execute(select(StudyTrial.image_id, StudyTrial.condition_a_id, StudyTrial.condition_b_id,
                                       StudyTrial.choice, StudyTrial.session_id, StudyTrial.control)
                                .where(StudyTrial.study_id == study.id)))
    per_image = Counter(r.image_id for r in rows if r.condition_a_id != r.condition_b_id)
    fewest = min(per_image.get(i, 0) for i in by_image)
    candidates = sorted(i for i in by_image if per_image.get(i, 0) == fewest)
    image_id = candidates[int(rng.integers(len(candidates)))]
    conditions = [str(c.id) for c in by_image[image_id]]
    image_rows = [r for r in rows if r.image_id == image_id and r.condition_a_id != r.condition_b_id]
    if study.sampling == "active":
        reference = next(c for c in by_image[image_id] if c.result_id is None)
        comparisons = [Comparison(observer=r.session_id, scene=str(image_id), a=str(r.condition_a_id),
                                  b=str(r.condition_b_id), a_selected=r.choice == "a")
                       for r in image_rows if r.choice is not None]
        a, b = active_next_pair(conditions, comparisons, rng, references={str(image_id): str(reference.id)})
    else:
        counts: Counter[frozenset] = Counter(frozenset((str(r.condition_a_id), str(r.condition_b_id)))
                                             for r in image_rows)
        a, b = balanced_next_pair(conditions, dict(counts), rng)
    return trial(image_id, int(a), int(b), "regular")


def _trial_url(study_id: int, session_id: str, trial_id: int, which: str) -> str:
    return f"/api/v1/studies/{study_id}/sessions/{session_id}/trials/{trial_id}/{which}.png"


def trial_json(trial: StudyTrial, total: int) -> dict:
    """What the participant page needs; the control kind stays hidden."""
    url = lambda which: _trial_url(trial.study_id, trial.session_id, trial.id, which)  # noqa: E731
    body = {"trial_id": trial.id, "kind": trial.kind, "image_id": trial.image_id,
            "reference_url": url("reference"), "a": {"condition_id": trial.condition_a_id, "url": url("a")},
            "position": trial.position, "total": total}
    if trial.kind == "pairwise":
        body["b"] = {"condition_id": trial.condition_b_id, "url": url("b")}
    return body


def session_total(sitting: StudySession) -> int:
    return len(sitting.plan)


def record_response(session: Session, study_id: int, session_id: str, trial_id: int, choice: str | None,
                    score: int | None, response_ms: int | None) -> StudyTrial:
    """Store one answer. Closed study or a trial answered before -> 409; a trial of another session -> 404;
    a choice on a DSIS trial, a score on a pairwise trial or a missing answer -> 422."""
    study = get_study(session, study_id)
    sitting = get_session(session, study, session_id)
    if study.status != "open":
        raise Conflict(f"study {study.id} is closed; answers are no longer accepted")
    trial = session.get(StudyTrial, trial_id)
    if trial is None or trial.session_id != sitting.id:
        raise NotFound(f"trial {trial_id} is not a trial of this session")
    if trial.kind == "pairwise":
        if choice not in ("a", "b") or score is not None:
            raise Invalid("a pairwise trial is answered with \"choice\": \"a\" or \"b\" (and no score)")
    elif choice is not None or score is None or not 1 <= score <= 5:
        raise Invalid("a DSIS trial is answered with \"score\": an integer 1..5 (and no choice)")
    if response_ms is not None and response_ms < 0:
        raise Invalid("response_ms must be >= 0")
    stored = session.execute(update(StudyTrial).where(StudyTrial.id == trial.id, StudyTrial.answered_at.is_(None))
                             .values(choice=choice, score=score, response_ms=response_ms, answered_at=_now())
                             .execution_options(synchronize_session=False))
    if stored.rowcount != 1:
        raise Conflict(f"trial {trial.id} was already answered")
    session.execute(update(Study).where(Study.id == study.id)
                    .values(answers_version=Study.answers_version + 1)
                    .execution_options(synchronize_session=False))
    if trial.position >= session_total(sitting):
        sitting.finished_at = _now()
    session.refresh(trial)
    return trial


def trial_image(session: Session, storage: BlobStorage, study_id: int, session_id: str, trial_id: int,
                which: str) -> bytes:
    """PNG of a trial's ``a``, ``b`` or ``reference`` stimulus, authorised by the session id."""
    study = get_study(session, study_id)
    sitting = get_session(session, study, session_id)
    trial = session.get(StudyTrial, trial_id)
    if trial is None or trial.session_id != sitting.id:
        raise NotFound(f"trial {trial_id} is not a trial of this session")
    if which not in TRIAL_IMAGES or (which == "b" and trial.condition_b_id is None):
        raise NotFound(f"trial {trial_id} has no image {which!r}")
    if which == "reference":
        condition = session.scalar(select(StudyCondition).where(StudyCondition.study_id == study.id,
                                                                StudyCondition.image_id == trial.image_id,
                                                                StudyCondition.result_id.is_(None)))
    else:
        condition = session.get(StudyCondition, trial.condition_a_id if which == "a" else trial.condition_b_id)
    return storage.get(condition.image_key)


# ---------------------------------------------------------------- scale and export


def _answered(session: Session, study_id: int) -> list[StudyTrial]:
    return list(session.scalars(select(StudyTrial).where(StudyTrial.study_id == study_id,
                                                         StudyTrial.answered_at.is_not(None))
                                .order_by(StudyTrial.session_id, StudyTrial.position)))


def _trap_passed(trial: StudyTrial, references: set[int]) -> bool:
    if trial.kind == "pairwise":
        chosen = trial.condition_a_id if trial.choice == "a" else trial.condition_b_id
        return chosen in references
    return (trial.score or 0) >= DSIS_TRAP_PASS


def compute_scale(study: Study, trials: list[StudyTrial]) -> dict:
    """The study's scale from its answered trials (pure computation, no caching)."""
    references = {c.id for c in study.conditions if c.result_id is None}
    trap_results: dict[str, list[bool]] = defaultdict(list)
    for t in trials:
        if t.control == "trap":
            trap_results[t.session_id].append(_trap_passed(t, references))
    flagged = trap_failures(dict(trap_results)) if trap_results else {}
    kept = [t for t in trials if t.session_id not in flagged]
    warnings: list[str] = []
    if study.method == "pairwise":
        comparisons = [Comparison(observer=t.session_id, scene=str(t.image_id), a=str(t.condition_a_id),
                                  b=str(t.condition_b_id), a_selected=t.choice == "a")
                       for t in kept if t.condition_a_id != t.condition_b_id]
        scene_reference = {str(c.image_id): str(c.id) for c in study.conditions if c.result_id is None}
        scale = (scale_pairwise(comparisons, references=scene_reference, n_bootstrap=get_settings().study_bootstrap,
                                seed=study.id, exclude_outliers=True) if comparisons else None)
        unit = "JOD"
    else:
        ratings = [Rating(observer=t.session_id, scene=str(t.image_id), condition=str(t.condition_a_id),
                          score=float(t.score)) for t in kept]
        scale = scale_ratings(ratings, exclude_outliers=True) if ratings else None
        unit = "MOS"
    scores = {s.condition: s for s in scale.conditions} if scale else {}
    if scale:
        warnings.extend(scale.warnings)
    conditions = []
    for c in study.conditions:
        s = scores.get(str(c.id))
        conditions.append({"condition_id": c.id, "result_id": c.result_id, "image_id": c.image_id,
                           "codec": c.codec, "rate_point": c.rate_point, "bpp": c.bpp,
                           "score": s.score if s else None, "ci_low": s.ci_low if s else None,
                           "ci_high": s.ci_high if s else None, "n": s.n if s else 0})
    reports = {o.observer: o for o in scale.observers} if scale else {}
    trials_per_session = Counter(t.session_id for t in trials)
    observers = []
    for session_id in sorted(trials_per_session):
        report = reports.get(session_id)
        reasons = [r for r in (flagged.get(session_id), report.reason if report and report.outlier else None) if r]
        observers.append({"session_id": session_id, "trials": trials_per_session[session_id],
                          "outlier": bool(reasons), "reason": "; ".join(reasons) or None,
                          "excluded": session_id in flagged or bool(report and report.outlier)})
    if flagged:
        warnings.append(f"{len(flagged)} observer(s) failed trap trials and are kept out of the scale")
    return {"study_id": study.id, "method": study.method, "unit": unit, "conditions": conditions,
            "observers": observers, "warnings": warnings, "trials": len(trials)}


_scale_locks: dict[int, threading.Lock] = {}


def study_scale(session: Session, study_id: int) -> dict:
    """The cached scale, recomputed only when answers arrived since it was computed. Concurrent requests
    in one process wait for one computation instead of repeating it (the bootstrap is the costly part)."""
    study = get_study(session, study_id)
    if study.scale_cache is not None and study.scale_version == study.answers_version:
        return study.scale_cache
    with _scale_locks.setdefault(study_id, threading.Lock()):
        session.expire(study)
        session.commit()  # end the read transaction, so the cache written by a concurrent request is visible
        study = get_study(session, study_id)
        version = study.answers_version
        if study.scale_cache is not None and study.scale_version == version:
            return study.scale_cache
        result = compute_scale(study, _answered(session, study.id))
        result["answers_version"] = version
        result["computed_at"] = _now().isoformat()
        session.execute(update(Study).where(Study.id == study.id, Study.answers_version == version)
                        .values(scale_cache=result, scale_version=version)
                        .execution_options(synchronize_session=False))
        session.commit()
    return result


CSV_COLUMNS = ["observer", "session", "scene", "condition_A", "condition_B", "is_A_selected",
               "trial_id", "position", "kind", "control", "repeat_of_trial_id", "choice", "score", "response_ms",
               "served_at", "answered_at", "codec_A", "rate_point_A", "bpp_A", "codec_B", "rate_point_B", "bpp_B",
               "window_width", "window_height", "device_pixel_ratio"]


def response_rows(session: Session, study_id: int) -> list[dict]:
    """Answered trials, one row each, in pwcmp's column layout (observer, session, scene, condition_A,
    condition_B, is_A_selected) plus the logged extras. Identical-pair, trap and repeated trials are
    marked in ``control``; DSIS rows leave condition_B and is_A_selected empty and fill ``score``."""
    study = get_study(session, study_id)
    conditions = {c.id: c for c in study.conditions}
    sittings = {s.id: s for s in session.scalars(select(StudySession).where(StudySession.study_id == study.id))}
    rows = []
    for t in _answered(session, study.id):
        sitting = sittings[t.session_id]
        display = sitting.display or {}
        a, b = conditions[t.condition_a_id], conditions.get(t.condition_b_id)
        rows.append({
            "observer": sitting.participant or t.session_id, "session": t.session_id, "scene": t.image_id,
            "condition_A": t.condition_a_id, "condition_B": None if b is None else b.id,
            "is_A_selected": None if t.choice is None else int(t.choice == "a"),
            "trial_id": t.id, "position": t.position, "kind": t.kind, "control": t.control,
            "repeat_of_trial_id": t.repeat_of_trial_id, "choice": t.choice, "score": t.score,
            "response_ms": t.response_ms, "served_at": t.served_at.isoformat(),
            "answered_at": t.answered_at.isoformat(), "codec_A": a.codec, "rate_point_A": a.rate_point,
            "bpp_A": a.bpp, "codec_B": None if b is None else b.codec,
            "rate_point_B": None if b is None else b.rate_point, "bpp_B": None if b is None else b.bpp,
            "window_width": display.get("width"), "window_height": display.get("height"),
            "device_pixel_ratio": display.get("device_pixel_ratio")})
    return rows


def responses_csv(rows: list[dict]) -> str:
    """``response_rows`` as CSV with the header ``CSV_COLUMNS`` (empty cell = not applicable)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_blank(row[k]) for k in CSV_COLUMNS])
    return buffer.getvalue()


def _blank(value) -> object:
    return "" if value is None else value
