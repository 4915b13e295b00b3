"""gMAD (Ma et al. 2018) on constructed scores: near-equal defender, farthest attacker, same source image."""

from __future__ import annotations

import pytest

from analysis.gmad import GmadItem, GmadJudgement, gmad_pairs, gmad_summary


def item(result_id, image, defender, attacker, codec="jpeg", rate_point=50, bpp=0.5):
    return GmadItem(result_id, image, codec, rate_point, bpp, defender, attacker)


def test_picks_the_pair_the_defender_cannot_tell_apart_and_the_attacker_separates_most():
    items = [
        item(1, "a", 30.00, 0.90),
        item(2, "a", 30.05, 0.60),  # defender equal, attacker far apart
        item(3, "a", 30.10, 0.85),
        item(4, "a", 40.00, 0.10),  # attacker far from everything, but defender differs a lot
        item(5, "a", 20.00, 0.99),
    ]
    # range on image a is 20 dB -> default tolerance 2% = 0.4 dB
    (best,) = gmad_pairs(items, pairs=1)
    assert (best.a.result_id, best.b.result_id) == (1, 2)  # a = the one the attacker rates better
    assert best.defender_gap == pytest.approx(0.05) and best.attacker_gap == pytest.approx(0.30)
    assert best.tolerance == pytest.approx(0.4)
    assert best.to_dict()["a"] == {
        "result_id": 1,
        "codec": "jpeg",
        "rate_point": 50,
        "bpp": 0.5,
        "defender": 30.0,
        "attacker": 0.9,
    }


def test_only_reconstructions_of_the_same_image_are_paired_and_each_is_used_once():
    items = [
        item(1, "a", 30.0, 0.9),
        item(2, "b", 30.0, 0.1),  # equal defender, different images
        item(3, "a", 30.1, 0.5),
        item(4, "a", 30.2, 0.2),
        item(5, "a", 10.0, 0.4),
    ]
    found = gmad_pairs(items, pairs=10)
    assert all(p.image == "a" for p in found)
    used = [p.a.result_id for p in found] + [p.b.result_id for p in found]
    assert len(used) == len(set(used))
    assert (found[0].a.result_id, found[0].b.result_id) == (1, 4)


def test_tolerance_parameter_and_lower_is_better_attacker():
    items = [item(1, "a", 0.10, 0.30), item(2, "a", 0.20, 0.05), item(3, "a", 0.90, 0.50)]
    assert gmad_pairs(items, tolerance=0.05) == []
    (pair,) = gmad_pairs(items, tolerance=0.15, attacker_higher_is_better=False)
    assert (pair.a.result_id, pair.b.result_id) == (2, 1)  # lower LPIPS-like value = better


def test_missing_values_are_skipped_and_bad_arguments_refused():
    items = [item(1, "a", 30.0, None), item(2, "a", 30.0, 0.5), item(3, "a", None, 0.1)]
    assert gmad_pairs(items) == []
    with pytest.raises(ValueError):
        gmad_pairs(items, pairs=0)
    with pytest.raises(ValueError):
        gmad_pairs(items, tolerance=-1)


def test_summary_aggressiveness_and_resistance():
    judgements = [
        # LPIPS attacking PSNR: people side with LPIPS -> LPIPS aggressive, PSNR not resistant
        GmadJudgement("psnr", "lpips", 1.0),
        GmadJudgement("psnr", "lpips", 0.8),
        # PSNR attacking LPIPS: people do not side with PSNR -> LPIPS resistant
        GmadJudgement("lpips", "psnr", 0.0),
        GmadJudgement("lpips", "psnr", 0.5),
    ]
    scores = {s.metric: s for s in gmad_summary(judgements)}
    assert scores["lpips"].aggressiveness == pytest.approx(0.9)
    assert scores["lpips"].resistance == pytest.approx(0.75)
    assert scores["psnr"].aggressiveness == pytest.approx(0.25)
    assert scores["psnr"].resistance == pytest.approx(0.1)
    assert [s.metric for s in gmad_summary(judgements)] == ["lpips", "psnr"]
    with pytest.raises(ValueError):
        gmad_summary([GmadJudgement("a", "b", 2.0)])
