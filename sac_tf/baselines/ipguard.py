"""IPGuard (Cao et al., 2021): fingerprint a classifier with data points near its decision boundary.

Queries: starting from held-out images, gradient steps move each point to the border between
the victim's label ``i`` and a random other label ``j``, with the loss
``ReLU(g_i - g_j + k) + ReLU(max_{t != i, j} g_t - g_i)`` on the victim's logits ``g``.
Representation: the predicted labels. Distance: ``1 - agreement`` with the victim's labels.
A copy keeps the victim's boundary and so its labels on these points; an independent model
(or an adversarially trained thief) does not.
"""

from __future__ import annotations

import numpy as np

from sac_tf.probes import as_uint8_images


def ipguard_samples(
    victim,
    images: np.ndarray,
    n: int = 100,
    k: float = 1.0,
    steps: int = 50,
    learning_rate: float = 0.01,
    seed: int = 0,
) -> np.ndarray:
    """Generates IPGuard fingerprint points near the victim's decision boundary.

    Args:
        victim: a Keras model mapping floats in ``[0, 1]`` to logits.
        images: held-out images to start from (``uint8`` NHWC).
        n: number of points.
        k: margin by which the target label should beat the source label (logit units);
            small ``k`` puts points closer to the boundary.
        steps, learning_rate: Adam steps on the input pixels.
        seed: which images and target labels.

    Returns:
        ``uint8`` images ``(n, H, W, C)``.

    Example:
        >>> points = ipguard_samples(victim, heldout.images, n=100)
    """
    import keras
    import tensorflow as tf

    images = as_uint8_images(images)
    rng = np.random.default_rng(seed)
    index = rng.choice(len(images), size=min(n, len(images)), replace=False)
    x0 = images[index].astype(np.float32) / 255.0
    logits = np.asarray(victim(x0, training=False))
    classes = logits.shape[1]
    source = np.argmax(logits, 1)
    target = (source + rng.integers(1, classes, size=source.size)) % classes
    x = tf.Variable(x0)
    optimizer = keras.optimizers.Adam(learning_rate)
    source_hot = tf.one_hot(source, classes)
    target_hot = tf.one_hot(target, classes)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            g = victim(x, training=False)
            g_i = tf.reduce_sum(g * source_hot, 1)
            g_j = tf.reduce_sum(g * target_hot, 1)
            others = tf.reduce_max(g - 1e9 * (source_hot + target_hot), 1)
            loss = tf.reduce_sum(tf.nn.relu(g_i - g_j + k) + tf.nn.relu(others - g_i))
        optimizer.apply_gradients([(tape.gradient(loss, x), x)])
        x.assign(tf.clip_by_value(x, 0.0, 1.0))

    for _ in range(steps):
        step()
    return as_uint8_images(x.numpy())


def predicted_labels(outputs: np.ndarray) -> np.ndarray:
    """IPGuard's representation: the label each point is given."""
    return np.argmax(np.asarray(outputs), axis=1)


def label_disagreement(suspect_labels: np.ndarray, victim_labels: np.ndarray) -> float:
    """IPGuard's distance: share of fingerprint points labelled differently from the victim."""
    return float(np.mean(np.asarray(suspect_labels) != np.asarray(victim_labels)))
