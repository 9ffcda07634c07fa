"""Tests for edge.metadata: the TFLITE_METADATA buffer and the files zipped onto a model."""

from __future__ import annotations

import pytest
from conftest_edge import edge_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.metadata import parse_metadata
from edge.tflite_reader import inspect_model


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return edge_corpus(tmp_path_factory)


def test_reads_normalisation_colour_space_and_labels(corpus):
    info = inspect_model(corpus.models["independent_with_metadata"].read_bytes())
    meta = info.metadata
    assert meta is not None and meta.parsed, meta
    assert meta.name == "digits classifier"
    assert meta.inputs[0].normalization.mean == (0.0,)
    assert meta.inputs[0].normalization.std == (255.0,)
    assert meta.inputs[0].color_space == "grayscale"
    assert meta.associated_files == ("labels.txt",)
    assert meta.packed_files == ("labels.txt",)
    assert meta.labels["labels.txt"] == [str(d) for d in range(10)]
    assert "TFLITE_METADATA" in info.metadata_names
    assert meta.to_dict()["labels"] == {"labels.txt": 10}


def test_models_without_metadata(corpus):
    assert inspect_model(corpus.models["stolen_int8_fixed"].read_bytes()).metadata is None


def test_unknown_buffer_is_present_but_unparsed():
    meta = parse_metadata(b"\x00\x00\x00\x00XXXX")
    assert not meta.parsed and "M001" in meta.error


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=300))
def test_garbage_metadata_never_raises(body):
    meta = parse_metadata(body[:4] + b"M001" + body[4:])
    assert meta.parsed in (True, False)
