"""Tests for edge.cli: ``sac-edge scan`` / ``inspect``, exit codes, and no TensorFlow anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from conftest_edge import edge_corpus

from edge.cli import main


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return edge_corpus(tmp_path_factory)


def test_scan_apk_exit_1_and_json(corpus, tmp_path, capsys):
    out = tmp_path / "report.json"
    code = main(["scan", str(corpus.apps["apk"]), "--fingerprint", str(corpus.fingerprint), "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "digit_recognizer.bin" in captured.out and "[4/4]" in captured.err
    data = json.loads(out.read_text())
    assert data["exit_code"] == 1 and len(data["models"]) == 4


def test_scan_clean_exit_0(corpus, capsys):
    assert main(["scan", str(corpus.apps["clean_apk"]), "-f", str(corpus.fingerprint), "-q"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("fingerprint", ["missing", "not_fingerprint"])
def test_bad_fingerprint_is_one_line_exit_2(corpus, tmp_path, capsys, fingerprint):
    path = tmp_path / "nope.sacfp" if fingerprint == "missing" else corpus.bad["not_fingerprint"]
    assert main(["scan", str(corpus.apps["apk"]), "-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sac-edge: error:") and err.count("\n") == 1 and "Traceback" not in err


def test_missing_input_exit_2(corpus, tmp_path, capsys):
    assert main(["scan", str(tmp_path / "none.apk"), "-f", str(corpus.fingerprint)]) == 2
    assert "no such file" in capsys.readouterr().err


def test_inspect_text_and_json(corpus, capsys):
    assert main(["inspect", str(corpus.models["flex_op"])]) == 0
    assert "FlexAtan" in capsys.readouterr().out
    assert main(["inspect", str(corpus.models["stolen_int8_fixed"]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["inputs"][0]["dtype"] == "int8"
    assert main(["inspect", str(corpus.bad["truncated_model"])]) == 2
    assert capsys.readouterr().err.startswith("sac-edge: error: corrupt")


def test_scan_and_worker_never_import_tensorflow(corpus):
    script = textwrap.dedent(
        f"""
        import sys
        import edge
        from edge.cli import main
        code = main(["scan", {str(corpus.apps["apk"])!r}, "-f", {str(corpus.fingerprint)!r}, "-q"])
        assert code == 1, code
        import edge.worker, ai_edge_litert.interpreter  # what every worker imports
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras"))
        assert not heavy, heavy
        print("NO_TENSORFLOW")
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert "NO_TENSORFLOW" in result.stdout, result.stderr[-2000:]
