"""Human studies on a finished job's reconstructions: create, sessions, trials, answers, scale, CSV.

Conditions are result rows plus one hidden reference (the original) per source image, each cropped to one
region per image and stored once. The study's method (``analysis.subjective.methods``: pairwise, dsis,
triplet, registered in one place) draws the trials, checks the answers and scales them; this module keeps
the database side. A session's plan fixes at its start which positions are credibility controls: hidden
traps, same-stimulus trials (pairwise ``identical``, triplet ``bias``) and one earlier trial repeated with
sides swapped. The scale is cached on the study and recomputed only when answers arrived since
(``answers_version``); imported and triplet scales are computed by a worker (``request_scale``). Imported
studies (``app.services.studies.study_imports``) are read-only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

import numpy as np
from sqlalchemy import CursorResult, Executable, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from analysis.subjective import trap_failures
from analysis.subjective.methods import Answer, InvalidAnswer, Stimulus, StudyMethod, Trial, get_method, method_names
from analysis.subjective.methods.triplet import BOOSTS
from app.db.tables import Image, Job, Result, Study, StudyAnswer, StudyCondition, StudySession, StudyTrial
from app.services.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated, Unavailable
from app.services.storage import BlobStorage, image_key
from app.services.studies import crops
from app.settings import get_settings

METHODS = tuple(method_names())
SAMPLINGS = ("balanced", "active")
REFERENCE = "reference"
SCALE_TASK = "licbench.compute_study_scale"  # the name workers/analysis_tasks.py registers
SCALE_RESEND_AFTER = timedelta(minutes=10)  # a scale request no worker answered in this time is sent again
TRIAL_IMAGES = {"a": "a", "b": "b", "reference": "reference", "left": "a", "right": "b", "pivot": "reference"}


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
    boost: list[str] | None = None


def method_of(study: Study) -> StudyMethod:
    """The study's method plugin (``analysis.subjective.methods``)."""
    return get_method(study.method)


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- studies


def create_study(session: Session, storage: BlobStorage, spec: StudySpec) -> Study:
    """Validate the selection, then store the study, its conditions and their crops (PNG, once each).

    Unknown job -> 404; job not succeeded -> 409; results of another job or fewer than 2 conditions per
    image -> 422; nothing is stored in those cases.
    """
    if spec.method not in METHODS:
        raise Invalid(f"method must be one of {', '.join(METHODS)}")
    boost = sorted(set(spec.boost or []), key=BOOSTS.index) if all(b in BOOSTS for b in spec.boost or []) else None
    if boost is None:
        raise Invalid(f"boost takes any of {', '.join(BOOSTS)}")
    if boost and spec.method != "triplet":
        raise Invalid("boost applies to triplet studies only")
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
        raise Invalid(
            "a study needs at least 2 conditions per image (the reference and one result); no results were selected"
        )
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
        stimuli.append(
            (
                {
                    "result_id": None,
                    "image_id": image_id,
                    "codec": REFERENCE,
                    "rate_point": None,
                    "bpp": None,
                    "crop_box": list(box),
                },
                crops.cut(reference, box),
            )
        )
        for r in sorted(by_image[image_id], key=lambda r: (r.codec, r.rate_point)):
            pixels = crops.decode_png(storage.get(r.reconstruction_path))
            if pixels.shape != reference.shape:
                raise Invalid(
                    f"result {r.id}: reconstruction is {pixels.shape[1]}x{pixels.shape[0]}, "
                    f"the original {reference.shape[1]}x{reference.shape[0]}"
                )
            stimuli.append(
                (
                    {
                        "result_id": r.id,
                        "image_id": image_id,
                        "codec": r.codec,
                        "rate_point": r.rate_point,
                        "bpp": r.bpp,
                        "crop_box": list(box),
                    },
                    crops.cut(pixels, box),
                )
            )

    study = Study(
        name=spec.name,
        method=spec.method,
        sampling=spec.sampling,
        job_id=job.id,
        crop=spec.crop,
        boost=boost if spec.method == "triplet" else None,
        trials_per_session=spec.trials_per_session,
        min_viewing_ms=spec.min_viewing_ms,
        token=secrets.token_urlsafe(32),
        status="open",
        answers_version=0,
        scale_version=-1,
    )
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
    require_writable(study)
    if study.status != "closed":
        study.status = "closed"
        study.closed_at = _now()
    return study


def study_owner_id(session: Session, study: Study) -> int | None:
    """An imported study's owner, else its job's owner."""
    if study.imported:
        return study.owner_id
    job = session.get(Job, study.job_id)
    return job.owner_id if job else None


def study_job(session: Session, study: Study) -> Job:
    """The job a native study judges. A job cannot be deleted while a study uses it
    (``deletion._check_deletable``), so a missing row is an imported study or a damaged database."""
    job = session.get(Job, study.job_id) if study.job_id is not None else None
    if job is None:
        raise NotFound(f"study {study.id} has no job (an imported study links no job)")
    return job


def _rows_changed(session: Session, statement: Executable) -> int:
    """How many rows an UPDATE changed (SQLAlchemy types ``execute`` as a plain ``Result``)."""
    return cast(CursorResult, session.execute(statement)).rowcount


def can_view(session: Session, user, study: Study) -> bool:
    """Imported studies: public ones for everyone, private ones for their owner and admins (as image sets);
    native studies: where their job is."""
    from app.services.accounts import auth

    if study.imported:
        return study.visibility == "public" or auth.is_admin(user) or (user is not None and study.owner_id == user.id)
    return auth.can_view_image_set(user, study_job(session, study).image_set)


def require_view(session: Session, user, study: Study) -> None:
    """401 for anonymous visitors and 403 for other users where the study is not visible to them."""
    from app.services.accounts import auth

    if not study.imported:
        auth.require_view_job(user, study_job(session, study))
    elif not can_view(session, user, study):
        if user is None:
            raise Unauthenticated(f"study {study.id} is private: log in to see it")
        raise Forbidden(f"study {study.id} is private to its owner")


def require_writable(study: Study) -> None:
    """Imported studies are read-only: no sessions, no answers, no closing (409)."""
    if study.imported:
        raise Conflict(f"study {study.id} is imported and read-only")


def participant_path(study: Study) -> str:
    return f"/studies/{study.id}/take?token={study.token}"


def is_reference(c: StudyCondition) -> bool:
    """The group's anchor: a native study's hidden original, or the reference an import named."""
    return bool(c.is_reference) if c.is_reference is not None else c.result_id is None


def condition_group(c: StudyCondition) -> str:
    """A native condition's group is its source image id; an imported one's is its scene / source."""
    return c.group_name if c.group_name is not None else str(c.image_id)


def condition_label(c: StudyCondition) -> str:
    """``<codec> @ <rate_point>`` or ``reference`` for native conditions; the imported label otherwise."""
    if c.label is not None:
        return c.label
    if c.result_id is None:
        return REFERENCE
    return f"{c.codec} @ {c.rate_point:g}" if c.rate_point is not None else str(c.codec)


def condition_json(c: StudyCondition) -> dict:
    return {
        "id": c.id,
        "result_id": c.result_id,
        "image_id": c.image_id,
        "codec": c.codec,
        "rate_point": c.rate_point,
        "bpp": c.bpp,
        "crop_box": c.crop_box,
        "label": condition_label(c),
        "group": condition_group(c),
        "reference": is_reference(c),
    }


def study_json(study: Study, base_url: str = "", with_token: bool = True) -> dict:
    """The study as the API shows it; ``with_token`` False hides the participant link's secret."""
    return {
        "id": study.id,
        "name": study.name,
        "method": study.method,
        "sampling": study.sampling,
        "status": study.status,
        "job_id": study.job_id,
        "imported": bool(study.imported),
        "visibility": study.visibility,
        "boost": list(study.boost or []),
        "crop": study.crop,
        "trials_per_session": study.trials_per_session,
        "min_viewing_ms": study.min_viewing_ms,
        "token": study.token if with_token else None,
        "participant_url": base_url.rstrip("/") + participant_path(study) if with_token else None,
        "created_at": study.created_at.isoformat() if study.created_at else None,
        "closed_at": study.closed_at.isoformat() if study.closed_at else None,
        "conditions": [condition_json(c) for c in study.conditions],
    }


def progress(session: Session, study: Study) -> dict:
    """Sessions started and complete, trials answered, and answered trials per condition."""
    sessions = (
        session.scalar(select(func.count()).select_from(StudySession).where(StudySession.study_id == study.id)) or 0
    )
    complete = (
        session.scalar(
            select(func.count())
            .select_from(StudySession)
            .where(StudySession.study_id == study.id, StudySession.finished_at.is_not(None))
        )
        or 0
    )
    answered = list(
        session.execute(
            select(StudyTrial.condition_a_id, StudyTrial.condition_b_id).where(
                StudyTrial.study_id == study.id, StudyTrial.answered_at.is_not(None)
            )
        )
    )
    per_condition: Counter[int] = Counter()
    for a, b in answered:
        per_condition[a] += 1
        if b is not None and b != a:
            per_condition[b] += 1
    return {
        "sessions": sessions,
        "sessions_complete": complete,
        "trials_answered": len(answered),
        "conditions": [{"condition_id": c.id, "trials": per_condition.get(c.id, 0)} for c in study.conditions],
    }


# ---------------------------------------------------------------- sessions and trials


def _plan(method: str, total: int, rng: np.random.Generator) -> list[str]:
    """Control kind per position, as the method plans it from the configured trap and same-stimulus counts."""
    settings = get_settings()
    return get_method(method).plan(total, settings.study_trap_trials, settings.study_identical_trials, rng)


def start_session(
    session: Session, study_id: int, token: str, participant: str | None, display: dict | None
) -> StudySession:
    """A new observer session; the study's token is the only credential (wrong token -> 403)."""
    study = get_study(session, study_id)
    require_writable(study)
    if not secrets.compare_digest(str(token).encode(), study.token.encode()):
        raise Forbidden("wrong study token")
    if study.status != "open":
        raise Conflict(f"study {study.id} is closed")
    seed = secrets.randbits(31)
    sitting = StudySession(
        id=secrets.token_urlsafe(24),
        study_id=study.id,
        participant=participant,
        display=display,
        seed=seed,
        plan=_plan(study.method, study.trials_per_session, np.random.default_rng(seed)),
    )
    session.add(sitting)
    session.flush()
    return sitting


def get_session(session: Session, study: Study, session_id: str) -> StudySession:
    sitting = session.get(StudySession, session_id)
    if sitting is None or sitting.study_id != study.id:
        raise NotFound(f"study {study.id} has no session {session_id!r}")
    return sitting


def _pending(session: Session, sitting: StudySession) -> StudyTrial | None:
    return session.scalar(
        select(StudyTrial)
        .where(StudyTrial.session_id == sitting.id, StudyTrial.answered_at.is_(None))
        .order_by(StudyTrial.position)
        .limit(1)
    )


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
    served = (
        session.scalar(select(func.count()).select_from(StudyTrial).where(StudyTrial.session_id == sitting.id)) or 0
    )
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


def stimuli_by_group(study: Study) -> dict[str, list[Stimulus]]:
    """The study's conditions as the method sees them, per group, in condition id order; the trap's pick is
    the lowest-rate condition (smallest bpp, then rate point)."""
    groups: dict[str, list[Stimulus]] = defaultdict(list)
    for c in study.conditions:
        groups[str(c.image_id)].append(
            Stimulus(
                str(c.id),
                str(c.image_id),
                c.result_id is None,
                (c.bpp if c.bpp is not None else 0.0, c.rate_point or 0.0, c.id),
            )
        )
    return groups


def _draw(session: Session, study: Study, sitting: StudySession, position: int) -> StudyTrial:
    rng = np.random.default_rng([sitting.seed, position])
    control = sitting.plan[position - 1]
    method = method_of(study)

    def trial(drawn: Trial, repeat_of: int | None = None) -> StudyTrial:
        # A boosted study mixes boosted and plain regular trials half and half, so the scaler can estimate the
        # boosting gain (AIC-3 scales BTC and PTC answers jointly); controls are shown plain.
        boost = list(study.boost) if study.boost and drawn.control == "regular" and rng.random() < 0.5 else None
        return StudyTrial(
            study_id=study.id,
            session_id=sitting.id,
            position=position,
            kind=study.method,
            control=drawn.control,
            image_id=int(drawn.group),
            condition_a_id=int(drawn.a),
            condition_b_id=None if drawn.b is None else int(drawn.b),
            repeat_of_trial_id=repeat_of,
            boost=boost,
            served_at=_now(),
        )

    if control == "repeat":
        earlier = list(
            session.scalars(
                select(StudyTrial)
                .where(
                    StudyTrial.session_id == sitting.id,
                    StudyTrial.control == "regular",
                    StudyTrial.answered_at.is_not(None),
                )
                .order_by(StudyTrial.position)
            )
        )
        if earlier:
            original = earlier[int(rng.integers(len(earlier)))]
            return trial(method.repeat(_as_trial(original)), original.id)
        control = "regular"
    groups = stimuli_by_group(study)
    if control != "regular":
        return trial(method.draw_control(control, groups, rng))
    rows = session.execute(
        select(
            StudyTrial.image_id,
            StudyTrial.condition_a_id,
            StudyTrial.condition_b_id,
            StudyTrial.choice,
            StudyTrial.score,
            StudyTrial.session_id,
            StudyTrial.control,
        ).where(StudyTrial.study_id == study.id)
    )
    history = [
        Answer(
            observer=r.session_id,
            group=str(r.image_id),
            a=str(r.condition_a_id),
            b=None if r.condition_b_id is None else str(r.condition_b_id),
            control=r.control,
            choice=r.choice,
            score=r.score,
        )
        for r in rows
    ]
    return trial(method.draw_regular(groups, history, study.sampling, rng))


def _as_trial(t: StudyTrial) -> Trial:
    return Trial(
        str(t.image_id), str(t.condition_a_id), None if t.condition_b_id is None else str(t.condition_b_id), t.control
    )


def _as_answer(t: StudyTrial) -> Answer:
    return Answer(
        observer=t.session_id,
        group=str(t.image_id),
        a=str(t.condition_a_id),
        b=None if t.condition_b_id is None else str(t.condition_b_id),
        control=t.control,
        choice=t.choice,
        score=t.score,
        boosted=bool(t.boost),
    )


def _trial_url(study_id: int, session_id: str, trial_id: int, which: str) -> str:
    return f"/api/v1/studies/{study_id}/sessions/{session_id}/trials/{trial_id}/{which}.png"


def trial_json(trial: StudyTrial, total: int) -> dict:
    """What the participant page needs; the control kind stays hidden."""
    url = lambda which: _trial_url(trial.study_id, trial.session_id, trial.id, which)  # noqa: E731
    body = {
        "trial_id": trial.id,
        "kind": trial.kind,
        "image_id": trial.image_id,
        **get_method(trial.kind).trial_body(trial.condition_a_id, trial.condition_b_id, url),
    }
    if trial.kind == "triplet":
        body["boost"] = list(trial.boost or [])
    return {**body, "position": trial.position, "total": total}


def session_total(sitting: StudySession) -> int:
    return len(sitting.plan)


def record_response(
    session: Session,
    study_id: int,
    session_id: str,
    trial_id: int,
    choice: str | None,
    score: int | None,
    response_ms: int | None,
) -> StudyTrial:
    """Store one answer. Closed study or a trial answered before -> 409; a trial of another session -> 404;
    a choice on a DSIS trial, a score on a pairwise trial or a missing answer -> 422."""
    study = get_study(session, study_id)
    require_writable(study)
    sitting = get_session(session, study, session_id)
    if study.status != "open":
        raise Conflict(f"study {study.id} is closed; answers are no longer accepted")
    trial = session.get(StudyTrial, trial_id)
    if trial is None or trial.session_id != sitting.id:
        raise NotFound(f"trial {trial_id} is not a trial of this session")
    try:
        get_method(trial.kind).check_answer(choice, score)
    except InvalidAnswer as exc:
        raise Invalid(str(exc)) from None
    if response_ms is not None and response_ms < 0:
        raise Invalid("response_ms must be >= 0")
    stored = _rows_changed(
        session,
        update(StudyTrial)
        .where(StudyTrial.id == trial.id, StudyTrial.answered_at.is_(None))
        .values(choice=choice, score=score, response_ms=response_ms, answered_at=_now())
        .execution_options(synchronize_session=False),
    )
    if stored != 1:
        raise Conflict(f"trial {trial.id} was already answered")
    session.execute(
        update(Study)
        .where(Study.id == study.id)
        .values(answers_version=Study.answers_version + 1)
        .execution_options(synchronize_session=False)
    )
    if trial.position >= session_total(sitting):
        sitting.finished_at = _now()
    session.refresh(trial)
    return trial


def trial_image(
    session: Session, storage: BlobStorage, study_id: int, session_id: str, trial_id: int, which: str
) -> bytes:
    """PNG of a trial's ``a``, ``b`` or ``reference`` stimulus, authorised by the session id."""
    study = get_study(session, study_id)
    sitting = get_session(session, study, session_id)
    trial = session.get(StudyTrial, trial_id)
    if trial is None or trial.session_id != sitting.id:
        raise NotFound(f"trial {trial_id} is not a trial of this session")
    slot = TRIAL_IMAGES.get(which)
    if slot is None or (slot == "b" and trial.condition_b_id is None):
        raise NotFound(f"trial {trial_id} has no image {which!r}")
    which = slot
    if which == "reference":
        condition = session.scalar(
            select(StudyCondition).where(
                StudyCondition.study_id == study.id,
                StudyCondition.image_id == trial.image_id,
                StudyCondition.result_id.is_(None),
            )
        )
    else:
        condition = session.get(StudyCondition, trial.condition_a_id if which == "a" else trial.condition_b_id)
    if condition is None or condition.image_key is None:  # only imported studies' conditions lack a stored crop
        raise NotFound(f"trial {trial_id} has no stored image {which!r}")
    return storage.get(condition.image_key)


# ---------------------------------------------------------------- scale and export


def _answered(session: Session, study_id: int) -> list[StudyTrial]:
    return list(
        session.scalars(
            select(StudyTrial)
            .where(StudyTrial.study_id == study_id, StudyTrial.answered_at.is_not(None))
            .order_by(StudyTrial.session_id, StudyTrial.position)
        )
    )


def references_of(study: Study) -> dict[str, str]:
    """group -> its reference condition id (the hidden original, or an imported study's reference)."""
    return {condition_group(c): str(c.id) for c in study.conditions if is_reference(c)}


def compute_scale(study: Study, answers: list[Answer]) -> dict:
    """The study's scale from its answers (pure computation, no caching): observers failing trap trials are
    reported and left out, the rest go to the method's scaler."""
    method = method_of(study)
    references = references_of(study)
    reference_ids = set(references.values())
    trap_results: dict[str, list[bool]] = defaultdict(list)
    for a in answers:
        if a.control == "trap":
            trap_results[a.observer].append(method.trap_passed(a, reference_ids))
    flagged = trap_failures(dict(trap_results)) if trap_results and not method.screens_traps else {}
    kept = [a for a in answers if a.observer not in flagged]
    warnings: list[str] = []
    scale = method.scale(kept, references, bootstrap=get_settings().study_bootstrap, seed=study.id)
    scores = {s.condition: s for s in scale.conditions} if scale else {}
    if scale:
        warnings.extend(scale.warnings)
    conditions = []
    for c in study.conditions:
        s = scores.get(str(c.id))
        row = {
            "condition_id": c.id,
            "result_id": c.result_id,
            "image_id": c.image_id,
            "codec": c.codec,
            "rate_point": c.rate_point,
            "bpp": c.bpp,
            "label": condition_label(c),
            "group": condition_group(c),
            "reference": is_reference(c),
            "score": s.score if s else None,
            "ci_low": s.ci_low if s else None,
            "ci_high": s.ci_high if s else None,
            "n": s.n if s else 0,
            "effective_comparisons": getattr(s, "effective_comparisons", None) if s else None,
        }
        if method.unit == "JND":  # AIC's "distortion": higher is worse
            row["jnd"] = None if s is None else -s.score
        conditions.append(row)
    reports = {o.observer: o for o in scale.observers} if scale else {}
    trials_per_observer = Counter(a.observer for a in answers)
    observers = []
    for observer in sorted(trials_per_observer):
        report = reports.get(observer)
        reasons = [r for r in (flagged.get(observer), report.reason if report and report.outlier else None) if r]
        observers.append(
            {
                "session_id": observer,
                "trials": trials_per_observer[observer],
                "outlier": bool(reasons),
                "reason": "; ".join(reasons) or None,
                "excluded": observer in flagged or bool(report and report.outlier),
            }
        )
    if flagged:
        warnings.append(f"{len(flagged)} observer(s) failed trap trials and are kept out of the scale")
    group_warnings = (
        [{"group": w.group, "message": w.message} for w in getattr(scale, "group_warnings", None) or []]
        if scale
        else []
    )
    return {
        "study_id": study.id,
        "method": study.method,
        "unit": method.unit,
        "conditions": conditions,
        "observers": observers,
        "warnings": warnings,
        "group_warnings": group_warnings,
        "trials": len(answers),
    }


def study_answers(session: Session, study: Study) -> list[Answer]:
    """Every answer of the study as its method reads them: answered trials (native; observer = session id)
    or the imported rows (observer = the file's observer / worker)."""
    if study.imported:
        rows = session.execute(
            select(
                StudyAnswer.observer,
                StudyAnswer.condition_a_id,
                StudyAnswer.condition_b_id,
                StudyAnswer.choice,
                StudyAnswer.control,
                StudyAnswer.boosted,
                StudyAnswer.pivot_id,
                StudyAnswer.batch,
            )
            .where(StudyAnswer.study_id == study.id)
            .order_by(StudyAnswer.id)
        )
        group = {c.id: condition_group(c) for c in study.conditions}
        return [
            Answer(
                observer=r.observer,
                group=group[r.condition_a_id],
                a=str(r.condition_a_id),
                b=None if r.condition_b_id is None else str(r.condition_b_id),
                control=r.control,
                choice=r.choice,
                boosted=bool(r.boosted),
                pivot=None if r.pivot_id is None else str(r.pivot_id),
                batch=r.batch or "",
            )
            for r in rows
        ]
    return [_as_answer(t) for t in _answered(session, study.id)]


def scaled_by_worker(study: Study) -> bool:
    """Imported and triplet scales are computed by a worker (``GET /scale`` answers 202 until then)."""
    return bool(study.imported) or method_of(study).scaled_by_worker


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone


def request_scale(session: Session, study: Study) -> None:
    """Send the study's scale to a worker unless it was sent for these answers recently (a lost message is
    sent again after ``SCALE_RESEND_AFTER``). 503 when the queue cannot be reached; nothing waits then."""
    version = study.answers_version
    if (
        study.scale_queued_version == version
        and study.scale_queued_at is not None
        and _aware(study.scale_queued_at) > _now() - SCALE_RESEND_AFTER
    ):
        return
    claimed = _rows_changed(
        session,
        update(Study)
        .where(
            Study.id == study.id,
            Study.answers_version == version,
            or_(
                Study.scale_queued_version.is_(None),
                Study.scale_queued_version != version,
                Study.scale_queued_at < _now() - SCALE_RESEND_AFTER,
            ),
        )
        .values(scale_queued_version=version, scale_queued_at=_now())
        .execution_options(synchronize_session=False),
    )
    session.commit()
    if claimed != 1:  # another request sent it a moment ago
        return
    try:
        from engine.queue import CPU_QUEUE, celery_client

        celery_client().send_task(SCALE_TASK, args=[study.id], queue=CPU_QUEUE)
    except Exception as exc:  # nothing may wait for a task that was never sent
        session.execute(
            update(Study)
            .where(Study.id == study.id)
            .values(scale_queued_version=None)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        raise Unavailable(f"could not reach the task queue to compute the scale: {exc}") from None


def compute_and_store_scale(factory: sessionmaker[Session], study_id: int) -> bool:
    """The worker's side: compute the scale for the current answers and cache it (a redelivered task whose
    scale is already cached does nothing). Returns whether a scale was stored."""
    with factory() as session:
        study = session.get(Study, study_id)
        if study is None:
            return False
        version = study.answers_version
        if study.scale_cache is not None and study.scale_version == version:
            return False
        result = compute_scale(study, study_answers(session, study))
        result["answers_version"] = version
        result["computed_at"] = _now().isoformat()
        stored = _rows_changed(
            session,
            update(Study)
            .where(Study.id == study.id, Study.answers_version == version)
            .values(scale_cache=result, scale_version=version)
            .execution_options(synchronize_session=False),
        )
        session.commit()
        return stored == 1


class _StudyLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock, self.users = threading.Lock(), 0


class ScaleLocks:
    """One lock per study whose scale this process is computing, so concurrent requests wait for one computation.
    A study's lock lives only while a request holds it or waits for it: the table never holds more entries than
    requests in flight, however many studies are ever scaled. One per process (:data:`scale_locks`); a test calls
    :meth:`reset` or makes its own."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[int, _StudyLock] = {}

    @contextmanager
    def held(self, study_id: int) -> Iterator[None]:
        """Hold ``study_id``'s lock for the ``with`` block; the last request to leave drops the lock."""
        with self._guard:
            entry = self._locks.setdefault(study_id, _StudyLock())
            entry.users += 1
        try:
            with entry.lock:
                yield
        finally:
            with self._guard:
                entry.users -= 1
                if entry.users == 0 and self._locks.get(study_id) is entry:
                    del self._locks[study_id]

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)

    def reset(self) -> None:
        """Forget every lock (between tests; a request still inside :meth:`held` keeps the lock it has)."""
        with self._guard:
            self._locks.clear()


scale_locks = ScaleLocks()


def study_scale(session: Session, study_id: int) -> dict | None:
    """The cached scale, recomputed only when answers arrived since it was computed. Concurrent requests
    in one process wait for one computation instead of repeating it (the bootstrap is the costly part).
    Imported and triplet studies: None while a worker computes it (the request sends it, see
    ``request_scale``)."""
    study = get_study(session, study_id)
    if study.scale_cache is not None and study.scale_version == study.answers_version:
        return study.scale_cache
    if scaled_by_worker(study):
        request_scale(session, study)
        return None
    with scale_locks.held(study_id):
        session.expire(study)
        session.commit()  # end the read transaction, so the cache written by a concurrent request is visible
        study = get_study(session, study_id)
        version = study.answers_version
        if study.scale_cache is not None and study.scale_version == version:
            return study.scale_cache
        result = compute_scale(study, study_answers(session, study))
        result["answers_version"] = version
        result["computed_at"] = _now().isoformat()
        session.execute(
            update(Study)
            .where(Study.id == study.id, Study.answers_version == version)
            .values(scale_cache=result, scale_version=version)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return result


CSV_COLUMNS = [
    "observer",
    "session",
    "scene",
    "condition_A",
    "condition_B",
    "is_A_selected",
    "trial_id",
    "position",
    "kind",
    "control",
    "repeat_of_trial_id",
    "choice",
    "score",
    "response_ms",
    "served_at",
    "answered_at",
    "codec_A",
    "rate_point_A",
    "bpp_A",
    "codec_B",
    "rate_point_B",
    "bpp_B",
    "window_width",
    "window_height",
    "device_pixel_ratio",
]


def response_rows(session: Session, study_id: int) -> list[dict]:
    """Answered trials, one row each, in pwcmp's column layout (observer, session, scene, condition_A,
    condition_B, is_A_selected) plus the logged extras. Identical-pair, trap and repeated trials are
    marked in ``control``; DSIS rows leave condition_B and is_A_selected empty and fill ``score``."""
    study = get_study(session, study_id)
    if study.imported:
        raise Conflict(f"study {study.id} is imported: its answers are the files it was imported from")
    conditions = {c.id: c for c in study.conditions}
    sittings = {s.id: s for s in session.scalars(select(StudySession).where(StudySession.study_id == study.id))}
    rows = []
    for t in _answered(session, study.id):
        sitting = sittings[t.session_id]
        display = sitting.display or {}
        a = conditions[t.condition_a_id]
        b = conditions.get(t.condition_b_id) if t.condition_b_id is not None else None
        rows.append(
            {
                "observer": sitting.participant or t.session_id,
                "session": t.session_id,
                "scene": t.image_id,
                "condition_A": t.condition_a_id,
                "condition_B": None if b is None else b.id,
                "is_A_selected": int(t.choice == "a") if t.choice in ("a", "b") else None,
                "trial_id": t.id,
                "position": t.position,
                "kind": t.kind,
                "control": t.control,
                "repeat_of_trial_id": t.repeat_of_trial_id,
                "choice": t.choice,
                "score": t.score,
                "response_ms": t.response_ms,
                "served_at": t.served_at.isoformat(),
                "answered_at": t.answered_at.isoformat() if t.answered_at else None,  # set: _answered
                "codec_A": a.codec,
                "rate_point_A": a.rate_point,
                "bpp_A": a.bpp,
                "codec_B": None if b is None else b.codec,
                "rate_point_B": None if b is None else b.rate_point,
                "bpp_B": None if b is None else b.bpp,
                "window_width": display.get("width"),
                "window_height": display.get("height"),
                "device_pixel_ratio": display.get("device_pixel_ratio"),
            }
        )
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
