"""Threshold and p-value from a null distribution of innocent models.

SAC scores a suspect by a distance: small means "behaves like the victim". To turn a distance
into a decision we need to know how close an *innocent* model can come. We measure that on
reference models trained independently of the victim and never on the suspects being judged.

The test (``log-t``): distances are positive and right-skewed, so within a group of similar
reference models (one architecture, say) we model the logarithm of an innocent model's
distance as normal with unknown mean and variance, estimated from the group's K models. For a
suspect at distance ``d`` the group's one-sided p-value is the Student-t prediction
probability

    p_g = T_{K-1}( (log d - mean_g) / (std_g * sqrt(1 + 1/K)) )

i.e. the chance that one more model like the group's would come at least this close.

Why groups: innocent models are a mixture. Independent copies of the victim's own
architecture sit much closer to the victim than other architectures do; one normal fitted to
the mixture has an inflated variance and a threshold far below the closest innocents, which
hides real thefts without protecting anyone. So the p-value is the largest over groups: a
suspect is declared stolen only when it is significantly closer than *every* kind of innocent
model, including the hardest look-alikes. Groups with a single model are pooled; a pool that
still has one model joins the group nearest to it. Without group labels all references form
one group.

The suspect is stolen when ``p < alpha``; equivalently when ``d`` is below ``threshold`` (the
smallest group threshold). With few references the t quantile is wide, which makes the test
conservative rather than over-confident. The empirical p-value
``(1 + #{reference <= d}) / (K + 1)`` over all references is reported beside it; it needs no
distribution assumption but cannot go below ``1 / (K + 1)``.
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
# Identical references would make any other distance infinitely significant.
MIN_LOG_SPREAD = 1e-3


@dataclass(frozen=True)
class _GroupFit:
    name: str
    mean: float
    scale: float
    count: int

    def p_value(self, log_distance: float) -> float:
        return float(stats.t.cdf((log_distance - self.mean) / self.scale, df=self.count - 1))

    def threshold(self, alpha: float) -> float:
        return float(math.exp(self.mean + self.scale * stats.t.ppf(alpha, df=self.count - 1)))


def _fit(name: str, logs: np.ndarray) -> _GroupFit:
    spread = max(float(np.std(logs, ddof=1)), MIN_LOG_SPREAD)
    return _GroupFit(name, float(np.mean(logs)), spread * math.sqrt(1 + 1 / logs.size), logs.size)


@dataclass(frozen=True)
class Calibration:
    """A decision rule fitted on distances of independent reference models.

    Attributes:
        reference_distances: distances of the reference (innocent) models to the victim.
        alpha: significance level; a suspect is stolen when its p-value is below it.
        reference_names: optional names of the reference models, for the record.
        reference_groups: optional group label per reference (e.g. its architecture); see
            the module docstring for why groups matter.
    """

    reference_distances: np.ndarray
    alpha: float = 0.05
    reference_names: tuple[str, ...] = field(default_factory=tuple)
    reference_groups: tuple[str, ...] = field(default_factory=tuple)

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
        for label, values in (("names", self.reference_names), ("groups", self.reference_groups)):
            if values and len(values) != distances.size:
                raise SacError(
                    f"Expected {distances.size} reference {label}, received {len(values)}"
                )
        object.__setattr__(self, "_fits", self._fit_groups())

    def _fit_groups(self) -> tuple[_GroupFit, ...]:
        logs = np.log(self.reference_distances)
        labels = self.reference_groups or ("all",) * logs.size
        members: dict[str, list[int]] = {}
        for index, label in enumerate(labels):
            members.setdefault(label, []).append(index)
        groups = {k: v for k, v in members.items() if len(v) >= 2}
        singles = [v[0] for v in members.values() if len(v) == 1]
        if len(singles) >= 2:
            groups["others"] = singles
        elif singles:
            nearest = min(groups, key=lambda k: abs(np.mean(logs[groups[k]]) - logs[singles[0]]))
            groups[nearest] = groups[nearest] + singles
        return tuple(_fit(name, logs[np.asarray(idx)]) for name, idx in groups.items())

    @property
    def groups(self) -> dict[str, int]:
        """Group names and sizes as fitted (after pooling single models)."""
        return {fit.name: fit.count for fit in self._fits}  # type: ignore[attr-defined]

    @property
    def threshold(self) -> float:
        """Distance below which a suspect is declared stolen (its p-value equals alpha)."""
        return min(fit.threshold(self.alpha) for fit in self._fits)  # type: ignore[attr-defined]

    def p_value(self, distance: float) -> float:
        """Largest group p-value: how plausible it is that an innocent model comes this close."""
        if not distance > 0:
            return 0.0
        log_distance = math.log(distance)
        return max(fit.p_value(log_distance) for fit in self._fits)  # type: ignore[attr-defined]

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
            "groups": self.groups,
            "reference_count": int(self.reference_distances.size),
            "reference_names": list(self.reference_names),
            "reference_groups": list(self.reference_groups),
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
            reference_groups=tuple(data.get("reference_groups", ())),
        )
