"""Model extraction: a fresh model of another architecture trained to imitate the victim.

The thief queries the victim on its own (attacker) images. Extract-L learns the victim's
predicted labels only; Extract-P distils its probabilities at temperature ``T`` (knowledge
distillation, Hinton et al.), mixed with the attacker's true labels by ``alpha``.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from sac_tf.attacks._common import check_images, make_optimizer, predict, train_loop
from sac_tf.models import build_model


def victim_labels(victim: keras.Model, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """The victim's predicted labels on ``uint8`` images (what a label-only API returns)."""
    return np.argmax(predict(victim, check_images(victim, images), batch_size), axis=1)


def extract_labels(
    victim: keras.Model,
    images: np.ndarray,
    architecture: str = "tiny_cnn",
    epochs: int = 5,
    learning_rate: float = 1e-3,
    batch_size: int = 64,
    optimizer: str = "adam",
    seed: int = 0,
) -> keras.Model:
    """Extract-L: trains a new ``architecture`` on the victim's hard labels.

    Args:
        victim: the model being stolen (queried only).
        images: the attacker's unlabelled images, ``uint8`` NHWC.
        architecture: a name from :data:`sac_tf.models.ARCHITECTURES`.
        epochs, learning_rate, batch_size, optimizer: training settings.
        seed: initial weights and data order.

    Returns:
        A new Keras model with the victim's input shape and number of classes.

    Example:
        >>> thief = extract_labels(victim, attacker.images, architecture="resnet8", epochs=5)
    """
    x = check_images(victim, images)
    labels = np.argmax(predict(victim, x), axis=1)
    student = build_model(architecture, x.shape[1:], int(victim.outputs[0].shape[-1]), seed=seed)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return train_loop(
        student, x, labels, loss, epochs, batch_size, make_optimizer(optimizer, learning_rate), seed
    )


def extract_probabilities(
    victim: keras.Model,
    images: np.ndarray,
    labels: np.ndarray | None = None,
    architecture: str = "tiny_cnn",
    temperature: float = 20.0,
    alpha: float = 0.9,
    epochs: int = 5,
    learning_rate: float = 1e-3,
    batch_size: int = 64,
    optimizer: str = "adam",
    seed: int = 0,
) -> keras.Model:
    """Extract-P: distils the victim's softened probabilities into a new model.

    The loss is ``alpha * T**2 * KL(softmax(v/T) || softmax(s/T)) + (1 - alpha) * CE(s, y)``
    as in the reference, where ``y`` are the attacker's true labels (the victim's labels when
    ``labels`` is ``None``).

    Args:
        victim: the model being stolen (queried only).
        images: attacker images, ``uint8`` NHWC.
        labels: the attacker's true labels, or ``None``.
        architecture: the student's architecture.
        temperature: ``T`` (reference 20).
        alpha: weight of the distillation term (reference 0.9 CIFAR10, 0.1 KDEF).
        epochs, learning_rate, batch_size, optimizer, seed: training settings.

    Returns:
        A new Keras model (logits output) of ``architecture``.

    Example:
        >>> thief = extract_probabilities(victim, attacker.images, attacker.labels, alpha=0.9)
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], received {alpha}")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, received {temperature}")
    x = check_images(victim, images)
    teacher = predict(victim, x).astype(np.float32)
    num_classes = teacher.shape[1]
    hard = np.argmax(teacher, 1) if labels is None else np.asarray(labels, np.int64)
    targets = np.concatenate([teacher, np.eye(num_classes, dtype=np.float32)[hard]], axis=1)
    t = float(temperature)

    def loss(y, logits):
        soft = tf.nn.softmax(y[:, :num_classes] / t)
        log_student = tf.nn.log_softmax(logits / t)
        kl = tf.reduce_sum(soft * (tf.math.log(soft + 1e-12) - log_student), axis=1)
        ce = tf.nn.softmax_cross_entropy_with_logits(y[:, num_classes:], logits)
        return tf.reduce_mean(alpha * t * t * kl + (1.0 - alpha) * ce)

    student = build_model(architecture, x.shape[1:], num_classes, seed=seed)
    return train_loop(
        student,
        x,
        targets,
        loss,
        epochs,
        batch_size,
        make_optimizer(optimizer, learning_rate),
        seed,
    )
