"""IQA data sets imported from the lab's files: check, store, verify and score in the background, export.

The request (``POST /api/v1/iqa-datasets`` or ``licbench dataset import``) does only the synchronous check of
``analysis.iqa_datasets``: the archive unpacks safely and the layout's score file names files that exist
(``DatasetError`` -> 422, nothing stored). The stored data set is then ``queued``; a worker task decodes
every image (``verify``; a data set whose images fail ends ``failed`` with the reasons and its files and
rows are removed), then chunks of distorted images are scored against their references with the chosen
metrics (``metrics.scoring.score``, the registry instances the benchmark uses). Data set imports are not
bound by the per-job task limit.

Scores-only layouts (``aic4``: human scores and the metric values the archive ships, no images) are
stored ``succeeded`` at once with those values: nothing is verified or scored, and no task is queued.
"""

from __future__ import annotations

import csv
import io
import logging
import secrets
import shutil
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from analysis.iqa_datasets import (
    DatasetError,
    DatasetIndex,
    get_layout,
    is_scores_only,
    layout_names,
    read_dataset,
    safe_extract,
    verify_images,
)
from app.db.tables import IqaDataset, IqaDatasetImage
from app.services.errors import Invalid, NotFound, TooLarge, Unavailable
from app.services.jobs import catalog
from app.services.storage import LocalStorage, sha256_tree
from app.settings import get_settings
from metrics.scoring import score

log = logging.getLogger(__name__)

STATUSES = ("queued", "running", "succeeded", "failed")
ACTIVE = ("queued", "running")
DATASETS_PREFIX = "datasets"
PREPARE_TASK = "licbench.prepare_dataset"  # names workers/analysis_tasks.py registers
SCORE_TASK = "licbench.score_dataset_images"
_COPY_CHUNK = 1 << 20
SCORES_ONLY_MESSAGE = (
    "scores only: the archive holds human scores and the metric values it ships, no images, "
    "so the workers score nothing here; correlation uses the shipped metric values"
)


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- import (synchronous check)


def choose_metrics(names: Iterable[str] | None) -> list[str]:
    """The metrics to score: ``names`` (each must be registered and available) or every available one."""
    registered = catalog.registry_metrics()
    if names is None:
        chosen = [n for n, m in registered.items() if m.availability().available]
    else:
        chosen = list(dict.fromkeys(n.strip() for n in names if n.strip()))
        unknown = [n for n in chosen if n not in registered]
        if unknown:
            raise Invalid(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(registered)}")
        unavailable = [
            f"{n} ({registered[n].availability().reason})" for n in chosen if not registered[n].availability().available
        ]
        if unavailable:
            raise Invalid(f"metric(s) not available: {'; '.join(unavailable)}")
    if not chosen:
        raise Invalid("no metric selected (and none is available)")
    return chosen


def copy_limited(source, target: Path, limit: int) -> int:
    """Copy the binary file object ``source`` to ``target``; ``TooLarge`` (413) once over ``limit`` bytes."""
    written = 0
    with open(target, "wb") as sink:
        while chunk := source.read(_COPY_CHUNK):
            written += len(chunk)
            if written > limit:
                raise TooLarge(f"data set archive is over the limit of {limit} bytes (MAX_DATASET_BYTES)")
            sink.write(chunk)
    return written


def _staging(storage: LocalStorage) -> Path:
    folder = storage.path(f"{DATASETS_PREFIX}/.staging-{secrets.token_hex(8)}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    return folder


def import_dataset(
    session: Session,
    storage: LocalStorage,
    source: Path,
    *,
    name: str,
    layout: str,
    higher_is_better: bool | None = None,
    metrics: Iterable[str] | None = None,
) -> IqaDataset:
    """Check ``source`` (a zip archive or a folder) in ``layout`` and store it as a queued data set.

    Bad names, layouts, metrics or archives raise ``ServiceError`` (4xx) with nothing stored: the
    unpacked files are removed again. The caller commits, then calls :func:`enqueue_prepare`.
    """
    name = (name or "").strip()
    if not name:
        raise Invalid("name must not be empty")
    if len(name) > 200:
        raise Invalid("name is longer than 200 characters")
    if layout not in layout_names():
        raise Invalid(f"unknown layout {layout!r}; one of {', '.join(layout_names())}")
    if higher_is_better is not None and layout != "generic-csv":
        raise Invalid("higher_is_better applies only to the generic-csv layout")
    scores_only = is_scores_only(layout)
    if scores_only and metrics is not None:
        raise Invalid(f"the {layout} layout ships its own metric values (no images to score); leave metrics out")
    chosen = None if scores_only else choose_metrics(metrics)
    settings = get_settings()
    staging = _staging(storage)
    try:
        try:
            spec = get_layout(layout, higher_is_better=higher_is_better)
            if source.is_dir():
                shutil.copytree(source, staging, ignore=_symlinks)
            else:
                safe_extract(
                    source,
                    staging,
                    max_total_bytes=settings.max_dataset_unpacked_bytes,
                    max_files=settings.max_dataset_files,
                )
            index = read_dataset(staging, spec)
        except DatasetError as exc:
            raise Invalid(str(exc)) from None
        if not index.distorted and not index.triplets:
            raise Invalid("the score file names no distorted images")
        dataset = IqaDataset(
            name=name,
            layout=layout,
            status="queued",
            phase="queued",
            unit=index.unit,
            higher_is_better=index.higher_is_better,
            n_references=index.n_references,
            n_distorted=index.n_distorted,
            metrics=chosen,
            done=0,
            total=0,
            files_key="",
            triplets=[[t.original, t.a, t.b, bool(t.prefers_a)] for t in index.triplets],
        )
        if index.scores_only:  # nothing to verify or score: complete as imported
            dataset.metrics = list(index.metric_names)
            dataset.status, dataset.phase = "succeeded", "done"
            dataset.done = dataset.total = index.n_distorted
            dataset.started_at = dataset.finished_at = _now()
        session.add(dataset)
        session.flush()
        for row in _image_rows(index):
            session.add(IqaDatasetImage(dataset_id=dataset.id, **row))
        final = storage.path(f"{DATASETS_PREFIX}/{dataset.id}")
        if final.exists():
            shutil.rmtree(final)  # left by a data set whose row was rolled back
        staging.rename(final)
        dataset.file_hashes = sha256_tree(final)  # what `licbench verify` checks (migration 0011)
        inner = index.root.relative_to(staging).as_posix()
        dataset.files_key = f"{DATASETS_PREFIX}/{dataset.id}" + ("" if inner == "." else f"/{inner}")
        session.flush()
        return dataset
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _symlinks(folder: str, names: list[str]) -> list[str]:
    """``copytree`` ignore rule: symbolic links are never followed out of the lab's folder."""
    return [n for n in names if (Path(folder) / n).is_symlink()]


def _image_rows(index: DatasetIndex) -> list[dict]:
    """One row per distorted image (or per image of a 2AFC triplet, scored against its original)."""
    if index.distorted:
        return [
            {
                "path": d.path,
                "reference": d.reference,
                "score": d.score,
                "distortion": d.distortion,
                "level": d.level,
                "score_ci_low": d.score_ci[0] if d.score_ci else None,
                "score_ci_high": d.score_ci[1] if d.score_ci else None,
                "scored": index.scores_only,
                "metrics": dict(d.metric_values or {}) if index.scores_only else None,
                "metric_notes": {},
            }
            for d in index.distorted
        ]
    pairs = dict.fromkeys((p, t.original) for t in index.triplets for p in (t.a, t.b))
    return [
        {
            "path": p,
            "reference": o,
            "score": None,
            "distortion": None,
            "level": None,
            "scored": False,
            "metric_notes": {},
        }
        for p, o in pairs
    ]


def send_prepare(dataset_id: int) -> None:
    """Send the background check of a committed data set (:func:`prepare`) to the cpu queue."""
    from engine.queue import CPU_QUEUE, celery_client

    celery_client().send_task(PREPARE_TASK, args=[dataset_id], queue=CPU_QUEUE)


def in_chunks(image_ids: list[int], size: int) -> list[list[int]]:
    """``image_ids`` in consecutive chunks of at most ``size``: one scoring message each (:func:`enqueue_scoring`)."""
    return [image_ids[i : i + size] for i in range(0, len(image_ids), size)]


def enqueue_prepare(session: Session, dataset: IqaDataset) -> None:
    """Send the background check of a committed data set; an unreachable broker fails it (503).
    A scores-only data set is complete as imported: nothing is sent."""
    if is_scores_only(dataset.layout):
        return
    try:
        send_prepare(dataset.id)
    except Exception as exc:
        fail(session, dataset.id, f"could not reach the task queue: {exc}")
        session.commit()
        raise Unavailable(f"data set {dataset.id} stored but the task queue is unreachable: {exc}") from None


# ---------------------------------------------------------------- background: verify and score


def files_root(storage: LocalStorage, dataset: IqaDataset) -> Path:
    return storage.path(dataset.files_key)


def fail(session: Session, dataset_id: int, reason: str, storage: LocalStorage | None = None) -> None:
    """Mark the data set failed with ``reason`` and remove everything else it left: image rows and files."""
    session.execute(
        update(IqaDataset)
        .where(IqaDataset.id == dataset_id, IqaDataset.status.in_(ACTIVE))
        .values(status="failed", phase="done", error=reason[:4000], finished_at=_now())
    )  # the first reason stays
    session.execute(
        delete(IqaDatasetImage)
        .where(IqaDatasetImage.dataset_id == dataset_id)
        .execution_options(synchronize_session=False)
    )
    if storage is not None:
        shutil.rmtree(storage.path(f"{DATASETS_PREFIX}/{dataset_id}"), ignore_errors=True)


def _index_of(session: Session, dataset: IqaDataset, root: Path) -> DatasetIndex:
    from analysis.iqa_datasets import DistortedImage, Triplet

    rows = session.scalars(select(IqaDatasetImage).where(IqaDatasetImage.dataset_id == dataset.id)).all()
    references = sorted({r.reference for r in rows})
    distorted = [
        DistortedImage(r.path, r.reference, r.score if r.score is not None else 0.0, r.distortion, r.level)
        for r in rows
    ]
    triplets = [Triplet(*t) for t in dataset.triplets or []]
    return DatasetIndex(dataset.layout, root, references, distorted, dataset.higher_is_better, dataset.unit, triplets)


def prepare(
    factory: sessionmaker[Session], storage: LocalStorage, dataset_id: int, chunk_size: int | None = None
) -> list[list[int]]:
    """Decode every image of a queued data set; on problems fail it (and clean up), else switch it to
    scoring and return the image ids in chunks for :func:`score_images`. Idempotent on redelivery."""
    chunk_size = chunk_size or get_settings().dataset_chunk_images
    with factory() as session:
        dataset = session.get(IqaDataset, dataset_id)
        if dataset is None or dataset.status not in ACTIVE:
            return []
        if dataset.phase == "scoring":  # a redelivered copy: scoring was already sent
            return []
        total_images = len(_index_of(session, dataset, files_root(storage, dataset)).image_paths())
        session.execute(
            update(IqaDataset)
            .where(IqaDataset.id == dataset_id)
            .values(status="running", phase="verifying", started_at=_now(), done=0, total=total_images)
        )
        session.commit()
        index = _index_of(session, dataset, files_root(storage, dataset))

        def progress(done: int, total: int) -> None:
            if done % 50 == 0 or done == total:
                session.execute(update(IqaDataset).where(IqaDataset.id == dataset_id).values(done=done, total=total))
                session.commit()

        try:
            problems = verify_images(index, progress=progress)
        except Exception as exc:  # an unexpected reader error still ends the data set cleanly
            problems = [f"{type(exc).__name__}: {exc}"]
        if problems:
            fail(session, dataset_id, f"{len(problems)} problem(s) with the images: " + "; ".join(problems), storage)
            session.commit()
            return []
        ids = list(
            session.scalars(
                select(IqaDatasetImage.id)
                .where(IqaDatasetImage.dataset_id == dataset_id)
                .order_by(IqaDatasetImage.reference, IqaDatasetImage.id)
            )
        )
        session.execute(
            update(IqaDataset).where(IqaDataset.id == dataset_id).values(phase="scoring", done=0, total=len(ids))
        )
        session.commit()
        return in_chunks(ids, chunk_size)


def load_rgb(path: Path) -> np.ndarray:
    """An image file as 8-bit RGB (grey repeated, alpha composited on white, 16-bit scaled by v/257)."""
    with PILImage.open(path) as image:
        image.load()
        if image.mode in ("I;16", "I;16B", "I;16L", "I"):
            array = np.asarray(image, dtype=np.float64) / 257.0
            grey = np.clip(np.rint(array), 0, 255).astype(np.uint8)
            return np.repeat(grey[..., None], 3, axis=2)
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            background = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
            return np.asarray(PILImage.alpha_composite(background, rgba).convert("RGB"), dtype=np.uint8).copy()
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def score_images(factory: sessionmaker[Session], storage: LocalStorage, dataset_id: int, image_ids: list[int]) -> int:
    """Score the distorted images ``image_ids`` against their references (grouped by reference, so each
    reference decodes once); returns how many were newly scored. A file that no longer reads fails the data set."""
    with factory() as session:
        dataset = session.get(IqaDataset, dataset_id)
        if dataset is None or dataset.status not in ACTIVE:
            return 0
        rows = session.scalars(
            select(IqaDatasetImage).where(
                IqaDatasetImage.id.in_(image_ids),
                IqaDatasetImage.dataset_id == dataset_id,
                IqaDatasetImage.scored.is_(False),
            )
        ).all()
        registered = catalog.registry_metrics()
        chosen = [registered[n] for n in dataset.metrics if n in registered]
        root = files_root(storage, dataset)
        session.commit()
        by_reference: dict[str, list[IqaDatasetImage]] = defaultdict(list)
        for row in rows:
            by_reference[row.reference].append(row)
        stored = 0
        try:
            for reference_path, group in by_reference.items():
                reference = load_rgb(root / reference_path)
                distorted = [load_rgb(root / r.path) for r in group]
                for row, pixels in zip(group, distorted):
                    if pixels.shape != reference.shape:
                        raise ValueError(
                            f"{row.path} is {pixels.shape[1]}x{pixels.shape[0]}, its reference "
                            f"{reference_path} {reference.shape[1]}x{reference.shape[0]}"
                        )
                scores = score(reference, distorted, chosen)
                for row, values in zip(group, scores):
                    row.metrics = {name: s.value for name, s in values.items()}
                    row.metric_notes = {name: s.reason for name, s in values.items() if s.reason}
                    row.scored = True
                    stored += 1
                session.commit()
        except Exception as exc:
            session.rollback()
            log.exception("scoring data set %s failed", dataset_id)
            fail(session, dataset_id, f"scoring failed: {type(exc).__name__}: {exc}", storage)
            session.commit()
            return stored
        refresh_progress(session, dataset_id)
        session.commit()
        return stored


def refresh_progress(session: Session, dataset_id: int) -> None:
    """Recount scored images (idempotent under redelivery) and close the data set when all are scored."""
    scored = (
        session.scalar(
            select(func.count())
            .select_from(IqaDatasetImage)
            .where(IqaDatasetImage.dataset_id == dataset_id, IqaDatasetImage.scored.is_(True))
        )
        or 0
    )
    session.execute(
        update(IqaDataset).where(IqaDataset.id == dataset_id, IqaDataset.phase == "scoring").values(done=scored)
    )
    dataset = get_dataset(session, dataset_id)
    session.refresh(dataset)
    if dataset.status in ACTIVE and dataset.phase == "scoring" and scored >= dataset.total:
        session.execute(
            update(IqaDataset)
            .where(IqaDataset.id == dataset_id, IqaDataset.status.in_(ACTIVE))
            .values(status="succeeded", phase="done", finished_at=_now())
        )


def run_inline(factory: sessionmaker[Session], storage: LocalStorage, dataset_id: int) -> None:
    """Verify and score a data set in this process (the CLI's ``--wait`` and tests; workers split it)."""
    for chunk in prepare(factory, storage, dataset_id):
        score_images(factory, storage, dataset_id, chunk)


def enqueue_scoring(dataset_id: int, chunks: list[list[int]]) -> int:
    """One Celery message per chunk on the cpu queue; returns how many were sent."""
    from engine.queue import CPU_QUEUE, celery_client

    client = celery_client()
    sent = 0
    with client.producer_or_acquire() as producer:
        for chunk in chunks:
            client.send_task(SCORE_TASK, args=[dataset_id, chunk], queue=CPU_QUEUE, producer=producer)
            sent += 1
    return sent


# ---------------------------------------------------------------- reading


def get_dataset(session: Session, dataset_id: int) -> IqaDataset:
    dataset = session.get(IqaDataset, dataset_id)
    if dataset is None:
        raise NotFound(f"data set {dataset_id} does not exist")
    return dataset


def list_datasets(session: Session) -> list[IqaDataset]:
    return list(session.scalars(select(IqaDataset).order_by(IqaDataset.id.desc())))


def dataset_json(dataset: IqaDataset) -> dict:
    scores_only = is_scores_only(dataset.layout)
    return {
        "id": dataset.id,
        "name": dataset.name,
        "layout": dataset.layout,
        "status": dataset.status,
        "n_references": dataset.n_references,
        "n_distorted": dataset.n_distorted,
        "unit": dataset.unit,
        "scores_only": scores_only,
        "message": SCORES_ONLY_MESSAGE if scores_only else None,
        "higher_is_better": dataset.higher_is_better,
        "metrics": list(dataset.metrics),
        "progress": {"phase": dataset.phase, "done": dataset.done, "total": dataset.total},
        "error": dataset.error,
        "created_at": dataset.created_at.isoformat() if dataset.created_at else None,
        "finished_at": dataset.finished_at.isoformat() if dataset.finished_at else None,
    }


def image_rows(session: Session, dataset_id: int) -> list[IqaDatasetImage]:
    return list(
        session.scalars(
            select(IqaDatasetImage).where(IqaDatasetImage.dataset_id == dataset_id).order_by(IqaDatasetImage.id)
        )
    )


def human_score(dataset: IqaDataset, row: IqaDatasetImage) -> float | None:
    """The shipped score oriented higher = better (DMOS negated), as ``DatasetIndex.human_scores``."""
    if row.score is None:
        return None
    return row.score if dataset.higher_is_better else -row.score


def score_ci(row: IqaDatasetImage) -> list[float] | None:
    """The shipped score's 95% interval [low, high] as shipped (not oriented), where the layout has one."""
    if row.score_ci_low is None or row.score_ci_high is None:
        return None
    return [row.score_ci_low, row.score_ci_high]


def human_ci(dataset: IqaDataset, row: IqaDatasetImage) -> tuple[float, float] | None:
    """The interval of :func:`human_score` (negated and swapped for lower-is-better scores)."""
    ci = score_ci(row)
    if ci is None:
        return None
    return (ci[0], ci[1]) if dataset.higher_is_better else (-ci[1], -ci[0])


def scores_rows(session: Session, dataset: IqaDataset) -> list[dict]:
    out = []
    for row in image_rows(session, dataset.id):
        values = row.metrics or {}
        out.append(
            {
                "id": row.id,
                "path": row.path,
                "reference": row.reference,
                "distortion": row.distortion,
                "level": row.level,
                "score": row.score,
                "score_ci": score_ci(row),
                "human": human_score(dataset, row),
                "scored": row.scored,
                "metrics": {n: values.get(n) for n in dataset.metrics},
                "metric_notes": row.metric_notes or {},
            }
        )
    return out


def scores_csv(dataset: IqaDataset, rows: list[dict]) -> str:
    """One line per distorted image: path, reference, distortion, level, the shipped score, the oriented
    human score, then one column per metric (empty = no value)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["path", "reference", "distortion", "level", dataset.unit.lower(), "human_higher_is_better", *dataset.metrics]
    )
    for r in rows:
        writer.writerow(
            [
                r["path"],
                r["reference"],
                _blank(r["distortion"]),
                _blank(r["level"]),
                _blank(r["score"]),
                _blank(r["human"]),
                *[_blank(r["metrics"].get(n)) for n in dataset.metrics],
            ]
        )
    return buffer.getvalue()


def _blank(value) -> object:
    return "" if value is None else value


def image_png(session: Session, storage: LocalStorage, dataset: IqaDataset, relative: str) -> bytes:
    """A data set image its index names, as PNG (for the report page); 404 for anything else."""
    if dataset.status == "failed":
        raise NotFound(f"data set {dataset.id} failed; its files were removed")
    if is_scores_only(dataset.layout):
        raise NotFound(f"data set {dataset.id} is scores only: it holds no images")
    named = session.scalar(
        select(IqaDatasetImage.id)
        .where(
            IqaDatasetImage.dataset_id == dataset.id,
            or_(IqaDatasetImage.path == relative, IqaDatasetImage.reference == relative),
        )
        .limit(1)
    )
    if named is None:
        raise NotFound(f"data set {dataset.id} has no image {relative!r}")
    pixels = load_rgb(files_root(storage, dataset) / relative)
    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
