"""Every figure sac-tf draws: correlation heatmaps, ROC curves, distance distributions.

Matplotlib runs with the non-interactive Agg backend so figures render on servers and CI.
Each function writes one PNG and returns its path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sac_tf.metrics import detection_roc  # noqa: E402


def plot_correlation_heatmaps(
    matrices: Mapping[str, np.ndarray], path: str | Path, max_probes: int = 100
) -> Path:
    """Side-by-side heatmaps of correlation matrices (victim first, then suspects)."""
    path = Path(path)
    names = list(matrices)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        matrix = np.asarray(matrices[name])[:max_probes, :max_probes]
        image = ax.imshow(matrix, cmap="viridis", vmin=0.0, vmax=2.0)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="1 - cos")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_roc(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], path: str | Path, title: str = ""
) -> Path:
    """ROC curves, one per category: ``{label: (stolen_distances, innocent_distances)}``."""
    path = Path(path)
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    for label, (stolen, innocent) in curves.items():
        if len(stolen) == 0 or len(innocent) == 0:
            continue
        fpr, tpr = detection_roc(stolen, innocent)
        ax.plot(fpr, tpr, label=label, drawstyle="steps-post")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("false-positive rate (innocent flagged)")
    ax.set_ylabel("true-positive rate (stolen flagged)")
    ax.set_title(title or "ROC by category", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_distance_distributions(
    distances: Mapping[str, Sequence[float]],
    path: str | Path,
    threshold: float | None = None,
    title: str = "",
) -> Path:
    """Distances per category as a strip plot on a log axis, with the threshold line."""
    path = Path(path)
    fig, ax = plt.subplots(figsize=(6.0, 0.45 * len(distances) + 1.5))
    for row, values in enumerate(distances.values()):
        values = np.asarray(values, dtype=np.float64)
        jitter = np.random.default_rng(row).uniform(-0.15, 0.15, values.size)
        ax.scatter(np.maximum(values, 1e-6), row + jitter, s=14)
    ax.set_yticks(range(len(distances)), list(distances), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("SAC distance to the victim (log scale)")
    if threshold is not None:
        ax.axvline(threshold, color="red", linestyle="--", linewidth=1, label="threshold")
        ax.legend(fontsize=7)
    ax.set_title(title or "Distances by category", fontsize=10)
    ax.invert_yaxis()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
