"""Tests for edge.archive: finding models by content in files, folders and nested apps."""

from __future__ import annotations

import io
import zipfile

import pytest
from conftest_edge import edge_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.archive import WalkLimits, byte_entropy, is_tflite, looks_encrypted, walk

FAKE_MODEL = b"\x1c\x00\x00\x00TFL3" + bytes(64)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return edge_corpus(tmp_path_factory)


def _statuses(result):
    return {f.status for f in result.findings}


def test_finds_renamed_models_in_apk(corpus):
    result = walk([corpus.apps["apk"]])
    names = sorted(m.location.split("!/")[-1] for m in result.models)
    assert names == ["assets/blob", "assets/digit_recognizer.bin", "assets/ml/helper.model", "res/raw/splash.png"]
    assert all(is_tflite(m.data) for m in result.models)
    assert result.findings == []  # ships the runtime *and* models: nothing to flag


def test_nested_xapk_locations(corpus):
    result = walk([corpus.apps["xapk"]])
    assert len(result.models) == 5
    assert any("bundle.xapk!/config.arm64_v8a.apk!/assets/digit_recognizer.bin" in m.location for m in result.models)


def test_model_with_metadata_is_a_model_not_an_archive(corpus):
    data = corpus.models["independent_with_metadata"].read_bytes()
    assert zipfile.is_zipfile(io.BytesIO(data))  # associated files appended as a zip
    result = walk([corpus.models["independent_with_metadata"]])
    assert len(result.models) == 1 and result.models[0].data == data


def test_flags_runtime_without_model_and_encrypted_blob(corpus):
    assert _statuses(walk([corpus.apps["runtime_only_apk"]])) == {"runtime-without-model"}
    result = walk([corpus.apps["encrypted_apk"]])
    assert [f.status for f in result.findings] == ["encrypted-model"]
    assert result.findings[0].location.endswith("model.tflite.enc")  # the random .jpg is not flagged


@pytest.mark.parametrize(
    "name, status",
    [
        ("empty", "empty"),
        ("truncated_zip", "corrupt-archive"),
        ("zip_slip", "unsafe-path"),
        ("zip_bomb", "zip-bomb"),
        ("deep_nesting", "too-deep"),
    ],
)
def test_bad_inputs_get_a_status(corpus, name, status):
    result = walk([corpus.bad[name]])
    assert status in _statuses(result)
    assert result.models == []


def test_entry_count_and_total_bytes_limits(corpus):
    assert _statuses(walk([corpus.bad["many_entries"]], WalkLimits(max_entries=1000))) == {"too-many-entries"}
    small = WalkLimits(max_total_bytes=20_000)
    result = walk([corpus.apps["apk"]], small)
    assert "zip-bomb" in _statuses(result)  # budget exhausted: reported, not read


def test_symlinks_are_not_followed(corpus):
    result = walk([corpus.bad["symlink_folder"]])
    assert len(result.models) == 1
    assert sorted(f.status for f in result.findings) == ["symlink", "symlink"]


def test_missing_path_is_a_finding(tmp_path):
    assert _statuses(walk([tmp_path / "nope.apk"])) == {"not-found"}


def test_entropy_and_encryption_heuristic():
    assert byte_entropy(b"") == 0.0
    assert byte_entropy(bytes(range(256)) * 40) == pytest.approx(8.0)
    assert not looks_encrypted("model.bin", bytes(10_000))
    assert not looks_encrypted("photo.jpg", bytes(range(256)) * 40)
    assert looks_encrypted("model.bin", bytes(range(256)) * 40)


def test_limits_validate():
    with pytest.raises(ValueError, match="max_entries"):
        WalkLimits(max_entries=0)


_names = st.one_of(
    st.text(alphabet="abc./\\:_-", min_size=1, max_size=12),
    st.sampled_from(["../x.tflite", "/etc/x", "C:/x", "a/../../b", "assets/m.bin", "ok"]),
)
_contents = st.one_of(st.binary(max_size=200), st.just(FAKE_MODEL), st.just(b""))


@pytest.mark.filterwarnings("ignore:Duplicate name")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.tuples(_names, _contents), max_size=6), nest=st.booleans(), cut=st.integers(0, 400))
def test_walker_survives_arbitrary_zips(tmp_path, entries, nest, cut):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in entries:
            zf.writestr(name, content)
    data = buffer.getvalue()
    if nest:
        outer = io.BytesIO()
        with zipfile.ZipFile(outer, "w") as zf:
            zf.writestr("inner.apk", data)
        data = outer.getvalue()
    if cut:
        data = data[: max(len(data) - cut, 0)]
    path = tmp_path / "app.apk"
    path.write_bytes(data)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = walk([path], WalkLimits(max_depth=3))
    assert all(is_tflite(m.data) for m in result.models)
    assert all(".." not in m.location.split("!/")[-1].split("/") for m in result.models)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=2000))
def test_walker_survives_arbitrary_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("blob") / "model.bin"
    path.write_bytes(data)
    result = walk([path])
    assert len(result.models) + len(result.findings) <= 1
