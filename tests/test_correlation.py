import numpy as np
import pytest

from sac_tf.correlation import correlation_distance, correlation_matrix
from sac_tf.errors import OutputError


def _reference_correlation(outputs):
    """The reference formula written out pair by pair: 1 - cos(o_i, o_j)."""
    n = len(outputs)
    matrix = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            a, b = outputs[i], outputs[j]
            matrix[i, j] = 1 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    return matrix


def test_correlation_matches_pairwise_formula():
    outputs = np.random.default_rng(0).normal(size=(12, 7))
    np.testing.assert_allclose(correlation_matrix(outputs), _reference_correlation(outputs), atol=1e-12)


def test_distance_is_mean_absolute_difference_over_all_entries():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(9, 5)), rng.normal(size=(9, 5))
    ca, cb = _reference_correlation(a), _reference_correlation(b)
    expected = np.abs(ca - cb).sum() / 81
    assert correlation_distance(correlation_matrix(a), correlation_matrix(b)) == pytest.approx(expected)


def test_correlation_is_invariant_to_output_scale_but_not_to_shift():
    outputs = np.random.default_rng(2).normal(size=(6, 4))
    base = correlation_matrix(outputs)
    np.testing.assert_allclose(correlation_matrix(outputs * 3.5), base, atol=1e-12)
    assert correlation_distance(correlation_matrix(outputs + 5.0), base) > 0.05


def test_hand_computed_case():
    outputs = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    np.testing.assert_allclose(
        correlation_matrix(outputs), [[0, 1, 2], [1, 0, 1], [2, 1, 0]], atol=1e-12
    )


@pytest.mark.parametrize("bad", [np.full((3, 2), np.nan), np.array([[1.0, np.inf], [0.0, 1.0]])])
def test_non_finite_outputs_are_rejected(bad):
    with pytest.raises(OutputError, match="non-finite"):
        correlation_matrix(bad)


def test_fewer_than_two_probes_are_rejected():
    with pytest.raises(OutputError, match="N >= 2"):
        correlation_matrix(np.ones((1, 4)))
