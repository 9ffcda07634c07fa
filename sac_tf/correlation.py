"""Sample correlation: the representation and distance of SAC.

The reference implementation (PyTorch) computes, for each model, ``C = 1 - cos`` between the
outputs of every pair of probes, and scores a suspect by ``mean |C_suspect - C_victim|``
over all ``N**2`` entries. These two functions are that computation, in NumPy.
"""

from __future__ import annotations

import numpy as np

from sac_tf.errors import OutputError


def correlation_matrix(outputs: np.ndarray) -> np.ndarray:
    """Pairwise ``1 - cosine`` between the rows of a model's outputs.

    Args:
        outputs: ``(N, D)`` outputs of one model on N probes (higher-rank outputs are
            flattened per sample).

    Returns:
        ``(N, N)`` float64 matrix with zeros on the diagonal (for non-zero rows).

    Raises:
        OutputError: outputs are non-finite, or fewer than 2 rows.
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim < 2 or outputs.shape[0] < 2:
        raise OutputError(
            f"Expected outputs of shape (N, D) with N >= 2 probes, received {outputs.shape}"
        )
    outputs = outputs.reshape(outputs.shape[0], -1)
    if not np.all(np.isfinite(outputs)):
        bad = int(np.sum(~np.all(np.isfinite(outputs), axis=1)))
        raise OutputError(
            f"Model produced non-finite outputs (NaN or inf) for {bad} of {outputs.shape[0]} "
            "probes; check the model's input scaling or its conversion."
        )
    norms = np.linalg.norm(outputs, axis=1, keepdims=True)
    # An all-zero output row (a dead model) has no direction; keep it at cosine 0 with all.
    unit = outputs / np.where(norms > 0, norms, 1.0)
    cosine = np.clip(unit @ unit.T, -1.0, 1.0)
    return 1.0 - cosine


def correlation_distance(suspect: np.ndarray, victim: np.ndarray) -> float:
    """Mean absolute difference between two correlation matrices (the SAC score)."""
    suspect = np.asarray(suspect, dtype=np.float64)
    victim = np.asarray(victim, dtype=np.float64)
    if suspect.shape != victim.shape:
        raise OutputError(
            f"Correlation matrices differ in shape: {suspect.shape} vs {victim.shape}"
        )
    return float(np.mean(np.abs(suspect - victim)))
