"""Detection metrics over pools of stolen and innocent suspects (scikit-learn).

SAC distances are "smaller = more likely stolen", so scores passed to scikit-learn are the
negated distances, with label 1 for stolen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score, roc_curve


def detection_auc(stolen_distances: Sequence[float], innocent_distances: Sequence[float]) -> float:
    """Area under the ROC of separating stolen from innocent suspects by distance."""
    stolen = np.asarray(stolen_distances, dtype=np.float64)
    innocent = np.asarray(innocent_distances, dtype=np.float64)
    if stolen.size == 0 or innocent.size == 0:
        raise ValueError("AUC needs at least one stolen and one innocent suspect")
    labels = np.r_[np.ones(stolen.size), np.zeros(innocent.size)]
    return float(roc_auc_score(labels, -np.r_[stolen, innocent]))


def detection_f1(
    stolen_distances: Sequence[float], innocent_distances: Sequence[float], threshold: float
) -> float:
    """F1 of the rule "stolen when distance < threshold" (threshold set beforehand)."""
    stolen = np.asarray(stolen_distances, dtype=np.float64)
    innocent = np.asarray(innocent_distances, dtype=np.float64)
    labels = np.r_[np.ones(stolen.size), np.zeros(innocent.size)]
    predicted = np.r_[stolen, innocent] < threshold
    return float(f1_score(labels, predicted, zero_division=0.0))


def detection_roc(
    stolen_distances: Sequence[float], innocent_distances: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates of the distance rule over all thresholds."""
    stolen = np.asarray(stolen_distances, dtype=np.float64)
    innocent = np.asarray(innocent_distances, dtype=np.float64)
    labels = np.r_[np.ones(stolen.size), np.zeros(innocent.size)]
    fpr, tpr, _ = roc_curve(labels, -np.r_[stolen, innocent])
    return fpr, tpr
