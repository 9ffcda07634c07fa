"""Shared setup for the edge benchmarks: random-weight Keras CNNs converted to TFLite.

TensorFlow is used here only to make the models; what is timed never imports it.
"""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def cnn_tflite(seed: int, size: int = 32, channels: int = 3, width: int = 32, batch: int | None = None,
               int8: bool = False) -> bytes:
    """A small VGG-like CNN with random weights, as a ``.tflite`` flatbuffer."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, channels), batch_size=batch)
    x = inputs
    for multiplier in (1, 2, 4):
        x = keras.layers.Conv2D(width * multiplier, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(10)(x))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        rng = np.random.default_rng(seed)

        def representative():
            for _ in range(16):
                yield [rng.random((1, size, size, channels), dtype=np.float32)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def random_fingerprint(path, num_probes: int, size: int, channels: int):
    """An uncalibrated fingerprint with random probes (timing does not need a real victim)."""
    from sac_tf.fingerprint import Fingerprint

    rng = np.random.default_rng(0)
    probes = rng.integers(0, 256, size=(num_probes, size, size, channels), dtype=np.uint8)
    correlation = np.zeros((num_probes, num_probes), np.float32)
    return Fingerprint(probes=probes, correlation=correlation, metadata={"victim_output_dim": 10}).save(path)
