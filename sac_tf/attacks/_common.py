"""Helpers shared by the attacks: copying a model and a small custom training loop.

The attacks never modify the model they are given: each works on a copy, so that a victim
can be attacked many times in one process.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from sac_tf.errors import InputShapeError
from sac_tf.train import make_optimizer  # noqa: F401  (re-exported for the attacks)


def copy_model(model: keras.Model) -> keras.Model:
    """A new model with the same architecture and weights (the original is left alone)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def check_images(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Validates ``uint8`` NHWC images against the model's input; returns floats in [0, 1]."""
    images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8:
        raise InputShapeError(
            f"Expected uint8 images of shape (N, H, W, C), received {images.dtype} {images.shape}"
        )
    expected = tuple(model.inputs[0].shape[1:])
    if tuple(images.shape[1:]) != expected:
        raise InputShapeError(
            f"Expected input shape (None, {', '.join(map(str, expected))}), "
            f"received {(None, *images.shape[1:])}"
        )
    return images.astype(np.float32) / 255.0


def predict(model: keras.Model, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Raw outputs on float inputs in ``[0, 1]``, in batches."""
    return np.concatenate(
        [
            np.asarray(model(x[i : i + batch_size], training=False))
            for i in range(0, len(x), batch_size)
        ]
    )


def train_loop(
    model: keras.Model,
    x: np.ndarray,
    targets: np.ndarray,
    loss_fn: Callable[[tf.Tensor, tf.Tensor], tf.Tensor],
    epochs: int,
    batch_size: int,
    optimizer: keras.optimizers.Optimizer,
    seed: int,
    transform: Callable[[tf.Tensor, tf.Tensor], tf.Tensor] | None = None,
    after_batch: Callable[[], None] | None = None,
) -> keras.Model:
    """Mini-batch training with a custom loss (and an optional per-batch input transform).

    Args:
        model: trained in place.
        x: float inputs in ``[0, 1]``.
        targets: whatever ``loss_fn(targets_batch, logits)`` expects.
        transform: ``transform(x_batch, targets_batch) -> x_batch`` applied before each step
            (adversarial training uses it to replace inputs with PGD examples).
        after_batch: called after each step (pruning re-applies its masks there).
    """
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    variables = model.trainable_variables

    @tf.function
    def step(xb, yb):
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            index = order[start : start + batch_size]
            xb = tf.constant(x[index])
            yb = tf.constant(targets[index])
            if transform is not None:
                xb = transform(xb, yb)
            step(xb, yb)
            if after_batch is not None:
                after_batch()
    return model
