"""Importing published studies over REST (issue 29, sections 2-3): pwcmp and AIC-3 CSVs, read-only imported
studies, bad input that names file/row/column and stores nothing, and the export -> import round trip."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from tests.support.studies import run_small_job_in_process, take_session, true_scale

AIC3_HEADER = [
    "worker",
    "method",
    "img_num",
    "codec_left",
    "codec_right",
    "codec_pivot",
    "dlevel_left",
    "dlevel_right",
    "dlevel_pivot",
    "img_left",
    "img_right",
    "img_pivot",
    "is_bias",
    "is_trap",
    "response",
    "extra",
]


@pytest.fixture
def small_bootstrap(monkeypatch):
    monkeypatch.setenv("STUDY_BOOTSTRAP", "10")
    from app.settings import get_settings

    get_settings.cache_clear()


def _import(api, files, **fields):
    data = {"name": "published", "format": "pwcmp", **fields}
    return api.post(
        "/api/v1/studies/import", data=data, files=[("files", (name, content, "text/csv")) for name, content in files]
    )


def _worker_scale(api, study_id: int) -> dict:
    """GET /scale answers 202 until the worker's function has run, then the scale."""
    assert api.get(f"/api/v1/studies/{study_id}/scale").status_code == 202
    from app.db.session import session_factory
    from app.services.studies import studies

    studies.compute_and_store_scale(session_factory(), study_id)
    scale = api.get(f"/api/v1/studies/{study_id}/scale")
    assert scale.status_code == 200, scale.text
    return scale.json()


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def aic3_csv(seed: int = 0, workers: int = 8, levels=(1, 2, 3, 4), img_num: int = 3) -> bytes:
    """A small AIC-3 response file: Thurstone observers (1.5 JND per level), PTC and BTC rows, traps, bias."""
    rng = np.random.default_rng(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AIC3_HEADER)
    name = lambda m, codec, level: f"{m}_{img_num:05d}_{'0ref' if codec == 0 else 'JPEG-AI'}_{level:02d}.png"  # noqa: E731
    for w in range(workers):
        for method in ("PTC", "BTC"):
            gain = 2.0 if method == "BTC" else 1.0
            for i, left in enumerate(levels):
                for right in levels[i + 1 :]:
                    for left_, right_ in ((left, right), (right, left)):
                        p = _phi(gain * 1.5 * (left_ - right_) / 1.4826)
                        response = "left" if rng.random() < p else "right"
                        writer.writerow(
                            [
                                f"w{w}",
                                method,
                                img_num,
                                1,
                                1,
                                0,
                                left_,
                                right_,
                                0,
                                name(method, 1, left_),
                                name(method, 1, right_),
                                name(method, 0, 0),
                                0,
                                0,
                                response,
                                "x",
                            ]
                        )
            trap_left = rng.random() < 0.5
            writer.writerow(
                [
                    f"w{w}",
                    method,
                    img_num,
                    0 if trap_left else 1,
                    1 if trap_left else 0,
                    0,
                    0 if trap_left else levels[-1],
                    levels[-1] if trap_left else 0,
                    0,
                    name(method, 0 if trap_left else 1, 0 if trap_left else levels[-1]),
                    name(method, 1 if trap_left else 0, levels[-1] if trap_left else 0),
                    name(method, 0, 0),
                    0,
                    1,
                    "right" if trap_left else "left",
                    "",
                ]
            )
            writer.writerow(
                [
                    f"w{w}",
                    method,
                    img_num,
                    1,
                    1,
                    0,
                    2,
                    2,
                    0,
                    name(method, 1, 2),
                    name(method, 1, 2),
                    name(method, 0, 0),
                    1,
                    0,
                    "notsure",
                    "",
                ]
            )
        writer.writerow(
            [
                f"w{w}",
                "PTC",
                img_num,
                1,
                1,
                0,
                1,
                2,
                0,
                name("PTC", 1, 1),
                name("PTC", 1, 2),
                name("PTC", 0, 0),
                0,
                0,
                "skip",
                "",
            ]
        )
    return out.getvalue().encode()


def test_export_reimport_gives_the_same_scores_and_is_read_only(api, small_bootstrap):
    job = run_small_job_in_process(api)
    study = api.post(
        "/api/v1/studies",
        json={"name": "native", "method": "pairwise", "job_id": job["id"], "trials_per_session": 12, "crop": 48},
    ).json()
    rng = np.random.default_rng(5)
    truth = true_scale(study["conditions"], step=1.0)
    for _ in range(5):
        take_session(api, study, truth, rng)
    native = api.get(f"/api/v1/studies/{study['id']}/scale").json()
    exported = api.get(f"/api/v1/studies/{study['id']}/responses?format=csv").content

    created = _import(api, [("study.csv", exported)], visibility="public")
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "name", "method", "imported", "answers", "observers", "conditions"}
    assert body["method"] == "pairwise" and body["imported"] is True and body["observers"] == 5
    assert {c["label"] for c in body["conditions"] if c["reference"]} == {"reference"}
    listed = next(s for s in api.get("/api/v1/studies").json() if s["id"] == body["id"])
    assert listed["job_id"] is None and listed["imported"] is True and listed["status"] == "closed"

    imported = _worker_scale(api, body["id"])
    assert imported["unit"] == "JOD"
    mine = {(c["group"], c["label"]): c for c in imported["conditions"]}
    for c in native["conditions"]:
        if c["score"] is None:
            continue
        twin = mine[(c["group"], c["label"])]
        assert twin["result_id"] is None and twin["image_id"] is None and twin["bpp"] is None
        assert twin["score"] == pytest.approx(c["score"], abs=1e-3), c["label"]

    sid = body["id"]
    assert api.post(f"/api/v1/studies/{sid}/sessions", json={"token": "x"}).status_code == 409
    assert api.post(f"/api/v1/studies/{sid}/close").status_code == 409
    assert api.get(f"/api/v1/studies/{sid}/correlation").status_code == 409
    assert api.get(f"/api/v1/studies/{sid}/report").status_code == 409
    page = api.get(f"/studies/{sid}")  # the owner page shows it read-only, without a participant link
    assert page.status_code == 200 and "read-only" in page.text and "participant-link" not in page.text
    assert api.get(f"/studies/{sid}/take?token=x").status_code == 403


def test_aic3_btc_and_ptc_files_import_as_one_triplet_study(api, small_bootstrap):
    ptc_and_btc = aic3_csv()
    created = _import(
        api, [("sdr_part1.csv", ptc_and_btc), ("sdr_part2.csv", aic3_csv(seed=1, workers=4))], format="aic3"
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["method"] == "triplet" and body["observers"] == 16  # <method>:<worker>, as aic3_csv names them
    labels = {c["label"] for c in body["conditions"]}
    assert "PTC_00003_JPEG-AI_04.png" in labels and not any(label.startswith("BTC") for label in labels)
    assert [c["label"] for c in body["conditions"] if c["reference"]] == ["PTC_00003_0ref_00.png"]
    scale = _worker_scale(api, body["id"])
    assert scale["unit"] == "JND"
    jnd = {c["label"]: c["jnd"] for c in scale["conditions"]}
    assert jnd["PTC_00003_0ref_00.png"] == pytest.approx(0.0)
    assert jnd["PTC_00003_JPEG-AI_01.png"] < jnd["PTC_00003_JPEG-AI_04.png"]
    assert all(c["codec"] in ("0ref", "JPEG-AI") and c["group"] == "3" for c in scale["conditions"])


PWCMP = b"observer,scene,condition_A,condition_B,is_A_selected\no1,s1,ref,x,1\no1,s1,x,y,0\n"


@pytest.mark.parametrize(
    "files, fields, status, words",
    [
        ([("a.csv", PWCMP)], {"format": "bradley"}, 422, ["format", "bradley"]),
        (
            [("a.csv", b"observer,scene,condition_A,is_A_selected\no,s,x,1\n")],
            {},
            422,
            ["a.csv", "row 1", "condition_B"],
        ),
        ([("a.csv", PWCMP + b"o2,s1,ref,y,2\n")], {}, 422, ["a.csv", "row 4", "is_A_selected"]),
        (
            [("b.csv", aic3_csv(workers=1).replace(b",notsure,", b",maybe,", 1))],
            {"format": "aic3"},
            422,
            ["b.csv", "column response", "maybe"],
        ),
        ([("a.csv", b"\x89PNG\r\n\x1a\n\x00\x00")], {}, 422, ["a.csv", "binary"]),
        ([("a.csv", b"")], {}, 422, ["a.csv", "empty"]),
        (
            [("a.csv", PWCMP)],
            {"reference": "ref", "_extra": b"observer,scene,condition_A,condition_B,is_A_selected\no1,s2,x,y,1\n"},
            422,
            ["group 's2'", "ref"],
        ),
    ],
)
def test_bad_imports_name_file_row_column_and_store_nothing(api, files, fields, status, words):
    fields = dict(fields)
    extra = fields.pop("_extra", None)
    if extra:
        files = files + [("c.csv", extra)]
    response = _import(api, files, **fields)
    assert response.status_code == status, response.text
    for word in words:
        assert word in response.json()["detail"]
    assert api.get("/api/v1/studies").json() == []


def test_file_over_the_upload_limit_is_413_and_stores_nothing(api, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setattr(get_settings(), "max_upload_bytes", len(PWCMP) - 1)
    response = _import(api, [("big.csv", PWCMP)])
    assert response.status_code == 413 and "big.csv" in response.json()["detail"]
    assert api.get("/api/v1/studies").json() == []


def test_pwcmp_reference_label_scores_zero_and_mean0_without_it(api, small_bootstrap):
    rows = ["observer,scene,condition_A,condition_B,is_A_selected"]
    rng = np.random.default_rng(2)
    quality = {"ref": 0.0, "x": -1.0, "y": -2.0}
    for o in range(5):
        for a, b in (("ref", "x"), ("x", "y"), ("ref", "y")) * 3:
            rows.append(f"o{o},s1,{a},{b},{int(rng.random() < _phi((quality[a] - quality[b]) / 1.4826))}")
    content = ("\n".join(rows) + "\n").encode()
    anchored = _worker_scale(api, _import(api, [("a.csv", content)], reference="ref").json()["id"])
    scores = {c["label"]: c["score"] for c in anchored["conditions"]}
    assert scores["ref"] == pytest.approx(0.0) and scores["y"] < scores["x"] < 0
    centred = _worker_scale(api, _import(api, [("a.csv", content)]).json()["id"])
    assert sum(c["score"] for c in centred["conditions"]) == pytest.approx(0.0, abs=1e-6)
