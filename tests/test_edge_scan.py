"""Tests for edge.scan: whole scans of apps, verdicts per model, output choice."""

from __future__ import annotations

import numpy as np
import pytest
from conftest_edge import edge_corpus

from edge.probe_mapping import NotApplicable
from edge.scan import ScanOptions, choose_output, scan
from edge.tflite_reader import ModelInfo, TensorInfo
from sac_tf.fingerprint import Fingerprint


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return edge_corpus(tmp_path_factory)


@pytest.fixture(scope="session")
def apk_report(corpus):
    return scan([corpus.apps["apk"]], corpus.fingerprint, ScanOptions(jobs=2))


def _by_name(report):
    return {m.location.split("!/")[-1]: m for m in report.models}


def test_apk_flags_stolen_int8_and_clears_independent(apk_report):
    models = _by_name(apk_report)
    assert models["assets/digit_recognizer.bin"].verdict == "stolen"  # int8, fixed batch
    assert models["res/raw/splash.png"].verdict == "stolen"  # float16
    assert models["assets/blob"].verdict == "stolen"  # the victim itself, dynamic batch
    assert models["assets/ml/helper.model"].verdict == "not-stolen"
    assert models["assets/blob"].batched and not models["assets/digit_recognizer.bin"].batched
    assert all(m.status == "scanned" and m.input_mapping for m in models.values())
    assert apk_report.exit_code == 1


def test_clean_xapk_and_metadata_model(corpus):
    report = scan([corpus.apps["clean_apk"], corpus.models["independent_with_metadata"]], corpus.fingerprint)
    assert [m.verdict for m in report.models] == ["not-stolen", "not-stolen"]
    assert report.models[1].input_mapping.count("metadata normalisation") == 1
    assert report.exit_code == 0


def test_every_bad_input_gets_a_status(corpus):
    paths = [*corpus.bad.values(), corpus.models["custom_op"], corpus.models["flex_op"],
             corpus.models["two_inputs"], corpus.models["vector_input"], corpus.apps["runtime_only_apk"],
             corpus.apps["encrypted_apk"]]
    report = scan(paths, corpus.fingerprint)
    statuses = {m.location.rsplit("/", 1)[-1]: m.status for m in report.models}
    assert statuses["truncated.tflite"] == "corrupt-model"
    assert statuses["garbage.tflite"] == "corrupt-model"
    assert statuses["custom_op.tflite"] == "unsupported-ops"
    assert statuses["flex_op.tflite"] == "unsupported-ops"
    assert statuses["two_inputs.tflite"] == "not-applicable"
    assert statuses["vector_input.tflite"] == "not-applicable"
    findings = {f.status for f in report.findings}
    assert {"empty", "corrupt-archive", "unsafe-path", "zip-bomb", "too-deep", "symlink",
            "runtime-without-model", "encrypted-model"} <= findings
    assert report.exit_code == 0


def test_multi_output_model_uses_logits(corpus):
    report = scan([corpus.models["multi_output"]], corpus.fingerprint)
    (model,) = report.models
    assert model.status == "scanned", model.reason
    assert "(10 values)" in model.result.output_used


def _tensor(index, name):
    return TensorInfo(index, name, (1, 10), (1, 10), "float32")


def test_choose_output_rule(corpus):
    fp = Fingerprint.load(corpus.fingerprint)
    n = fp.num_probes
    info = ModelInfo(0, "", 3, None, 1, (), (_tensor(1, "boxes"), _tensor(2, "scores_logits"), _tensor(3, "emb")),
                     {}, (), ())
    outputs = {1: np.zeros((n, 4)), 2: np.zeros((n, 5)), 3: np.zeros((n, 10))}
    assert choose_output(info, outputs, fp).index == 2  # named like the fingerprint's kind
    info2 = ModelInfo(0, "", 3, None, 1, (), (_tensor(1, "a"), _tensor(3, "b")), {}, (), ())
    assert choose_output(info2, {1: np.zeros((n, 64)), 3: np.zeros((n, 10))}, fp).index == 3  # victim's width
    assert choose_output(info2, {1: np.zeros((n, 64)), 3: np.zeros((n, 12))}, fp).index == 1  # widest
    with pytest.raises(NotApplicable):
        choose_output(info2, {1: np.zeros((n, 1)), 3: np.zeros((1, 12))}, fp)


def test_uncalibrated_fingerprint_is_inconclusive(corpus, tmp_path):
    fp = Fingerprint.load(corpus.fingerprint)
    from dataclasses import replace

    path = replace(fp, calibration=None).save(tmp_path / "raw.sacfp")
    report = scan([corpus.models["stolen_int8_fixed"]], path)
    assert report.models[0].verdict == "inconclusive" and report.exit_code == 0
    assert "not calibrated" in report.summary()
