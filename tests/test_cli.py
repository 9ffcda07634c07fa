"""The sac-tf command line: train, fingerprint, verify, and one-line errors for bad input."""

import json
import subprocess
import sys

import pytest

from sac_tf.cli import main

DATA = ["--dataset", "digits", "--split-sizes", "700,700,300"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    paths = {}
    for name, split, seed in (("victim", "victim", 0), ("ref1", "attacker", 1), ("ref2", "attacker", 2),
                              ("ref3", "attacker", 3), ("other", "attacker", 4)):
        paths[name] = root / f"{name}.keras"
        assert main(["--quiet", "train", *DATA, "--arch", "tiny_cnn", "--epochs", "6", "--split", split,
                     "--seed", str(seed), "--out", str(paths[name])]) == 0
    paths["fp"] = root / "fp.npz"
    assert main(["--quiet", "fingerprint", str(paths["victim"]), *DATA, "--probes", "60",
                 "--calibrate", str(paths["ref1"]), str(paths["ref2"]), str(paths["ref3"]),
                 "--out", str(paths["fp"])]) == 0
    return paths


def test_train_writes_model_and_manifest(trained):
    manifest = json.loads(trained["victim"].with_suffix(".json").read_text())
    assert manifest["architecture"] == "tiny_cnn" and manifest["seed"] == 0
    assert manifest["split"]["victim"]["size"] == 700 and manifest["accuracy"] > 0.8


def test_verify_prints_json_verdicts(trained, capsys):
    assert main(["--quiet", "verify", str(trained["fp"]), str(trained["victim"]), str(trained["other"]), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert results[0]["verdict"] == "stolen" and results[0]["distance"] < 1e-5
    assert results[1]["verdict"] == "not-stolen"
    assert main(["--quiet", "verify", str(trained["fp"]), str(trained["victim"]), "--exit-code"]) == 1


def test_verify_table_for_people(trained, capsys):
    main(["--quiet", "verify", str(trained["fp"]), str(trained["other"])])
    out = capsys.readouterr().out
    assert "distance" in out and "not-stolen" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "{tmp}/missing.npz", "{victim}"], "Fingerprint file not found"),
        (["verify", "{fp}", "{tmp}/missing.keras"], "Model file not found"),
        (["verify", "{fp}", "{tmp}/junk.keras"], "Cannot load Keras model"),
        (["train", "--dataset", "no-such-set", "--arch", "tiny_cnn", "--out", "{tmp}/x.keras"], "Unknown dataset"),
        (["fingerprint", "{victim}", "--dataset", "digits", "--image-size", "8", "--split-sizes", "700,700,300",
          "--out", "{tmp}/fp8.npz"], "Expected input shape"),
        (["fingerprint", "{victim}", *DATA, "--probes", "1", "--out", "{tmp}/fp1.npz"], "at least 2 probes"),
    ],
)
def test_bad_input_is_one_line_with_nonzero_exit(trained, tmp_path, capsys, argv, message):
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    argv = [a.format(tmp=tmp_path, victim=trained["victim"], fp=trained["fp"]) for a in argv]
    assert main(["--quiet", *argv]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err and err.startswith("sac-tf: error:")
    assert not (tmp_path / "fp8.npz").exists() and not (tmp_path / "fp1.npz").exists()


def test_console_script_exit_code_and_no_traceback(trained, tmp_path):
    result = subprocess.run([sys.executable, "-m", "sac_tf.cli", "verify", str(tmp_path / "nope.npz"),
                             str(trained["victim"])], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Fingerprint file not found" in result.stderr


def test_help_for_every_command(capsys):
    for command in ("train", "fingerprint", "verify", "demo"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert command in capsys.readouterr().out
