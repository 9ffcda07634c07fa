"""IPGuard and ModelDiff: hand-computed representations and distances, and query generation."""

from __future__ import annotations

import numpy as np
import pytest


def test_label_disagreement_hand_computed():
    from sac_tf.baselines import label_disagreement, predicted_labels

    outputs = np.array([[0.1, 0.9], [2.0, -1.0], [0.0, 3.0], [5.0, 4.0]])
    np.testing.assert_array_equal(predicted_labels(outputs), [1, 0, 1, 0])
    assert label_disagreement([0, 1, 2, 3], [0, 1, 0, 0]) == 0.5
    assert label_disagreement([1, 1], [1, 1]) == 0.0


def test_decision_distance_vector_hand_computed():
    from sac_tf.baselines import ddv_distance, decision_distance_vector

    outputs = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    # pairs: ([1,0],[1,0]) -> 0; ([1,1],[0,1]) -> 1 - 1/sqrt(2)
    np.testing.assert_allclose(decision_distance_vector(outputs), [0.0, 1 - 1 / np.sqrt(2)])
    assert ddv_distance(np.array([1.0, 2.0]), np.array([2.0, 4.0])) == pytest.approx(0.0)
    assert ddv_distance(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def victim(digits_splits):
    pytest.importorskip("tensorflow")
    from sac_tf.train import train_classifier

    return train_classifier("tiny_cnn", digits_splits.victim, epochs=3, seed=0).model


def _logits(model, images):
    return np.asarray(model(images.astype(np.float32) / 255.0, training=False))


def test_ipguard_points_sit_near_the_victims_boundary(victim, digits_splits):
    from sac_tf.baselines import ipguard_samples

    images = digits_splits.heldout.images
    points = ipguard_samples(victim, images, n=30, k=0.5, steps=60, learning_rate=0.02, seed=0)
    assert points.shape == (30, *images.shape[1:]) and points.dtype == np.uint8

    start = images[np.random.default_rng(0).choice(len(images), size=30, replace=False)]
    before = _logits(victim, start)
    after = _logits(victim, points)
    # The points were pushed across the boundary to the target label, by a margin near k,
    # so the victim's label changed and its top-2 logits are close.
    assert np.mean(np.argmax(after, 1) != np.argmax(before, 1)) >= 0.8
    top2 = np.sort(after, axis=1)[:, -2:]
    assert np.median(top2[:, 1] - top2[:, 0]) < 3 * 0.5


def test_modeldiff_pairs_are_originals_then_close_twins(victim, digits_splits):
    from sac_tf.baselines import modeldiff_pairs

    pairs = modeldiff_pairs(
        victim, digits_splits.heldout.images, n=10, eps=8 / 255, iterations=2, seed=0
    )
    assert pairs.shape[0] == 20
    difference = np.abs(pairs[:10].astype(int) - pairs[10:].astype(int))
    assert difference.max() <= 9  # eps 8/255 plus rounding
    assert difference.sum() > 0
