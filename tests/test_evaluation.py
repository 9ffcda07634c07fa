"""Evaluation on a tiny zoo, and the representations and metrics against hand-computed cases."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("tensorflow")


def test_detection_metrics_hand_computed():
    from sac_tf.metrics import detection_auc, detection_f1

    # Stolen at 0.1, 0.3; innocent at 0.2, 0.4: pairs (s < i) are 3 of 4.
    assert detection_auc([0.1, 0.3], [0.2, 0.4]) == pytest.approx(0.75)
    assert detection_auc([0.1], [0.2, 0.4]) == 1.0
    # Threshold 0.25 flags 0.1 (TP) and 0.2 (FP), misses 0.3: precision 1/2, recall 1/2.
    assert detection_f1([0.1, 0.3], [0.2, 0.4], threshold=0.25) == pytest.approx(0.5)


def test_shift_invariant_representations():
    from sac_tf.evaluation import centred_correlation, log_softmax_correlation, logit_correlation

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 10))
    shifted = logits + rng.normal(scale=5.0, size=(6, 1))  # per-sample shift, same softmax
    np.testing.assert_allclose(centred_correlation(logits), centred_correlation(shifted), atol=1e-9)
    np.testing.assert_allclose(
        log_softmax_correlation(logits), log_softmax_correlation(shifted), atol=1e-9
    )
    assert not np.allclose(logit_correlation(logits), logit_correlation(shifted))


def test_unknown_method_is_a_clear_error():
    from sac_tf.evaluation import EvaluationError, get_methods

    with pytest.raises(EvaluationError, match="Unknown method"):
        get_methods("sac-jc,nope")
    assert [m.name for m in get_methods("all")][0] == "sac-jc"


def test_evaluate_tiny_zoo(tiny_zoo, tmp_path):
    from sac_tf.evaluation import evaluate_zoo

    results = evaluate_zoo(
        tiny_zoo,
        methods="sac-jc,sac-jc-centred,sac-m,ipguard,modeldiff",
        probes=40,
        out_dir=tmp_path,
        progress=False,
    )
    assert results.methods[0] == "sac-jc"
    categories = set(results.stolen_categories())
    assert categories == {"finetune-A", "extract-L", "transfer", "tflite-fp16"}
    for result in results.categories:
        if result.role == "stolen":
            assert 0.0 <= result.auc <= 1.0
            assert 0.0 <= result.f1 <= 1.0
    # The fine-tuned copy and the float16 copy sit far closer to the victim than innocents.
    assert results.category("sac-jc", "finetune-A").auc == 1.0
    assert results.category("sac-jc", "tflite-fp16").auc == 1.0
    # Transfer models are judged against their own task's innocents.
    transfer = results.category("sac-jc", "transfer")
    assert transfer.task == "transfer" and transfer.agreement is None
    data = results.to_dict()
    json.dumps(data)  # plain types only
    assert {"categories", "suspects", "thresholds"} <= set(data)
    assert all(0.0 <= s["p_value"] <= 1.0 for s in data["suspects"])
    for name in (
        "results.json",
        "categories.csv",
        "suspects.csv",
        "results.md",
        "roc_sac-jc.png",
        "distances_ipguard.png",
        "heatmaps_sac-jc.png",
    ):
        assert (tmp_path / name).is_file(), name
    assert "sac-jc" in results.summary()
    assert "AUC same-arch" in results.table("sac-jc")


def test_cli_zoo_and_evaluate(tiny_zoo, tmp_path, capsys):
    import argparse

    from sac_tf.cli_zoo import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        [
            "evaluate",
            str(tiny_zoo.folder),
            "--methods",
            "sac-jc,ipguard",
            "--probes",
            "30",
            "--out",
            str(tmp_path),
            "--no-plots",
            "--quiet",
        ]
    )
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "sac-jc AUC" in printed and "ipguard" in printed
    args = parser.parse_args(["zoo", "build", "quick", "--out", str(tmp_path / "z"), "--dry-run"])
    assert args.func(args) == 0
    assert "extract-P-0" in capsys.readouterr().out
