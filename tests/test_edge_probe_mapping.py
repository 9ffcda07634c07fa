"""Tests for edge.probe_mapping: probes resized, recoloured, rescaled and laid out per model."""

from __future__ import annotations

import numpy as np
import pytest

from edge.metadata import ModelMetadataInfo, Normalization, TensorMetadataInfo
from edge.probe_mapping import NotApplicable, map_probes
from edge.tflite_reader import ModelInfo, TensorInfo
from sac_tf.preprocessing import Preprocessing

PROBES = np.random.default_rng(0).integers(0, 256, size=(5, 16, 16, 1), dtype=np.uint8)


def _model(shape, dtype="float32", scale=None, metadata=None, inputs=1):
    tensor = TensorInfo(0, "input", tuple(shape), tuple(shape), dtype, scale, 0 if scale else None)
    return ModelInfo(
        size=0, sha256="", version=3, description=None, num_subgraphs=1,
        inputs=(tensor,) * inputs, outputs=(), operators={}, flex_ops=(), custom_ops=(),
        metadata=metadata,
    )


def test_same_shape_uses_fingerprint_preprocessing():
    x, mapping = map_probes(PROBES, _model((1, 16, 16, 1)), Preprocessing())
    np.testing.assert_allclose(x, PROBES / 255.0, rtol=1e-6)
    assert mapping.layout == "NHWC" and "fingerprint preprocessing" in mapping.scaling
    assert mapping.notes == ()


def test_resize_grey_to_rgb_nchw():
    x, mapping = map_probes(PROBES, _model((1, 3, 32, 24)), Preprocessing((-1.0, 1.0)))
    assert x.shape == (5, 3, 32, 24) and mapping.layout == "NCHW"
    np.testing.assert_array_equal(x[:, 0], x[:, 2])
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert any("resized" in n for n in mapping.notes) and any("replicated" in n for n in mapping.notes)


def test_rgb_to_grey_and_nhw():
    rgb = np.repeat(PROBES, 3, axis=-1)
    x, mapping = map_probes(rgb, _model((1, 16, 16)), Preprocessing())
    assert x.shape == (5, 16, 16) and mapping.layout == "NHW"
    np.testing.assert_allclose(x, PROBES[..., 0] / 255.0, atol=1 / 255)


def test_metadata_normalisation_wins():
    meta = ModelMetadataInfo(
        parsed=True, inputs=(TensorMetadataInfo(normalization=Normalization((127.5,), (127.5,))),)
    )
    x, mapping = map_probes(PROBES, _model((1, 16, 16, 1), metadata=meta), Preprocessing())
    np.testing.assert_allclose(x, (PROBES - 127.5) / 127.5, rtol=1e-6)
    assert mapping.scaling.startswith("metadata normalisation")


def test_integer_input_without_quantisation_takes_raw_pixels():
    x, mapping = map_probes(PROBES, _model((1, 16, 16, 1), dtype="uint8"), Preprocessing())
    np.testing.assert_array_equal(x, PROBES.astype(np.float32))
    assert "raw uint8" in mapping.scaling


@pytest.mark.parametrize(
    "shape, dtype, inputs, match",
    [((1, 20), "float32", 1, "expected an image"), ((1, 16, 16, 1), "string", 1, "not an image"),
     ((1, 16, 16, 1), "float32", 2, "2 inputs"), ((1, 16, 16, 2), "float32", 1, "expected an image")],
)
def test_not_applicable(shape, dtype, inputs, match):
    with pytest.raises(NotApplicable, match=match):
        map_probes(PROBES, _model(shape, dtype=dtype, inputs=inputs), Preprocessing())
