"""Helpers for the metric-analysis tests: upload an IQA data set zip and run its background work in-process."""
from __future__ import annotations

from pathlib import Path

from tests.support import iqa_fixtures


def dataset_zip(tmp_path: Path, layout: str, *, top_level: str | None = "dataset", **options) -> tuple[Path, object]:
    """A tiny synthetic data set in ``layout`` zipped (inside one top-level folder by default); (zip, fixture)."""
    folder = tmp_path / f"{layout}-files"
    fixture = iqa_fixtures.WRITERS[layout](folder, **options)
    return iqa_fixtures.zip_folder(folder, tmp_path / f"{layout}.zip", top_level=top_level), fixture


def post_dataset(api, zip_path: Path, layout: str, name: str = "tiny", metrics: str | None = "psnr,gmsd",
                 **form) -> object:
    data = {"name": name, "layout": layout, **form}
    if metrics is not None:
        data["metrics"] = metrics
    with open(zip_path, "rb") as handle:
        return api.post("/api/v1/iqa-datasets", data=data,
                        files={"archive": (zip_path.name, handle.read(), "application/zip")})


def run_dataset_in_process(dataset_id: int) -> None:
    """What the worker tasks do (verify, then score every chunk), in this process."""
    from app.db.session import session_factory
    from app.services import iqa_datasets
    from app.services.storage import default_storage

    iqa_datasets.run_inline(session_factory(), default_storage(), dataset_id)


def stored_dataset_files(data_dir: Path) -> list[Path]:
    """Every file under the data sets folder (staging included)."""
    root = data_dir / "datasets"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
