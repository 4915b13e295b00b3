"""Human-study helpers: a tiny finished JPEG job run in-process, and simulated observers that answer
over REST from a known true scale (Thurstone Case V: P(a preferred) = Phi((q_a - q_b) / 1.4826), JOD)."""

from __future__ import annotations

import math
import time
from collections import defaultdict

import numpy as np

from tests.support.images import photo_uploads

JOD_SIGMA = 1.4826  # 1 JOD = 75% preference


def run_small_job_in_process(api, sizes=((64, 80), (72, 72)), rate_points=(10, 40, 90)) -> dict:
    """Upload ``sizes`` photos, run JPEG at ``rate_points`` through the worker's task function; the job."""
    from tests.support.analysis import run_job_in_process

    return run_job_in_process(api, ("psnr",), sizes, (("jpeg", tuple(rate_points)),), set_name="study")


def true_scale(conditions: list[dict], step: float = 1.0) -> dict[int, float]:
    """A known scale: the reference at 0 JOD, each lower-bpp condition of an image ``step`` JOD worse."""
    by_image: dict[int, list[dict]] = defaultdict(list)
    for c in conditions:
        if c["result_id"] is not None:
            by_image[c["image_id"]].append(c)
    truth = {c["id"]: 0.0 for c in conditions if c["result_id"] is None}
    for rows in by_image.values():
        ordered = sorted(rows, key=lambda c: c["bpp"], reverse=True)
        for rank, c in enumerate(ordered, start=1):
            truth[c["id"]] = -step * rank
    return truth


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def answer(
    trial: dict, truth: dict[int, float], rng: np.random.Generator, random_answers: bool = False, inverted: bool = False
) -> dict:
    """One simulated response body for ``trial``; ``inverted`` prefers the worse image (fails every trap)."""
    if trial["kind"] == "pairwise":
        qa, qb = truth[trial["a"]["condition_id"]], truth[trial["b"]["condition_id"]]
        if inverted:
            qa, qb = qb, qa
        p_a = 0.5 if random_answers else _phi((qa - qb) / JOD_SIGMA)
        return {
            "trial_id": trial["trial_id"],
            "choice": "a" if rng.random() < p_a else "b",
            "response_ms": int(rng.integers(800, 4000)),
        }
    if trial["kind"] == "triplet":  # the side farther below the reference (the pivot, 0) differs more
        dl, dr = -truth[trial["left"]["condition_id"]], -truth[trial["right"]["condition_id"]]
        if inverted:
            dl, dr = dr, dl
        p_left = 0.5 if random_answers else _phi((dl - dr) / JOD_SIGMA)
        return {
            "trial_id": trial["trial_id"],
            "choice": "left" if rng.random() < p_left else "right",
            "response_ms": int(rng.integers(800, 4000)),
        }
    q = truth[trial["a"]["condition_id"]]
    score = int(rng.integers(1, 6)) if random_answers else int(np.clip(round(5 + q + rng.normal(0, 0.5)), 1, 5))
    return {"trial_id": trial["trial_id"], "score": score, "response_ms": int(rng.integers(800, 4000))}


def take_session(
    client,
    study: dict,
    truth: dict[int, float],
    rng: np.random.Generator,
    random_answers: bool = False,
    participant: str | None = None,
    inverted: bool = False,
) -> str:
    """Start a session with the study's token and answer until ``next`` says 204; the session id."""
    created = client.post(
        f"/api/v1/studies/{study['id']}/sessions",
        json={
            "token": study["token"],
            "participant": participant,
            "display": {"width": 1600, "height": 1000, "device_pixel_ratio": 1.0},
        },
    )
    assert created.status_code == 201, created.text
    session_id = created.json()["id"]
    while True:
        trial = client.get(f"/api/v1/studies/{study['id']}/sessions/{session_id}/next")
        if trial.status_code == 204:
            return session_id
        assert trial.status_code == 200, trial.text
        stored = client.post(
            f"/api/v1/studies/{study['id']}/sessions/{session_id}/responses",
            json=answer(trial.json(), truth, rng, random_answers, inverted),
        )
        assert stored.status_code == 201, stored.text


def stack_user_headers(stack, name: str) -> dict[str, str]:
    """Bearer headers of a member ``name`` made in the stack's database (``tests.support.accounts``)."""
    import subprocess
    import sys
    from pathlib import Path

    code = f"from tests.support.accounts import make_user; print(make_user({name!r}).token)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=stack.env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    return {"Authorization": f"Bearer {done.stdout.strip().splitlines()[-1]}"}


def run_small_job_on_stack(
    stack, headers: dict[str, str], sizes=((64, 80), (72, 72)), rate_points=(10, 40, 90)
) -> dict:
    """The same tiny JPEG job as ``run_small_job_in_process``, run by the stack's real worker, as the user
    whose bearer ``headers`` are given."""
    files = photo_uploads(sizes)
    with stack.client() as client:
        client.headers.update(headers)
        image_set = client.post("/api/v1/image-sets", data={"name": "study"}, files=files)
        assert image_set.status_code == 201, image_set.text
        created = client.post(
            "/api/v1/jobs",
            json={
                "image_set_id": image_set.json()["id"],
                "codecs": [{"name": "jpeg", "rate_points": list(rate_points)}],
                "metrics": ["psnr"],
            },
        )
        assert created.status_code == 202, created.text
    with stack.client() as client:
        client.headers.update(headers)
        deadline = time.monotonic() + 300
        while (job := client.get(f"/api/v1/jobs/{created.json()['id']}").json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
    assert job["status"] == "succeeded", job
    return job


def study_on_stack(stack, headers: dict[str, str], spec: dict) -> dict:
    """A study (``POST /api/v1/studies`` with ``spec``) of a fresh small job run by the stack's real worker."""
    job = run_small_job_on_stack(stack, headers)
    with stack.client() as client:
        created = client.post("/api/v1/studies", headers=headers, json={**spec, "job_id": job["id"]})
        assert created.status_code == 201, created.text
    return created.json()
