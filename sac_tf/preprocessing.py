"""How ``uint8`` probes become a model's input tensor.

Fingerprints store probes as ``uint8`` and record the victim's input scaling here, so that a
suspect is fed exactly what the victim was fed, whether it runs in Keras or in LiteRT.
NumPy only: the edge scanner uses it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Preprocessing:
    """Maps ``uint8`` pixels linearly to ``value_range``, then optionally standardises.

    Attributes:
        value_range: ``(low, high)`` that pixel 0 and pixel 255 map to.
        mean: per-channel mean subtracted after scaling (``None``: no standardisation).
        std: per-channel standard deviation divided by after subtracting ``mean``.
    """

    value_range: tuple[float, float] = (0.0, 1.0)
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    def apply(self, images: np.ndarray) -> np.ndarray:
        low, high = self.value_range
        x = np.asarray(images, dtype=np.float32) * np.float32((high - low) / 255.0) + np.float32(low)
        if self.mean is not None:
            x = x - np.asarray(self.mean, dtype=np.float32)
        if self.std is not None:
            x = x / np.asarray(self.std, dtype=np.float32)
        return x

    def to_dict(self) -> dict[str, Any]:
        return {
            "value_range": list(self.value_range),
            "mean": None if self.mean is None else list(self.mean),
            "std": None if self.std is None else list(self.std),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Preprocessing:
        data = data or {}
        mean, std = data.get("mean"), data.get("std")
        return cls(
            value_range=tuple(float(v) for v in data.get("value_range", (0.0, 1.0))),
            mean=None if mean is None else tuple(float(v) for v in mean),
            std=None if std is None else tuple(float(v) for v in std),
        )
