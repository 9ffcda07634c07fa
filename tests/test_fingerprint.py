import json
import zipfile

import numpy as np
import pytest

from sac_tf import Fingerprint, probes
from sac_tf.errors import FingerprintFormatError, InputShapeError, OutputError
from sac_tf.fingerprint_file import read_fingerprint_file


def _linear_model(seed, dim=10, size=8):
    weights = np.random.default_rng(seed).normal(size=(size * size, dim))
    return lambda x: x.reshape(len(x), -1) @ weights


@pytest.fixture
def probe_images():
    images = np.random.default_rng(0).integers(0, 256, (16, 8, 8, 1), dtype=np.uint8)
    return probes.jpeg(images)


@pytest.fixture
def calibrated(probe_images):
    fp = Fingerprint.create(_linear_model(0), probe_images, metadata={"victim": "linear-0"})
    return fp.calibrate({f"ref-{s}": _linear_model(s) for s in (1, 2, 3, 4)})


def test_victim_itself_is_at_distance_zero_and_stolen(calibrated):
    result = calibrated.verify(_linear_model(0))
    assert result.distance == pytest.approx(0.0, abs=1e-6)
    assert result.stolen and result.p_value < 0.05


def test_an_independent_model_is_not_stolen(calibrated):
    result = calibrated.verify(_linear_model(9))
    assert not result.stolen and result.distance > result.threshold


def test_save_load_round_trip_keeps_everything(tmp_path, calibrated):
    path = calibrated.save(tmp_path / "fp.npz")
    loaded = Fingerprint.load(path)
    np.testing.assert_array_equal(loaded.probes, calibrated.probes)
    np.testing.assert_allclose(loaded.correlation, calibrated.correlation)
    assert loaded.calibration.threshold == pytest.approx(calibrated.calibration.threshold)
    assert loaded.method == calibrated.method and loaded.metadata["victim"] == "linear-0"
    suspect = _linear_model(5)
    assert loaded.verify(suspect).distance == pytest.approx(calibrated.verify(suspect).distance, rel=1e-5)


def test_uncalibrated_fingerprint_gives_inconclusive(probe_images):
    result = Fingerprint.create(_linear_model(0), probe_images).verify(_linear_model(1))
    assert result.verdict == "inconclusive" and result.p_value is None


def test_file_holds_no_pickles(tmp_path, calibrated):
    path = calibrated.save(tmp_path / "fp.npz")
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            header = archive.read(name)[:10]
            assert header.startswith(b"\x93NUMPY")
    header, arrays = read_fingerprint_file(path)
    assert header["version"] == 1 and arrays["probes"].dtype == np.uint8


def test_corrupt_truncated_and_foreign_files_give_clear_errors(tmp_path, calibrated):
    good = calibrated.save(tmp_path / "fp.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(good[: len(good) // 2])
    (tmp_path / "garbage.npz").write_bytes(b"not a fingerprint at all")
    np.savez(tmp_path / "foreign.npz", x=np.zeros(3))
    for name in ("truncated.npz", "garbage.npz", "foreign.npz", "missing.npz"):
        with pytest.raises(FingerprintFormatError):
            Fingerprint.load(tmp_path / name)


def test_wrong_version_names_both_versions(tmp_path, calibrated):
    path = calibrated.save(tmp_path / "fp.npz")
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files}
    header = json.loads(arrays["header"].tobytes())
    header["version"] = 99
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    np.savez(tmp_path / "v99.npz", **arrays)
    with pytest.raises(FingerprintFormatError, match="version 99"):
        Fingerprint.load(tmp_path / "v99.npz")


def test_fewer_than_two_probes_and_non_finite_outputs_are_rejected(probe_images):
    with pytest.raises(InputShapeError, match="at least 2"):
        Fingerprint.create(_linear_model(0), probe_images[:1])
    with pytest.raises(OutputError, match="non-finite"):
        Fingerprint.create(lambda x: np.full((len(x), 3), np.nan), probe_images)


def test_keras_model_with_wrong_input_shape_says_expected_and_received(digits_models, probe_images):
    with pytest.raises(InputShapeError, match=r"Expected input shape \(None, 16, 16, 1\), received \(None, 8, 8, 1\)"):
        Fingerprint.create(digits_models["victim"], probe_images)


def test_stolen_copy_flagged_and_independents_cleared_on_real_digits(digits_splits, digits_models, tmp_path):
    victim = digits_models["victim"]
    fp = Fingerprint.create(victim, probes.jpeg(digits_splits.heldout.images, n=100))
    references = {k: v for k, v in digits_models.items() if k in ("tiny_cnn-11", "tiny_cnn-12", "tiny_cnn-13")}
    fp = fp.calibrate(references)
    assert fp.verify(digits_models["stolen"]).stolen
    assert not fp.verify(digits_models["tiny_cnn-14"]).stolen
    # The same verdict from a .keras file on disk.
    path = tmp_path / "copy.keras"
    digits_models["stolen"].save(path)
    assert fp.verify(str(path)).stolen
