"""Running a model on probes: Keras models, ``.keras`` / ``.tflite`` files, or any callable.

Keras and LiteRT are imported only when a model of that kind is given, so the fingerprint
format and the decision code stay importable without TensorFlow.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from sac_tf.errors import InputShapeError, ModelLoadError, OutputError
from sac_tf.preprocessing import Preprocessing

OUTPUT_KINDS = ("logits", "probabilities", "embedding")
ModelLike = Any  # keras.Model | str | os.PathLike | Callable[[np.ndarray], np.ndarray]


def load_model(path: str | os.PathLike) -> Any:
    """Loads a ``.keras`` (or legacy ``.h5``) model safely, or a ``.tflite`` model for LiteRT.

    ``.keras`` files are loaded with ``safe_mode=True``: a file that would run arbitrary
    Python (a ``Lambda`` layer) is refused.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"Model file not found: {path}")
    if path.suffix == ".tflite":
        from sac_tf.tflite_model import TFLiteModel

        return TFLiteModel(path)
    if path.suffix not in (".keras", ".h5"):
        hint = ""
        if path.suffix.lower() in (".apk", ".xapk", ".apks", ".apkm", ".aab", ".zip"):
            hint = f"; to find and check the models inside an app, run: sac-edge scan {path} --fingerprint FP"
        raise ModelLoadError(
            f"Cannot load {path}: expected a .keras, .h5 or .tflite file, received "
            f"{path.suffix or 'no extension'}{hint}"
        )
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for corrupt files
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelLoadError(f"Cannot load Keras model {path}: {first_line}") from None


def _is_keras_model(model: Any) -> bool:
    return hasattr(model, "layers") and hasattr(model, "inputs") and hasattr(model, "predict")


def ends_in_softmax(model: Any) -> bool:
    """True when a Keras model's last layer applies softmax (its outputs are probabilities)."""
    if not _is_keras_model(model) or not model.layers:
        return False
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    name = getattr(activation, "__name__", "") or ""
    return name == "softmax" or type(last).__name__ == "Softmax"


def _check_keras_input(model: Any, x: np.ndarray) -> None:
    expected = tuple(model.inputs[0].shape)
    received = (None, *x.shape[1:])
    if len(expected) != len(received) or any(
        e is not None and e != r for e, r in zip(expected[1:], received[1:], strict=False)
    ):
        raise InputShapeError(
            f"Expected input shape {expected}, received {received}. Draw probes from images of "
            "the model's input size (resize them before making probes)."
        )


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def as_model(model: ModelLike) -> Any:
    """Returns a callable model: loads paths, passes Keras models and callables through."""
    if isinstance(model, (str, os.PathLike)):
        return load_model(model)
    if not callable(model) and not _is_keras_model(model):
        raise ModelLoadError(
            f"Expected a Keras model, a .keras/.tflite path or a callable, received {type(model).__name__}"
        )
    return model


def model_outputs(
    model: ModelLike,
    probes: np.ndarray,
    preprocessing: Preprocessing | None = None,
    output: str = "logits",
    batch_size: int = 256,
) -> tuple[np.ndarray, str]:
    """Runs ``model`` on ``uint8`` probes and returns ``(outputs (N, D), output_used)``.

    Args:
        model: a Keras model, a ``.keras``/``.tflite`` path, or a callable mapping a float
            batch to outputs.
        probes: ``uint8`` images ``(N, H, W, C)``.
        preprocessing: how pixels are scaled; defaults to ``[0, 1]``.
        output: ``"logits"`` (raw outputs, as the reference), ``"probabilities"`` (softmax
            applied unless the model already ends in softmax) or ``"embedding"`` (raw
            outputs of an embedding model).

    Returns:
        The outputs as float64, and a short description of which output was used.
    """
    if output not in OUTPUT_KINDS:
        raise ValueError(f"output must be one of {OUTPUT_KINDS}, received {output!r}")
    model = as_model(model)
    x = (preprocessing or Preprocessing()).apply(probes)
    keras_model = _is_keras_model(model)
    if keras_model:
        _check_keras_input(model, x)
    chunks = []
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        result = model(batch, training=False) if keras_model else model(batch)
        if isinstance(result, (list, tuple)):
            result = result[0]
        chunks.append(np.asarray(result, dtype=np.float64))
    outputs = np.concatenate(chunks, axis=0).reshape(len(x), -1)
    if not np.all(np.isfinite(outputs)):
        raise OutputError(
            "Model produced non-finite outputs (NaN or inf) on the probes; check its input "
            "scaling or how it was converted."
        )
    softmaxed = ends_in_softmax(model) if keras_model else bool(getattr(model, "ends_in_softmax", False))
    if output == "probabilities":
        return (outputs, "probabilities (model ends in softmax)") if softmaxed else (
            _softmax(outputs),
            "probabilities (softmax of model outputs)",
        )
    if softmaxed:
        return outputs, f"{output} requested; model ends in softmax, so its probabilities were used"
    return outputs, output
