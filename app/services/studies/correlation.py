"""Correlation reports of metrics against human scores, for a study or an imported IQA data set.

Builds ``analysis.correlation.Observation`` rows from the database and calls the pure statistics
(``correlate``, ``worst_disagreements``, ``family_bias``, ``two_afc_agreement``). Human scores:
a study's scale (JOD for pairwise, MOS for DSIS; ``app.services.studies.studies.study_scale``, cached there), a data
set's shipped scores oriented higher = better. Metric values: the metrics the job measured; for a study
that showed crops, the crops' values (``app.services.studies.crop_scores``; 202 ``{"status": "scoring"}`` until
every crop is scored). Reports are cached in ``analysis_reports`` and recomputed when the scale or the
scores change (the cache version is the study's ``answers_version`` plus the crop scores stored, or the
data set's status and progress).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analysis.correlation import (
    FIT_FORMS,
    GROUPS,
    Observation,
    TwoAFCPair,
    correlate,
    family_bias,
    two_afc_agreement,
    worst_disagreements,
)
from analysis.iqa_datasets import distortion_family, is_scores_only
from app.db.tables import AnalysisReport, Image, Result
from app.services.datasets import iqa_datasets
from app.services.errors import Conflict, Invalid
from app.services.jobs import catalog
from app.services.studies import crop_scores, studies
from app.settings import get_settings
from metrics.registry import metric_class

WORST_SHOWN = 5
SEED = 0


@dataclass
class Source:
    """Everything a report is computed from: observations, metric directions, unit and cache version."""

    kind: str  # study | dataset
    id: int
    unit: str
    observations: list[Observation]
    metrics: dict[str, bool]  # name -> higher_is_better
    version: str
    pairs: list[tuple[dict, dict, bool, str]] | None = None  # 2AFC: (values a, values b, prefers a, group)
    scores_only: bool = False  # a data set without images (aic4): no image to show

    @property
    def source_json(self) -> dict:
        return {"study_id": self.id} if self.kind == "study" else {"dataset_id": self.id}


@dataclass
class Pending:
    """Metric values still being computed (crops or data set images): the 202 answer."""

    status: str
    done: int
    total: int

    def to_dict(self) -> dict:
        return {"status": self.status, "done": self.done, "total": self.total}


def check_query(group: str, fit: str) -> None:
    """422 for a ``group`` or ``fit`` the report does not know."""
    if group not in GROUPS:
        raise Invalid(f"group must be one of {', '.join(GROUPS)}")
    if fit not in FIT_FORMS:
        raise Invalid(f"fit must be one of {', '.join(FIT_FORMS)}")


def directions(names: list[str]) -> dict[str, bool]:
    """name -> higher_is_better for the registered metrics among ``names``."""
    out = {}
    for name in names:
        try:
            out[name] = bool(metric_class(name).higher_is_better)
        except KeyError:
            continue  # a metric no longer registered cannot be oriented
    return out


# ---------------------------------------------------------------- sources


def study_source(session: Session, study_id: int) -> Source | Pending:
    """A study's observations: one per judged condition with a scale value (the references anchor it)."""
    study = studies.get_study(session, study_id)
    if study.imported:
        raise Conflict(f"study {study.id} is imported: no metric values are linked to its conditions")
    job = studies.study_job(session, study)
    scale = studies.study_scale(session, study_id)
    if scale is None:  # a worker computes the scale (triplet studies)
        return Pending("computing", 0, 1)
    use_crops = crop_scores.shows_crops(session, study)
    crop_done = 0
    if use_crops:
        crop_done, total = crop_scores.request_scores(session, study)
        if crop_done < total:
            return Pending("scoring", crop_done, total)
        values_of = crop_scores.crop_values(session, study.id)
    result_ids = [c["result_id"] for c in scale["conditions"] if c["result_id"] is not None]
    results = {r.id: r for r in session.scalars(select(Result).where(Result.id.in_(result_ids)))} if result_ids else {}
    kinds = {name: str(codec.kind) for name, codec in catalog.codecs(session).items()}
    image_ids = {c["image_id"] for c in scale["conditions"] if c.get("image_id") is not None}
    file_names = (
        dict(session.execute(select(Image.id, Image.filename).where(Image.id.in_(image_ids))).all())
        if image_ids
        else {}
    )
    observations = []
    for c in scale["conditions"]:
        if c["result_id"] is None or c["score"] is None:
            continue
        result = results.get(c["result_id"])
        values = values_of.get(c["condition_id"], {}) if use_crops else (result.metrics if result else {})
        ci = (c["ci_low"], c["ci_high"]) if c.get("ci_low") is not None and c.get("ci_high") is not None else None
        observations.append(
            Observation(
                metric_values={n: values.get(n) for n in job.metrics},
                human=float(c["score"]),
                image=str(c["image_id"]),
                condition=f"{c['codec']} @ {c['rate_point']:g}" if c["rate_point"] is not None else c["codec"],
                codec=c["codec"],
                family=kinds.get(c["codec"], "submitted"),
                bpp=c["bpp"],
                human_ci=ci,
                result_id=c["result_id"],
                extra={
                    "condition_id": c["condition_id"],
                    "image_id": c["image_id"],
                    "rate_point": c["rate_point"],
                    "image_name": file_names.get(c["image_id"]),
                },
            )
        )
    # created_at too: SQLite may give a deleted study's id to a new one.
    version = f"{study.created_at.isoformat()}:{study.answers_version}:{crop_done if use_crops else 'full'}"
    return Source("study", study.id, scale.get("unit") or "JOD", observations, directions(list(job.metrics)), version)


def dataset_source(session: Session, dataset_id: int) -> Source | Pending:
    """A data set's observations (one per distorted image) or, for 2AFC layouts, its triplets."""
    dataset = iqa_datasets.get_dataset(session, dataset_id)
    if dataset.status == "failed":
        raise Conflict(f"data set {dataset.id} failed: {dataset.error}")
    if dataset.status != "succeeded":
        return Pending("scoring", dataset.done if dataset.phase == "scoring" else 0, dataset.n_distorted)
    rows = iqa_datasets.image_rows(session, dataset.id)
    version = f"{dataset.created_at.isoformat()}:{dataset.status}:{dataset.done}"
    scores_only = is_scores_only(dataset.layout)
    # A scores-only layout's metrics are not registered here; it oriented them higher = better on import.
    metrics = {n: True for n in dataset.metrics} if scores_only else directions(list(dataset.metrics))
    if dataset.unit == "2AFC":
        values = {(r.path, r.reference): r.metrics or {} for r in rows}
        pairs = [
            (values.get((a, o), {}), values.get((b, o), {}), bool(prefers_a), o)
            for o, a, b, prefers_a in dataset.triplets
        ]
        return Source("dataset", dataset.id, "2AFC", [], metrics, version, pairs=pairs)
    observations = [
        Observation(
            metric_values={n: (r.metrics or {}).get(n) for n in dataset.metrics},
            human=human,
            image=r.reference,
            condition=r.path,
            distortion=r.distortion,
            codec=r.distortion if scores_only else None,
            family=distortion_family(dataset.layout, r.distortion),
            human_ci=iqa_datasets.human_ci(dataset, r),
            extra={
                "image_id": r.id,
                "path": r.path,
                "reference": r.reference,
                "score": r.score,
                "level": r.level,
                "image_name": r.reference,
            },
        )
        for r in rows
        if (human := iqa_datasets.human_score(dataset, r)) is not None
    ]
    return Source("dataset", dataset.id, dataset.unit, observations, metrics, version, scores_only=scores_only)


# ---------------------------------------------------------------- reports


def _cached(session: Session, source: Source, key: str, compute) -> dict:
    row = session.scalar(
        select(AnalysisReport).where(
            AnalysisReport.source == source.kind, AnalysisReport.source_id == source.id, AnalysisReport.key == key
        )
    )
    version = f"{source.version}:{get_settings().correlation_bootstrap}"
    if row is not None and row.version == version:
        return row.report
    report = compute()
    try:
        with session.begin_nested():
            if row is None:
                session.add(
                    AnalysisReport(source=source.kind, source_id=source.id, key=key, version=version, report=report)
                )
            else:
                row.version, row.report = version, report
    except IntegrityError:
        pass  # another request stored the same report at the same moment
    return report


def _two_afc_rows(source: Source, pairs: list[tuple[dict, dict, bool, str]]) -> list[dict]:
    n_bootstrap = get_settings().correlation_bootstrap
    rows = []
    for name, higher in source.metrics.items():
        judged = [TwoAFCPair(a.get(name), b.get(name), prefers_a, group) for a, b, prefers_a, group in pairs]
        result = two_afc_agreement(judged, higher_is_better=higher, n_bootstrap=n_bootstrap, seed=SEED)
        rows.append(
            {
                "metric": name,
                "n": result.n,
                "flipped": not higher,
                "srocc": None,
                "srocc_ci": None,
                "krocc": None,
                "plcc": None,
                "plcc_ci": None,
                "rmse": None,
                "fit": {"form": None, "params": None, "failed": True},
                "two_afc": result.to_dict(),
                "reason": "pairwise judgements without a scale: 2AFC agreement instead of correlations",
            }
        )
    return sorted(rows, key=lambda r: (r["two_afc"]["share"] is None, -(r["two_afc"]["share"] or 0.0), r["metric"]))


def correlation(session: Session, source: Source, group: str, fit: str) -> dict:
    """The REST shape of issue 10: source, unit, n, metrics (ranked by SROCC), groups, comparisons."""
    check_query(group, fit)

    def compute() -> dict:
        if source.pairs is not None:
            rows = _two_afc_rows(source, source.pairs)
            return {
                "unit": "2AFC",
                "n": len(source.pairs),
                "group": group,
                "fit": fit,
                "metrics": rows,
                "groups": {},
                "comparisons": [],
            }
        if not source.metrics:
            raise Invalid("no registered metric to correlate")
        report = correlate(
            source.observations,
            source.metrics,
            fit=fit,
            group=group,
            unit=source.unit,
            n_bootstrap=get_settings().correlation_bootstrap,
            seed=SEED,
        )
        return report.to_dict()

    return {"source": source.source_json, **_cached(session, source, f"correlation:{group}:{fit}", compute)}


def _point(source: Source, o: Observation) -> dict:
    """A scatter point: the observation as in the disagreement lists, with its metric values and interval."""
    return {
        **_observation_json(source, o),
        "distortion": o.distortion,
        "human_ci": list(o.human_ci) if o.human_ci else None,
        "metrics": o.metric_values,
    }


def _image_urls(source: Source, o: Observation) -> dict:
    """Where the page finds the judged image and its reference (the crops people saw, for a study)."""
    from urllib.parse import quote

    if source.kind == "study":
        base = f"/api/v1/studies/{source.id}/conditions"
        return {
            "image_url": f"{base}/{o.extra['condition_id']}/image",
            "reference_url": f"/api/v1/studies/{source.id}/images/{o.extra['image_id']}/reference",
        }
    if source.scores_only:
        return {"image_url": None, "reference_url": None}
    base = f"/api/v1/iqa-datasets/{source.id}/image?path="
    return {"image_url": base + quote(o.extra["path"]), "reference_url": base + quote(o.extra["reference"])}


def _observation_json(source: Source, o: Observation) -> dict:
    return {
        "condition": o.condition,
        "image": o.image,
        "image_name": o.extra.get("image_name"),
        "codec": o.codec,
        "family": o.family,
        "bpp": o.bpp,
        "human": o.human,
        "result_id": o.result_id,
        **_image_urls(source, o),
    }


def report(session: Session, source: Source, fit: str) -> dict:
    """The report card: overall correlation, scatter points, worst disagreements and codec-family bias
    per metric (cached like the correlation)."""
    check_query("overall", fit)

    def compute() -> dict:
        overall = correlation(session, source, "overall", fit)
        if source.pairs is not None:
            return {
                "source": source.source_json,
                "unit": "2AFC",
                "fit": fit,
                "correlation": overall,
                "points": [],
                "metrics": [],
            }
        n_bootstrap = get_settings().correlation_bootstrap
        per_metric = []
        for name, higher in source.metrics.items():
            found = worst_disagreements(source.observations, name, higher, fit=fit, top=WORST_SHOWN)
            bias = family_bias(source.observations, name, higher, fit=fit, n_bootstrap=n_bootstrap, seed=SEED)
            per_metric.append(
                {
                    "metric": name,
                    "higher_is_better": higher,
                    "fit_failed": found.fit_failed,
                    "worst": [
                        {
                            **_observation_json(source, r.observation),
                            "metric_value": r.metric_value,
                            "predicted": r.predicted,
                            "residual": r.residual,
                        }
                        for r in found.residuals
                    ],
                    "contradicting_pairs": [
                        {
                            "better": _observation_json(source, p.better),
                            "worse": _observation_json(source, p.worse),
                            "metric_better": p.metric_better,
                            "metric_worse": p.metric_worse,
                            "human_gap": p.human_gap,
                        }
                        for p in found.contradicting_pairs
                    ],
                    "family_bias": [
                        {"family": b.family, "n": b.n, "mean_residual": b.mean_residual, "ci": b.ci} for b in bias
                    ],
                }
            )
        return {
            "source": source.source_json,
            "unit": source.unit,
            "fit": fit,
            "correlation": overall,
            "points": [_point(source, o) for o in source.observations],
            "metrics": per_metric,
        }

    return _cached(session, source, f"report:{fit}", compute)


def observations_csv(source: Source) -> str:
    """The observations a report uses: one line per condition, human score and each metric's value."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    names = list(source.metrics)
    writer.writerow(
        [
            "image",
            "condition",
            "codec",
            "family",
            "bpp",
            "distortion",
            f"human_{source.unit.lower()}",
            "human_ci_low",
            "human_ci_high",
            "result_id",
            *names,
        ]
    )
    for o in source.observations:
        ci = o.human_ci or (None, None)
        writer.writerow(
            [
                _blank(v)
                for v in (
                    o.image,
                    o.condition,
                    o.codec,
                    o.family,
                    o.bpp,
                    o.distortion,
                    o.human,
                    ci[0],
                    ci[1],
                    o.result_id,
                    *[o.metric_values.get(n) for n in names],
                )
            ]
        )
    return buffer.getvalue()


def _blank(value) -> object:
    return "" if value is None else value
