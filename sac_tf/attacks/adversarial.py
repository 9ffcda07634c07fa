"""Adversarial extraction (Extract-Adv): Extract-L followed by PGD adversarial training.

Adversarial training moves the student's decision boundary away from the victim's, which is
what defeats fingerprints built from adversarial examples (IPGuard); SAC should survive it.
The reference uses ``eps = 4/255``, step ``1/255`` and 10-30 PGD iterations; on CPUs fewer
iterations keep the cost reasonable.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from sac_tf.attacks._common import check_images, make_optimizer, predict, train_loop
from sac_tf.attacks.extract import extract_labels


def pgd(
    model: keras.Model,
    x: tf.Tensor,
    labels: tf.Tensor,
    eps: float = 4 / 255,
    step_size: float = 1 / 255,
    iterations: int = 10,
    seed: int | None = None,
) -> tf.Tensor:
    """Untargeted L-infinity PGD (Madry et al.) from a random start inside the ``eps`` ball.

    Args:
        model: maps floats in ``[0, 1]`` to logits.
        x: float inputs in ``[0, 1]``.
        labels: integer labels whose loss is increased.
        eps, step_size, iterations: the attack's budget.

    Returns:
        Adversarial inputs in ``[0, 1]``, within ``eps`` of ``x``.
    """
    x = tf.convert_to_tensor(x, tf.float32)
    noise = tf.random.uniform(tf.shape(x), -eps, eps, seed=seed)
    adv = tf.clip_by_value(x + noise, 0.0, 1.0)
    for _ in range(iterations):
        with tf.GradientTape() as tape:
            tape.watch(adv)
            loss = keras.losses.sparse_categorical_crossentropy(
                labels, model(adv, training=False), from_logits=True
            )
        adv = adv + step_size * tf.sign(tape.gradient(loss, adv))
        adv = tf.clip_by_value(tf.clip_by_value(adv, x - eps, x + eps), 0.0, 1.0)
    return tf.stop_gradient(adv)


def extract_adversarial(
    victim: keras.Model,
    images: np.ndarray,
    architecture: str = "tiny_cnn",
    epochs: int = 5,
    adversarial_epochs: int = 2,
    eps: float = 4 / 255,
    step_size: float = 1 / 255,
    iterations: int = 10,
    learning_rate: float = 1e-3,
    batch_size: int = 64,
    optimizer: str = "adam",
    seed: int = 0,
) -> keras.Model:
    """Extract-Adv: a label-extracted student, then PGD adversarial training on victim labels.

    Args:
        victim: the model being stolen (queried only).
        images: attacker images, ``uint8`` NHWC.
        architecture: the student's architecture.
        epochs: Extract-L epochs.
        adversarial_epochs: epochs of adversarial training after extraction.
        eps, step_size, iterations: PGD settings (reference 4/255, 1/255, 10-30).
        learning_rate, batch_size, optimizer, seed: training settings.

    Returns:
        The adversarially trained student (a new Keras model).

    Example:
        >>> thief = extract_adversarial(victim, attacker.images, iterations=3)
    """
    student = extract_labels(
        victim, images, architecture, epochs, learning_rate, batch_size, optimizer, seed
    )
    x = check_images(victim, images)
    labels = np.argmax(predict(victim, x), axis=1)

    @tf.function
    def attack(xb, yb):
        return pgd(student, xb, yb, eps, step_size, iterations)

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return train_loop(
        student,
        x,
        labels,
        loss,
        adversarial_epochs,
        batch_size,
        make_optimizer(optimizer, learning_rate),
        seed + 1,
        transform=attack,
    )
