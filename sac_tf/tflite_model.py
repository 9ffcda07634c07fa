"""A ``.tflite`` model as a callable, for judging converted suspects from Python.

Uses the LiteRT interpreter (``ai-edge-litert``) and falls back to ``tf.lite.Interpreter``.
Quantised int8/uint8 inputs and outputs are quantised and dequantised with each tensor's
scale and zero point; a fixed batch dimension of 1 (as apps ship models) is handled by
running one sample at a time. The edge scanner has its own, isolated runner for untrusted
models; this one runs in-process and is meant for models you made yourself.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sac_tf.errors import ModelLoadError


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            import tensorflow as tf
        except ImportError:
            raise ModelLoadError(
                "Running .tflite models needs ai-edge-litert: pip install 'sac-tf[edge]'"
            ) from None
        Interpreter = tf.lite.Interpreter
    return Interpreter


def quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    """Float input to the tensor's integer type using its scale and zero point."""
    dtype = detail["dtype"]
    if not np.issubdtype(dtype, np.integer):
        return x.astype(dtype)
    scale, zero_point = detail["quantization"]
    info = np.iinfo(dtype)
    if scale == 0:
        return np.clip(np.round(x), info.min, info.max).astype(dtype)
    return np.clip(np.round(x / scale + zero_point), info.min, info.max).astype(dtype)


def dequantize(y: np.ndarray, detail: dict) -> np.ndarray:
    """Integer output back to float with its scale and zero point."""
    if not np.issubdtype(detail["dtype"], np.integer):
        return y.astype(np.float64)
    scale, zero_point = detail["quantization"]
    if scale == 0:
        return y.astype(np.float64)
    return (y.astype(np.float64) - zero_point) * scale


class TFLiteModel:
    """Callable wrapper around one ``.tflite`` model (first input, first output)."""

    def __init__(self, model: str | os.PathLike | bytes, num_threads: int = 2):
        interpreter_class = _interpreter_class()
        try:
            if isinstance(model, bytes):
                self.interpreter = interpreter_class(model_content=model, num_threads=num_threads)
            else:
                self.interpreter = interpreter_class(model_path=str(Path(model)), num_threads=num_threads)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise ModelLoadError(f"Cannot load TFLite model: {error}") from None
        self.input_detail = self.interpreter.get_input_details()[0]
        self.output_detail = self.interpreter.get_output_details()[0]
        signature = self.input_detail.get("shape_signature", self.input_detail["shape"])
        self.dynamic_batch = int(signature[0]) == -1
        self._batch = int(self.input_detail["shape"][0])

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.input_detail["shape"][1:])

    def _run(self, batch: np.ndarray) -> np.ndarray:
        index = self.input_detail["index"]
        if batch.shape[0] != self._batch:
            self.interpreter.resize_tensor_input(index, list(batch.shape))
            self.interpreter.allocate_tensors()
            self._batch = batch.shape[0]
            self.input_detail = self.interpreter.get_input_details()[0]
            self.output_detail = self.interpreter.get_output_details()[0]
        self.interpreter.set_tensor(index, quantize(batch, self.input_detail))
        self.interpreter.invoke()
        return dequantize(self.interpreter.get_tensor(self.output_detail["index"]), self.output_detail)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if tuple(x.shape[1:]) != self.input_shape:
            from sac_tf.errors import InputShapeError

            raise InputShapeError(
                f"Expected input shape (None, {', '.join(map(str, self.input_shape))}), "
                f"received {(None, *x.shape[1:])}"
            )
        if self.dynamic_batch:
            return self._run(x)
        return np.concatenate([self._run(x[i : i + 1]) for i in range(len(x))], axis=0)
