"""Threshold and p-value from a null distribution of innocent models.

SAC scores a suspect by a distance: small means "behaves like the victim". To turn a distance
into a decision we need to know how close an *innocent* model can come. We measure that on
reference models trained independently of the victim (including the victim's own
architecture with other seeds, the hardest innocent look-alikes) and never on the suspects
being judged.

The test (``log-t``): distances are positive and right-skewed, so we model the logarithm of an
innocent model's distance as normal with unknown mean and variance, estimated from the K
reference models. For a new suspect with distance ``d`` the one-sided p-value is the
Student-t prediction probability

    p = T_{K-1}( (log d - mean) / (std * sqrt(1 + 1/K)) )

i.e. the chance that one more independently trained model would come at least this close to
the victim. The suspect is declared stolen when ``p < alpha``; equivalently when ``d`` is
below ``threshold``. With few references the t quantile is wide, which makes the test
conservative rather than over-confident. The empirical p-value ``(1 + #{ref <= d}) / (K + 1)``
is reported beside it; it needs no distribution assumption but cannot go below ``1/(K+1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from sac_tf.errors import SacError

MIN_REFERENCES = 3
TEST_NAME = "log-t"


@dataclass(frozen=True)
class Calibration:
    """A decision rule fitted on distances of independent reference models.

    Attributes:
        reference_distances: distances of the reference (innocent) models to the victim.
        alpha: significance level; a suspect is stolen when its p-value is below it.
        reference_names: optional names of the reference models, for the record.
    """

    reference_distances: np.ndarray
    alpha: float = 0.05
    reference_names: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        distances = np.asarray(self.reference_distances, dtype=np.float64).reshape(-1)
        object.__setattr__(self, "reference_distances", distances)
        if distances.size < MIN_REFERENCES:
            raise SacError(
                f"Calibration needs at least {MIN_REFERENCES} independent reference models, "
                f"received {distances.size}."
            )
        if not np.all(np.isfinite(distances)) or np.any(distances <= 0):
            raise SacError("Reference distances must be finite and positive.")
        if not 0 < self.alpha < 1:
            raise SacError(f"alpha must be in (0, 1), received {self.alpha}")

    @property
    def _log_stats(self) -> tuple[float, float, int]:
        logs = np.log(self.reference_distances)
        k = logs.size
        spread = float(np.std(logs, ddof=1))
        # Identical references would make any other distance infinitely significant.
        spread = max(spread, 1e-3)
        return float(np.mean(logs)), spread * math.sqrt(1.0 + 1.0 / k), k

    @property
    def threshold(self) -> float:
        """Distance below which a suspect is declared stolen (p-value = alpha exactly)."""
        mean, scale, k = self._log_stats
        return float(math.exp(mean + scale * stats.t.ppf(self.alpha, df=k - 1)))

    def p_value(self, distance: float) -> float:
        """Probability that an independent model comes at least this close (log-t test)."""
        if not distance > 0:
            return 0.0
        mean, scale, k = self._log_stats
        return float(stats.t.cdf((math.log(distance) - mean) / scale, df=k - 1))

    def empirical_p_value(self, distance: float) -> float:
        """Rank-based p-value: ``(1 + #{reference <= distance}) / (K + 1)``."""
        refs = self.reference_distances
        return float((1 + np.sum(refs <= distance)) / (refs.size + 1))

    def is_stolen(self, distance: float) -> bool:
        return self.p_value(distance) < self.alpha

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": TEST_NAME,
            "alpha": self.alpha,
            "threshold": self.threshold,
            "reference_count": int(self.reference_distances.size),
            "reference_names": list(self.reference_names),
            "reference_distances": self.reference_distances.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], distances: np.ndarray) -> Calibration:
        if data.get("test", TEST_NAME) != TEST_NAME:
            raise SacError(f"Unknown calibration test {data.get('test')!r}")
        return cls(
            reference_distances=distances,
            alpha=float(data.get("alpha", 0.05)),
            reference_names=tuple(data.get("reference_names", ())),
        )
