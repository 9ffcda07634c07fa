"""ModelDiff (Li et al., 2021), simplified: compare how two models' outputs move between input pairs.

Queries: ``n`` held-out images and, for each, a perturbed twin made by a few PGD steps against
the victim (the original searches for pairs of high divergence and diversity; this keeps its
representation and distance with a simpler, cheaper search). Representation: the decision
distance vector (DDV), the cosine distance between a model's outputs on the two inputs of each
pair. Distance: ``1 - cos(DDV_suspect, DDV_victim)``. The probes are laid out as the ``n``
originals followed by their ``n`` twins.
"""

from __future__ import annotations

import numpy as np

from sac_tf.probes import as_uint8_images


def modeldiff_pairs(
    victim,
    images: np.ndarray,
    n: int = 100,
    eps: float = 8 / 255,
    iterations: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """Makes ``n`` (image, perturbed image) pairs against the victim.

    Args:
        victim: a Keras model mapping floats in ``[0, 1]`` to logits.
        images: held-out images (``uint8`` NHWC).
        n: number of pairs.
        eps, iterations: the L-infinity PGD budget of each twin.
        seed: which images.

    Returns:
        ``uint8`` images ``(2n, H, W, C)``: originals first, then their twins.

    Example:
        >>> pairs = modeldiff_pairs(victim, heldout.images, n=100)
    """
    import tensorflow as tf

    from sac_tf.attacks.adversarial import pgd

    images = as_uint8_images(images)
    rng = np.random.default_rng(seed)
    index = rng.choice(len(images), size=min(n, len(images)), replace=False)
    originals = images[index]
    x = originals.astype(np.float32) / 255.0
    labels = np.argmax(np.asarray(victim(x, training=False)), 1)
    twins = pgd(victim, tf.constant(x), tf.constant(labels), eps, eps / 4, iterations, seed=seed)
    return np.concatenate([originals, as_uint8_images(np.asarray(twins))])


def decision_distance_vector(outputs: np.ndarray) -> np.ndarray:
    """ModelDiff's representation: cosine distance of outputs within each pair."""
    outputs = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    half = len(outputs) // 2
    a, b = outputs[:half], outputs[half : 2 * half]
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return 1.0 - np.sum(a * b, axis=1) / np.where(norms > 0, norms, 1.0)


def ddv_distance(suspect_ddv: np.ndarray, victim_ddv: np.ndarray) -> float:
    """ModelDiff's distance: ``1 - cosine`` similarity of two decision distance vectors."""
    a, b = np.asarray(suspect_ddv, np.float64), np.asarray(victim_ddv, np.float64)
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    return float(1.0 - (a @ b) / norm) if norm > 0 else 1.0
