"""Correlation of metrics with people: statistics against scipy and known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.correlation import (
    Observation,
    TwoAFCPair,
    agreement,
    correlate,
    family_bias,
    fit_logistic,
    krocc,
    orient,
    plcc,
    srocc,
    two_afc_agreement,
    williams_test,
    worst_disagreements,
)
from analysis.correlation.bootstrap import ImageBootstrap
from analysis.correlation.logistic import logistic4, logistic5


def study(n_images=12, n_conditions=10, seed=0, noise=0.25):
    """Synthetic study: a latent quality q per condition; 'good' tracks it, 'lpips_like' is lower-is-better,
    'random' ignores it; learned conditions are liked 0.5 more by people than 'good' predicts."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_images):
        offset = rng.normal(0, 0.3)
        for c in range(n_conditions):
            q = rng.uniform(0, 1)
            family = "learned" if c % 2 else "classical"
            human = 4 * q + offset + (0.5 if family == "learned" else 0.0) + rng.normal(0, noise)
            out.append(
                Observation(
                    {
                        "good": 20 + 20 * q + rng.normal(0, 1.0),
                        "lpips_like": 0.8 - 0.7 * q + rng.normal(0, 0.15),
                        "random": rng.normal(),
                        "sometimes": (q if c != 3 else None),
                    },
                    human=human,
                    image=f"img{i}",
                    condition=f"c{c}",
                    codec=["jpeg", "mbt2018"][c % 2],
                    family=family,
                    bpp=0.1 + 1.5 * q + rng.uniform(0, 0.1),
                )
            )
    return out


METRICS = {"good": True, "lpips_like": False, "random": True}


def test_orient_negates_lower_is_better():
    values, flipped = orient([0.1, 0.5], higher_is_better=False)
    assert flipped and values.tolist() == [-0.1, -0.5]
    values, flipped = orient([1, 2], higher_is_better=True)
    assert not flipped and values.tolist() == [1.0, 2.0]


def test_coefficients_match_scipy():
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    y = x + rng.normal(size=60)
    x[5] = x[6]  # a tie
    assert srocc(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert krocc(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)
    assert plcc(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    assert srocc([1, 1, 1, 1], [1, 2, 3, 4]) is None
    assert srocc([1, 2, 3], [1, 2, 3]) is None  # too few conditions


@pytest.mark.parametrize(
    "form,params,fn",
    [
        ("logistic4", (5.0, 1.0, 30.0, 2.5), logistic4),
        ("logistic5", (3.0, 0.4, 30.0, 0.02, 3.0), logistic5),
    ],
)
def test_fit_recovers_a_known_logistic(form, params, fn):
    rng = np.random.default_rng(0)
    x = rng.uniform(20, 40, 400)
    truth = fn(x, *params)
    y = truth + rng.normal(0, 0.02, x.size)
    fit = fit_logistic(x, y, form=form)
    assert not fit.failed
    assert np.max(np.abs(fit.predict(x) - truth)) < 0.05
    if form == "logistic4":
        assert fit.params == pytest.approx(params, rel=0.02)
    result = agreement(x, y, fit=form)
    assert result.plcc == pytest.approx(stats.pearsonr(fit.predict(x), y).statistic, abs=1e-9)
    assert result.plcc > stats.pearsonr(x, y).statistic  # the nonlinearity is taken out
    assert result.rmse == pytest.approx(0.02, rel=0.2)


def test_a_metric_that_disagrees_is_not_rescued_by_a_decreasing_fit():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 200)
    y = -3 * x + rng.normal(0, 0.2, 200)  # people disagree with the metric
    result = agreement(x, y)
    assert result.fit.failed and "flat" in result.fit.reason
    assert result.plcc == pytest.approx(stats.pearsonr(x, y).statistic)  # unfitted PLCC, negative
    assert result.plcc < -0.9 and result.srocc < -0.9 and result.rmse is None


def test_report_rows_orientation_and_coefficients_against_scipy():
    observations = study()
    report = correlate(observations, METRICS, n_bootstrap=200).to_dict()
    rows = {row["metric"]: row for row in report["metrics"]}
    assert [r["metric"] for r in report["metrics"]] == ["good", "lpips_like", "random"]  # ranked by SROCC
    y = np.array([o.human for o in observations])
    lp = np.array([o.metric_values["lpips_like"] for o in observations])
    assert rows["lpips_like"]["flipped"] is True and rows["good"]["flipped"] is False
    assert rows["lpips_like"]["srocc"] == pytest.approx(-stats.spearmanr(lp, y).statistic)
    assert rows["lpips_like"]["krocc"] == pytest.approx(-stats.kendalltau(lp, y).statistic)
    assert rows["lpips_like"]["srocc"] > 0.7 and rows["good"]["plcc"] > 0.7
    assert abs(rows["random"]["srocc"]) < 0.25
    for row in rows.values():
        assert row["n"] == len(observations) and row["resampled"] == "image"
        lo, hi = row["srocc_ci"]
        assert lo <= row["srocc"] <= hi
        assert row["fit"]["form"] == "logistic4"
    assert report["n"] == len(observations) and report["groups"] == {}


def test_none_values_leave_only_that_metric_short():
    observations = study()
    report = correlate(observations, {"good": True, "sometimes": True}, n_bootstrap=100).to_dict()
    rows = {row["metric"]: row for row in report["metrics"]}
    assert rows["good"]["n"] == len(observations)
    assert rows["sometimes"]["n"] == len(observations) - 12  # condition c3 on each of 12 images
    (comparison,) = report["comparisons"]
    assert comparison["n"] == len(observations) - 12


def test_bootstrap_is_reproducible_with_a_seed_and_changes_with_another():
    observations = study()
    first = correlate(observations, METRICS, n_bootstrap=300, seed=7).to_dict()
    again = correlate(observations, METRICS, n_bootstrap=300, seed=7).to_dict()
    other = correlate(observations, METRICS, n_bootstrap=300, seed=8).to_dict()
    assert first == again
    assert first["metrics"][0]["srocc_ci"] != other["metrics"][0]["srocc_ci"]


def test_resamples_keep_every_condition_of_an_image_together_and_match_scipy():
    observations = study(n_images=6, n_conditions=5)
    labels = [o.image for o in observations]
    boot = ImageBootstrap(labels, 50, seed=2)
    x = np.array([o.metric_values["good"] for o in observations])
    y = np.array([o.human for o in observations])
    x[:3] = x[0]  # ties inside the resamples
    fast = boot.spearman(x, y)
    fast_pearson = boot.pearson(x, y)
    for k in range(50):
        idx = boot.indices(k)
        counts = np.bincount(idx, minlength=len(observations))
        for image in set(labels):
            members = [i for i, label in enumerate(labels) if label == image]
            assert len(set(counts[members])) == 1  # all conditions of a source image drawn together
        assert fast[k] == pytest.approx(stats.spearmanr(x[idx], y[idx]).statistic, abs=1e-10)
        assert fast_pearson[k] == pytest.approx(stats.pearsonr(x[idx], y[idx]).statistic, abs=1e-10)


def test_interval_coverage_on_simulated_data():
    """Over repeated simulated studies, the 95% interval covers the population SROCC most of the time."""
    rng = np.random.default_rng(11)
    big = study(n_images=400, n_conditions=10, seed=99)
    x = np.array([o.metric_values["good"] for o in big])
    truth = stats.spearmanr(x, [o.human for o in big]).statistic
    covered = 0
    for _ in range(20):
        report = correlate(study(n_images=15, seed=int(rng.integers(1 << 30))), {"good": True}, n_bootstrap=300)
        lo, hi = report.metrics[0].srocc_ci
        covered += lo <= truth <= hi
    assert covered >= 16


def test_breakdowns_by_family_codec_band_and_image():
    observations = study()
    by_family = correlate(observations, METRICS, n_bootstrap=50, group="family").to_dict()
    assert list(by_family["groups"]) == ["classical", "learned"]
    assert {r["metric"] for r in by_family["groups"]["learned"]} == set(METRICS)
    assert by_family["groups"]["learned"][0]["n"] == len(observations) // 2
    by_band = correlate(observations, METRICS, n_bootstrap=50, group="band").to_dict()
    assert list(by_band["groups"]) == ["low", "mid", "high"]
    assert sum(rows[0]["n"] for rows in by_band["groups"].values()) == len(observations)
    by_image = correlate(study(n_images=3), METRICS, n_bootstrap=50, group="image").to_dict()
    assert list(by_image["groups"]) == ["img0", "img1", "img2"]
    assert by_image["groups"]["img0"][0]["resampled"] == "condition"  # one source image: conditions resampled
    by_codec = correlate(observations, METRICS, n_bootstrap=0, group="codec").to_dict()
    assert set(by_codec["groups"]) == {"jpeg", "mbt2018"}
    assert by_codec["groups"]["jpeg"][0]["srocc_ci"] is None  # no bootstrap asked for
    with_distortion = [
        Observation({"m": float(i)}, float(i % 7), f"im{i % 3}", str(i), distortion=["blur", "noise"][i % 2])
        for i in range(40)
    ]
    assert set(correlate(with_distortion, {"m": True}, n_bootstrap=0, group="distortion").groups) == {"blur", "noise"}


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="unknown group 'colour'"):
        correlate(study(), METRICS, group="colour")
    with pytest.raises(ValueError, match="unknown fit 'cubic'"):
        correlate(study(), METRICS, fit="cubic")


def test_comparisons_bootstrap_and_williams():
    observations = study()
    report = correlate(observations, METRICS, n_bootstrap=500).to_dict()
    pairs = {(c["a"], c["b"]): c for c in report["comparisons"]}
    assert set(pairs) == {("good", "lpips_like"), ("good", "random"), ("lpips_like", "random")}
    clear = pairs[("good", "random")]
    assert clear["delta_srocc"] > 0.5 and clear["p_bootstrap"] < 0.01 and clear["p_williams"] < 1e-6
    copies = [
        Observation({**o.metric_values, "copy": o.metric_values["good"]}, o.human, o.image, o.condition)
        for o in observations
    ]
    (same,) = correlate(copies, {"good": True, "copy": True}, n_bootstrap=200).comparisons
    assert same.delta_srocc == 0 and same.p_bootstrap == 1.0 and same.p_williams == 1.0


def test_williams_worked_example_and_properties():
    # Worked by hand: r12=.6, r13=.4, r23=.5, n=40: |R| = .47, t = .2 sqrt(58.5 / (2 (39/37) .47 + .25 .125)) = 1.5131
    t, p = williams_test(0.6, 0.4, 0.5, 40)
    assert t == pytest.approx(1.5131, abs=1e-4)
    assert p == pytest.approx(2 * stats.t.sf(1.5131, 37), abs=1e-4)
    assert williams_test(0.6, 0.4, 0.5, 40, two_sided=False)[1] == pytest.approx(p / 2)
    t_swapped, p_swapped = williams_test(0.4, 0.6, 0.5, 40)
    assert t_swapped == pytest.approx(-t) and p_swapped == pytest.approx(p)
    assert williams_test(0.5, 0.5, 0.3, 30) == (0.0, 1.0)
    # more data or more correlated metrics make the same difference more significant
    assert williams_test(0.6, 0.4, 0.5, 400)[1] < p
    assert williams_test(0.6, 0.4, 0.9, 40)[1] < p
    with pytest.raises(ValueError):
        williams_test(0.6, 0.4, 0.5, 3)


def test_williams_false_positive_rate_under_the_null():
    """Two metrics equally correlated with people: about 5% of simulated studies reject at 0.05."""
    rng = np.random.default_rng(5)
    n, trials, rejected = 40, 600, 0
    cov = np.array([[1, 0.5, 0.5], [0.5, 1, 0.4], [0.5, 0.4, 1]])
    for _ in range(trials):
        h, a, b = rng.multivariate_normal(np.zeros(3), cov, size=n).T
        r12, r13, r23 = np.corrcoef(h, a)[0, 1], np.corrcoef(h, b)[0, 1], np.corrcoef(a, b)[0, 1]
        rejected += williams_test(r12, r13, r23, n)[1] < 0.05
    assert 0.025 < rejected / trials < 0.085


def test_two_afc_agreement():
    pairs = [
        TwoAFCPair(0.9, 0.1, True, "o1"),
        TwoAFCPair(0.2, 0.8, False, "o1"),
        TwoAFCPair(0.3, 0.7, True, "o2"),
        TwoAFCPair(0.5, 0.5, True, "o3"),
        TwoAFCPair(float("nan"), 0.5, True, "o3"),
    ]
    result = two_afc_agreement(pairs, n_bootstrap=200)
    assert result.n == 4 and result.share == pytest.approx((1 + 1 + 0 + 0.5) / 4)
    lo, hi = result.ci
    assert 0 <= lo <= result.share <= hi <= 1
    flipped = two_afc_agreement(pairs, higher_is_better=False, n_bootstrap=0)
    assert flipped.share == pytest.approx((0 + 0 + 1 + 0.5) / 4) and flipped.ci is None
    assert two_afc_agreement([], n_bootstrap=10).share is None


def test_worst_disagreements_find_the_outlier_and_the_contradicted_order():
    observations = study(n_images=8, n_conditions=8, noise=0.05)
    outlier = observations[10]
    observations[10] = Observation(
        {**outlier.metric_values, "good": outlier.metric_values["good"] + 15},
        outlier.human,
        outlier.image,
        "the outlier",
    )
    worst = worst_disagreements(observations, "good", True, top=3)
    assert worst.residuals[0].observation.condition == "the outlier"
    assert worst.residuals[0].residual < 0  # the metric over-rates it
    assert worst.contradicting_pairs == []  # no intervals given, so no confident human order
    a = Observation({"m": 1.0}, 4.0, "x", "a", human_ci=(3.5, 4.5))
    b = Observation({"m": 2.0}, 2.0, "x", "b", human_ci=(1.5, 2.5))
    c = Observation({"m": 3.0}, 2.2, "x", "c", human_ci=(1.0, 3.6))  # overlaps a: not confident
    d = Observation({"m": 0.0}, 1.0, "y", "d", human_ci=(0.5, 1.5))  # another image: never paired
    (pair,) = worst_disagreements([a, b, c, d], "m", True).contradicting_pairs
    assert (pair.better.condition, pair.worse.condition, pair.human_gap) == ("a", "b", pytest.approx(1.0))


def test_family_bias_recovers_the_planted_offset():
    observations = study(n_images=20, noise=0.1)
    bias = {b.family: b for b in family_bias(observations, "good", True, n_bootstrap=300)}
    # people like learned conditions 0.5 more than 'good' says; one mapping for both families splits it
    assert bias["learned"].mean_residual - bias["classical"].mean_residual == pytest.approx(0.5, abs=0.15)
    assert bias["learned"].mean_residual > 0 > bias["classical"].mean_residual
    lo, hi = bias["learned"].ci
    assert lo <= bias["learned"].mean_residual <= hi
