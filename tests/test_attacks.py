"""Each attack on a tiny model: it trains, changes the weights, and returns the documented shape."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def victim(digits_splits):
    from sac_tf.train import train_classifier

    return train_classifier("tiny_cnn", digits_splits.victim, epochs=3, seed=0).model


def _weights_changed(a, b) -> bool:
    return any(
        not np.allclose(x, y) for x, y in zip(a.get_weights(), b.get_weights(), strict=False)
    )


def _outputs(model, images):
    return np.asarray(model(images.astype(np.float32) / 255.0, training=False))


def test_finetune_all_changes_every_layer_and_leaves_the_victim(victim, digits_splits):
    from sac_tf.attacks import finetune

    before = [w.copy() for w in victim.get_weights()]
    attacker = digits_splits.attacker
    stolen = finetune(
        victim, attacker.images, attacker.labels, layers="all", epochs=1, learning_rate=1e-2
    )
    assert stolen.outputs[0].shape[-1] == 10
    assert stolen is not victim
    assert all(np.array_equal(x, y) for x, y in zip(before, victim.get_weights(), strict=True))
    conv_before = victim.layers[1].get_weights()[0]
    assert not np.allclose(conv_before, stolen.layers[1].get_weights()[0])


def test_finetune_last_changes_only_the_head(victim, digits_splits):
    from sac_tf.attacks import finetune

    attacker = digits_splits.attacker
    stolen = finetune(
        victim, attacker.images, attacker.labels, layers="last", epochs=1, learning_rate=1e-2
    )
    for original, copy in zip(victim.layers[:-1], stolen.layers[:-1], strict=True):
        for a, b in zip(original.get_weights(), copy.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    assert not np.allclose(victim.layers[-1].get_weights()[0], stolen.layers[-1].get_weights()[0])
    assert all(layer.trainable for layer in stolen.layers)


def test_finetune_rejects_bad_layers_and_shapes(victim, digits_splits):
    from sac_tf.attacks import finetune
    from sac_tf.errors import InputShapeError

    attacker = digits_splits.attacker
    with pytest.raises(ValueError, match="layers must be one of"):
        finetune(victim, attacker.images, attacker.labels, layers="middle")
    with pytest.raises(InputShapeError, match=r"Expected input shape \(None, 16, 16, 1\)"):
        finetune(victim, attacker.images[:, :8, :8], attacker.labels)


def test_fine_prune_zeroes_the_requested_share_of_channels(victim, digits_splits):
    from sac_tf.attacks import fine_prune

    attacker = digits_splits.attacker
    pruned = fine_prune(
        victim, attacker.images, attacker.labels, ratio=0.5, layers="all", rounds=2, epochs_per_round=1
    )
    assert _weights_changed(victim, pruned)
    convs = [layer for layer in pruned.layers if type(layer).__name__ == "Conv2D"]
    assert convs
    for layer in convs:
        dead = np.all(layer.kernel.numpy() == 0, axis=(0, 1, 2))
        assert dead.sum() == int(layer.filters * 0.5)
    assert np.all(np.isfinite(_outputs(pruned, digits_splits.heldout.images)))
    # Fine-Pruning proper (the default) prunes the last convolution layer only.
    last_only = fine_prune(victim, attacker.images, attacker.labels, ratio=0.5, rounds=1, epochs_per_round=1)
    convs = [layer for layer in last_only.layers if type(layer).__name__ == "Conv2D"]
    dead = [int(np.all(layer.kernel.numpy() == 0, axis=(0, 1, 2)).sum()) for layer in convs]
    assert dead[-1] == int(convs[-1].filters * 0.5) and not any(dead[:-1])
    with pytest.raises(ValueError, match="layers"):
        fine_prune(victim, attacker.images, attacker.labels, layers="first")
    with pytest.raises(ValueError, match="ratio"):
        fine_prune(victim, attacker.images, attacker.labels, ratio=1.0)


def test_extract_labels_and_probabilities_build_students_of_another_architecture(
    victim, digits_splits
):
    from sac_tf.attacks import extract_labels, extract_probabilities

    attacker = digits_splits.attacker
    hard = extract_labels(victim, attacker.images, architecture="vgg_small", epochs=1)
    soft = extract_probabilities(
        victim,
        attacker.images,
        attacker.labels,
        architecture="vgg_small",
        temperature=20.0,
        alpha=0.9,
        epochs=1,
    )
    for student in (hard, soft):
        assert student.name == "vgg_small"
        assert tuple(student.outputs[0].shape) == (None, 10)
        assert np.all(np.isfinite(_outputs(student, digits_splits.heldout.images[:20])))
    with pytest.raises(ValueError, match="alpha"):
        extract_probabilities(victim, attacker.images, alpha=1.5)


def test_extract_adversarial_and_pgd_stay_in_the_eps_ball(victim, digits_splits):
    import tensorflow as tf

    from sac_tf.attacks import extract_adversarial, pgd

    x = digits_splits.heldout.images[:16].astype(np.float32) / 255.0
    labels = np.argmax(_outputs(victim, digits_splits.heldout.images[:16]), 1)
    adv = pgd(
        victim, tf.constant(x), tf.constant(labels), eps=4 / 255, step_size=1 / 255, iterations=3
    ).numpy()
    assert np.max(np.abs(adv - x)) <= 4 / 255 + 1e-6
    assert adv.min() >= 0 and adv.max() <= 1
    student = extract_adversarial(
        victim,
        digits_splits.attacker.images[:300],
        architecture="tiny_cnn",
        epochs=1,
        adversarial_epochs=1,
        iterations=2,
    )
    assert tuple(student.outputs[0].shape) == (None, 10)


def test_transfer_reheads_the_model_for_the_new_task(victim, digits_splits):
    from sac_tf.attacks import transfer

    attacker = digits_splits.attacker
    keep = attacker.labels >= 5
    adapted = transfer(
        victim, attacker.images[keep], attacker.labels[keep] - 5, num_classes=5, epochs=1
    )
    assert tuple(adapted.outputs[0].shape) == (None, 5)
    assert adapted.layers[-1].name == "logits"
    assert victim.outputs[0].shape[-1] == 10
    with pytest.raises(ValueError, match="labels must be in"):
        transfer(victim, attacker.images[keep], attacker.labels[keep], num_classes=5)


@pytest.mark.parametrize("quantization", ["float16", "int8"])
def test_to_tflite_outputs_are_finite_and_close(victim, digits_splits, quantization, tmp_path):
    from sac_tf.attacks import to_tflite
    from sac_tf.tflite_model import TFLiteModel

    path = tmp_path / f"victim_{quantization}.tflite"
    blob = to_tflite(victim, quantization, digits_splits.attacker.images[:100], path=path)
    assert path.read_bytes() == blob
    runner = TFLiteModel(path)
    images = digits_splits.heldout.images[:50]
    received = runner(images.astype(np.float32) / 255.0)
    expected = _outputs(victim, images)
    assert np.all(np.isfinite(received))
    if quantization == "int8":
        assert np.issubdtype(runner.input_detail["dtype"], np.integer)
        assert np.mean(np.argmax(received, 1) == np.argmax(expected, 1)) > 0.9
    else:
        np.testing.assert_allclose(received, expected, atol=0.05 * np.abs(expected).max())


def test_to_tflite_int8_needs_representative_data(victim):
    from sac_tf.attacks import to_tflite

    with pytest.raises(ValueError, match="representative"):
        to_tflite(victim, "int8")
