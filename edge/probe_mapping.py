"""Turning a fingerprint's ``uint8`` probes into what a suspect model's input expects.

Apps ship models with their own input size, channel count, layout and value range. The
probes are resized to the model's H x W (Pillow, bilinear), converted grey <-> RGB, scaled
with the model metadata's normalisation when it has one (that is how the app feeds it), else
with the fingerprint's recorded preprocessing (how the victim was fed), and transposed to NCHW
if the model wants that. Quantisation to int8/uint8 happens in the worker with the
interpreter's own scale and zero point. Every choice is recorded in :class:`InputMapping` so
that the report says what was used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from edge.tflite_reader import ModelInfo, TensorInfo
from sac_tf.preprocessing import Preprocessing

_IMAGE_DTYPES = ("float32", "float16", "int8", "uint8", "int16")


class NotApplicable(Exception):
    """The model's input is not an image the probes can be mapped to (reason in the message)."""


@dataclass(frozen=True)
class InputMapping:
    """How probes were fed to one model.

    Attributes:
        input_index: tensor index of the input fed.
        layout: ``NHWC``, ``NCHW`` or ``NHW``.
        size: ``(height, width)`` of the model's input.
        channels: channels the model takes.
        scaling: ``metadata`` or ``fingerprint``, and the numbers used.
        notes: anything else done (resize, colour conversion).
    """

    input_index: int
    layout: str
    size: tuple[int, int]
    channels: int
    scaling: str
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        return "; ".join((f"{self.layout} {self.size[0]}x{self.size[1]}x{self.channels}", self.scaling, *self.notes))


def _layout(tensor: TensorInfo) -> tuple[str, int, int, int]:
    """``(layout, height, width, channels)`` of an image input, or :class:`NotApplicable`."""
    shape = tensor.shape
    if tensor.dtype not in _IMAGE_DTYPES:
        raise NotApplicable(f"input {tensor.name!r} is {tensor.dtype}, not an image tensor")
    if len(shape) == 4:
        if shape[3] in (1, 3, 4) and min(shape[1], shape[2]) >= 4:
            return "NHWC", shape[1], shape[2], shape[3]
        if shape[1] in (1, 3) and min(shape[2], shape[3]) >= 4:
            return "NCHW", shape[2], shape[3], shape[1]
    if len(shape) == 3 and min(shape[1], shape[2]) >= 4:
        return "NHW", shape[1], shape[2], 1
    raise NotApplicable(
        f"input {tensor.name!r} has shape {list(tensor.shape_signature)}; expected an image "
        "(N, H, W, 1|3), (N, 1|3, H, W) or (N, H, W)"
    )


def _resize(probes: np.ndarray, height: int, width: int) -> np.ndarray:
    resized = []
    for image in probes:
        mode_image = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
        resized.append(np.asarray(mode_image.resize((width, height), Image.BILINEAR)))
    out = np.stack(resized)
    return out[..., None] if out.ndim == 3 else out


def _convert_channels(probes: np.ndarray, channels: int) -> tuple[np.ndarray, str | None]:
    have = probes.shape[-1]
    if have == channels:
        return probes, None
    if have == 1 and channels in (3, 4):
        out = np.repeat(probes, 3, axis=-1)
        if channels == 4:
            out = np.concatenate([out, np.full(out.shape[:-1] + (1,), 255, np.uint8)], axis=-1)
        return out, f"grey probes replicated to {channels} channels"
    if have == 3 and channels == 1:
        grey = np.stack([np.asarray(Image.fromarray(p).convert("L")) for p in probes])
        return grey[..., None], "RGB probes converted to grey (ITU-R 601 luma)"
    raise NotApplicable(f"cannot map {have}-channel probes to a {channels}-channel input")


def choose_input(info: ModelInfo) -> TensorInfo:
    """The one image input probes go to; models with several inputs are not applicable."""
    if len(info.inputs) != 1:
        raise NotApplicable(
            f"model has {len(info.inputs)} inputs; SAC probes feed a single image input"
        )
    return info.inputs[0]


def map_probes(
    probes: np.ndarray, info: ModelInfo, preprocessing: Preprocessing
) -> tuple[np.ndarray, InputMapping]:
    """Maps ``uint8`` NHWC probes to the model's input.

    Args:
        probes: the fingerprint's probes, ``uint8`` ``(N, H, W, C)``.
        info: the model's inspection (:func:`edge.tflite_reader.inspect_model`).
        preprocessing: the fingerprint's preprocessing, used when the model has no metadata.

    Returns:
        ``(inputs, mapping)``: float32 inputs in the model's layout and what was done.

    Raises:
        NotApplicable: the model's input is not an image.
    """
    tensor = choose_input(info)
    layout, height, width, channels = _layout(tensor)
    notes = []
    images = probes
    if images.shape[1:3] != (height, width):
        images = _resize(images, height, width)
        notes.append(f"probes resized {probes.shape[1]}x{probes.shape[2]} -> {height}x{width}")
    images, note = _convert_channels(images, channels)
    if note:
        notes.append(note)

    normalization = None
    metadata = info.metadata
    if metadata is not None and metadata.parsed and metadata.inputs:
        normalization = metadata.inputs[0].normalization
    if normalization is not None and normalization.mean and normalization.std:
        mean = np.asarray(normalization.mean, np.float32)
        std = np.asarray(normalization.std, np.float32)
        x = (images.astype(np.float32) - mean) / std
        scaling = f"metadata normalisation (mean {list(normalization.mean)}, std {list(normalization.std)})"
    elif tensor.dtype in ("uint8", "int8") and not tensor.scale:
        # An integer input without quantisation parameters takes raw pixels.
        x = images.astype(np.float32) - (128.0 if tensor.dtype == "int8" else 0.0)
        scaling = f"raw {tensor.dtype} pixels (input has no quantisation parameters)"
    else:
        x = preprocessing.apply(images)
        scaling = f"fingerprint preprocessing {preprocessing.to_dict()}"
    if layout == "NCHW":
        x = np.transpose(x, (0, 3, 1, 2))
    elif layout == "NHW":
        x = x[..., 0]
    return np.ascontiguousarray(x, dtype=np.float32), InputMapping(
        tensor.index, layout, (height, width), channels, scaling, tuple(notes)
    )
