"""Tests for edge.report: table, JSON and clamscan-like exit codes."""

from __future__ import annotations

import json

from edge.archive import Finding
from edge.report import ModelReport, ScanReport
from sac_tf.fingerprint import VerificationResult


def _model(verdict):
    result = VerificationResult(0.05, 0.2, 0.001, 0.0, verdict, "logits (10 values)")
    return ModelReport("app.apk!/m.bin", 100, "ab" * 32, "scanned", result=result)


def test_exit_codes_and_summary():
    assert ScanReport([_model("not-stolen")], []).exit_code == 0
    report = ScanReport([_model("stolen"), ModelReport("x", 1, "", "crashed", reason="killed by SIGSEGV")],
                        [Finding("a.apk", "zip-bomb", "too big")])
    assert report.exit_code == 1
    assert report.summary() == "2 model(s) found, 1 scanned, 1 stolen, 1 finding(s)"
    table = report.table()
    assert "stolen" in table and "reason: killed by SIGSEGV" in table and "zip-bomb" in table


def test_json_round_trip():
    data = json.loads(ScanReport([_model("stolen")], [], fingerprint="fp").to_json())
    (model,) = data["models"]
    assert model["verdict"] == "stolen" and model["p_value"] == 0.001 and data["exit_code"] == 1
