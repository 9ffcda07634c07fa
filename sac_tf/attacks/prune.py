"""Fine-pruning (Liu et al., 2018): remove the least active convolution channels, fine-tuning as it goes.

Liu et al. prune the channels of the *last* convolution layer, in increasing order of their
mean activation on clean data; that is the default here (``layers="last"``). ``layers="all"``
prunes every convolution layer by the same share, a much harsher attack: on small networks it
changes the function so much that the copy agrees with the victim less than an independently
trained model does (the evaluation's fidelity columns show it).

Channels are masked, not cut out: their kernel and bias are set to zero and kept at zero
during fine-tuning by re-applying the masks after every step. The architecture (and so the
saved file) is unchanged, which lets any reader run the pruned model.
"""

from __future__ import annotations

import keras
import numpy as np

from sac_tf.attacks._common import check_images, copy_model, make_optimizer, train_loop


def _conv_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]


def channel_activity(
    model: keras.Model,
    x: np.ndarray,
    batch_size: int = 256,
    convs: list[keras.layers.Layer] | None = None,
) -> list[np.ndarray]:
    """Mean absolute activation of each channel of each ``Conv2D`` layer (or of ``convs``)."""
    convs = _conv_layers(model) if convs is None else convs
    probe = keras.Model(model.inputs[0], [layer.output for layer in convs])
    totals = [np.zeros(layer.filters) for layer in convs]
    for start in range(0, len(x), batch_size):
        outputs = probe(x[start : start + batch_size], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for total, output in zip(totals, outputs, strict=True):
            total += np.abs(np.asarray(output)).sum(axis=(0, 1, 2))
    return [total / len(x) for total in totals]


def fine_prune(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    ratio: float = 0.5,
    layers: str = "last",
    rounds: int = 2,
    epochs_per_round: int = 1,
    learning_rate: float = 5e-4,
    batch_size: int = 64,
    optimizer: str = "sgd",
    seed: int = 0,
) -> keras.Model:
    """Prunes ``ratio`` of the channels of the last (or every) convolution, fine-tuning as it goes.

    Args:
        model: the stolen Keras model; left unchanged.
        images, labels: the attacker's labelled data (activations are measured on it too).
        ratio: share of channels pruned per pruned ``Conv2D`` layer at the end, in ``[0, 1)``
            (the reference goes up to 0.8).
        layers: ``"last"`` (Fine-Pruning: the last convolution layer) or ``"all"``.
        rounds: pruning rounds; round ``k`` prunes up to ``ratio * k / rounds``.
        epochs_per_round: fine-tuning epochs after each round.
        learning_rate, batch_size, optimizer, seed: fine-tuning settings.

    Returns:
        A new Keras model of the same architecture whose pruned channels are exactly zero.

    Example:
        >>> thief = fine_prune(victim, attacker.images, attacker.labels, ratio=0.6)
    """
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"ratio must be in [0, 1), received {ratio}")
    if layers not in ("last", "all"):
        raise ValueError(f"layers must be 'last' or 'all', received {layers!r}")
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, received {rounds}")
    x = check_images(model, images)
    labels = np.asarray(labels, np.int64)
    pruned = copy_model(model)
    convs = _conv_layers(pruned)
    if layers == "last":
        convs = convs[-1:]
    masks = [np.ones(layer.filters, np.float32) for layer in convs]

    def apply_masks() -> None:
        for layer, mask in zip(convs, masks, strict=True):
            layer.kernel.assign(layer.kernel * mask)
            if layer.use_bias:
                layer.bias.assign(layer.bias * mask)

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    opt = make_optimizer(optimizer, learning_rate)
    for step in range(1, rounds + 1):
        activity = channel_activity(pruned, x, convs=convs)
        for mask, score in zip(masks, activity, strict=True):
            count = int(np.floor(len(mask) * ratio * step / rounds))
            mask[np.argsort(score, kind="stable")[:count]] = 0.0
        apply_masks()
        if epochs_per_round > 0:
            train_loop(
                pruned,
                x,
                labels,
                loss,
                epochs_per_round,
                batch_size,
                opt,
                seed + step,
                after_batch=apply_masks,
            )
    return pruned
