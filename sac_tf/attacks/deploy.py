"""Deployment: converting a (stolen) Keras model to TFLite, float16 or full-integer int8.

What ships in an app is a ``.tflite`` file, often quantised. Conversion goes through
``tf.lite.TFLiteConverter.from_keras_model``: converting a Keras 3 model with
``from_concrete_functions`` has been seen to "succeed" and write a model whose outputs are
all NaN, so every conversion here is checked: outputs must be finite and close to the Keras
model's on sample inputs, or :class:`ConversionError` is raised.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import keras
import numpy as np

from sac_tf.attacks._common import check_images, predict
from sac_tf.errors import SacError

QUANTIZATIONS = ("float32", "float16", "int8")
# Largest tolerated output error relative to the spread of the Keras model's logits.
TOLERANCE = {"float32": 1e-3, "float16": 5e-2, "int8": 1.0}


class ConversionError(SacError):
    """A converted model's outputs are non-finite or far from the Keras model's."""


def to_tflite(
    model: keras.Model,
    quantization: str = "float16",
    representative_images: np.ndarray | None = None,
    path: str | os.PathLike | None = None,
    check_images_count: int = 64,
) -> bytes:
    """Converts a Keras model to TFLite and checks the converted outputs.

    Args:
        model: the Keras model to ship.
        quantization: ``"float32"``, ``"float16"`` (weights) or ``"int8"`` (full integer:
            weights, activations, int8 input and output).
        representative_images: ``uint8`` images (the attacker split) used to calibrate int8
            ranges and to check the conversion; required for int8.
        path: where to write the ``.tflite`` file (optional).
        check_images_count: how many representative images the check runs on.

    Returns:
        The ``.tflite`` flatbuffer bytes (run them with :class:`sac_tf.tflite_model.TFLiteModel`).

    Raises:
        ConversionError: the converted model is broken (non-finite or far-off outputs).

    Example:
        >>> blob = to_tflite(thief, "int8", attacker.images[:200], path="thief_int8.tflite")
    """
    import tensorflow as tf

    from sac_tf.tflite_model import TFLiteModel

    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, received {quantization!r}")
    if representative_images is None:
        if quantization == "int8":
            raise ValueError("int8 conversion needs representative_images (the attacker's data)")
        shape = tuple(model.inputs[0].shape[1:])
        sample = (
            np.random.default_rng(0).uniform(0, 1, (check_images_count, *shape)).astype(np.float32)
        )
    else:
        sample = check_images(model, representative_images)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantization == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        calibration = sample[:200]
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (
            [calibration[i : i + 1]] for i in range(len(calibration))
        )
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints its SavedModel
        blob = converter.convert()
    check = sample[:check_images_count]
    expected = predict(model, check)
    received = TFLiteModel(blob)(check)
    if not np.all(np.isfinite(received)):
        raise ConversionError(f"The {quantization} TFLite model of {model.name} outputs NaN or inf")
    spread = float(np.std(expected)) or 1.0
    error = float(np.max(np.abs(received - expected))) / spread
    if error > TOLERANCE[quantization]:
        raise ConversionError(
            f"The {quantization} TFLite model of {model.name} differs from the Keras model by "
            f"{error:.3f} (in units of the logits' spread); expected at most {TOLERANCE[quantization]}"
        )
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(blob)
    return blob


def conversion_error(model: keras.Model, blob: bytes, images: np.ndarray) -> dict[str, float]:
    """How far a converted model is from its Keras source: max error and label agreement."""
    from sac_tf.tflite_model import TFLiteModel

    x = check_images(model, images)
    expected = predict(model, x)
    received = TFLiteModel(blob)(x)
    return {
        "max_abs_error": float(np.max(np.abs(received - expected))),
        "label_agreement": float(np.mean(np.argmax(received, 1) == np.argmax(expected, 1))),
    }
