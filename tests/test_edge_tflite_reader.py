"""Tests for edge.tflite_reader: inspecting models without running them."""

from __future__ import annotations

import pytest
from conftest_edge import edge_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.tflite_reader import ModelFormatError, inspect_model


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return edge_corpus(tmp_path_factory)


def _info(corpus, name):
    return inspect_model(corpus.models[name].read_bytes())


def test_int8_model_io_and_operators(corpus):
    info = _info(corpus, "stolen_int8_fixed")
    (inp,), (out,) = info.inputs, info.outputs
    assert inp.shape == (1, 16, 16, 1) and inp.dtype == "int8" and not inp.dynamic_batch
    assert inp.scale == pytest.approx(1 / 255, rel=1e-3) and inp.zero_point == -128
    assert out.shape == (1, 10) and out.dtype == "int8" and out.scale > 0
    assert info.operators["CONV_2D"] == 2 and info.operators["FULLY_CONNECTED"] == 2
    assert not info.needs_unavailable_ops
    assert "serving_default" in info.signatures
    assert len(info.sha256) == 64 and info.size == corpus.models["stolen_int8_fixed"].stat().st_size


def test_uint8_float16_and_dynamic_models(corpus):
    assert _info(corpus, "stolen_uint8_fixed").inputs[0].dtype == "uint8"
    float16 = _info(corpus, "stolen_float16_fixed")
    assert float16.inputs[0].dtype == "float32" and "DEQUANTIZE" in float16.operators
    dynamic = _info(corpus, "stolen_float32_dynamic")
    assert dynamic.inputs[0].shape_signature[0] == -1 and dynamic.inputs[0].dynamic_batch


def test_several_inputs_and_outputs(corpus):
    assert len(_info(corpus, "two_inputs").inputs) == 2
    outputs = _info(corpus, "multi_output").outputs
    assert sorted(int(o.shape[1]) for o in outputs) == [10, 16]


def test_custom_and_flex_ops(corpus):
    custom = _info(corpus, "custom_op")
    assert custom.custom_ops == ("Atan",) and custom.flex_ops == ()
    flex = _info(corpus, "flex_op")
    assert flex.flex_ops == ("FlexAtan",) and flex.needs_unavailable_ops
    assert "flex ops" in flex.summary()


def test_summary_and_json(corpus):
    info = _info(corpus, "stolen_int8_fixed")
    assert "int8 q(scale=" in info.summary()
    data = info.to_dict()
    assert data["inputs"][0]["dynamic_batch"] is False and data["metadata"] is None


@pytest.mark.parametrize("name", ["truncated_model", "garbage_model", "empty"])
def test_corrupt_models_raise_model_format_error(corpus, name):
    with pytest.raises(ModelFormatError):
        inspect_model(corpus.bad[name].read_bytes())


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_mutated_models_parse_or_raise_model_format_error(corpus, data):
    model = bytearray(corpus.models["stolen_int8_fixed"].read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(8, len(model) - 1))
        model[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(model) - 8))
    blob = bytes(model[: len(model) - cut])
    try:
        info = inspect_model(blob)
    except ModelFormatError:
        return
    assert info.size == len(blob)
