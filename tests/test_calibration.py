import math

import numpy as np
import pytest
from scipy import stats

from sac_tf.calibration import Calibration
from sac_tf.errors import SacError


def test_single_group_p_value_is_student_t_prediction_on_log_distances():
    refs = np.array([0.3, 0.4, 0.35, 0.5, 0.45])
    cal = Calibration(refs)
    logs = np.log(refs)
    scale = logs.std(ddof=1) * math.sqrt(1 + 1 / refs.size)
    expected = stats.t.cdf((math.log(0.1) - logs.mean()) / scale, df=refs.size - 1)
    assert cal.p_value(0.1) == pytest.approx(expected)


def test_threshold_is_where_p_value_equals_alpha():
    cal = Calibration(np.array([0.3, 0.4, 0.35, 0.5, 0.45]), alpha=0.05)
    assert cal.p_value(cal.threshold) == pytest.approx(0.05)
    assert cal.is_stolen(cal.threshold * 0.99)
    assert not cal.is_stolen(cal.threshold * 1.01)


def test_closest_group_of_innocents_sets_the_bar():
    # Same-architecture innocents near 0.15, other architectures near 0.6.
    distances = np.array([0.15, 0.16, 0.14, 0.6, 0.55, 0.65])
    groups = ("resnet8",) * 3 + ("vgg", "tiny", "densenet")
    grouped = Calibration(distances, reference_groups=groups)
    pooled = Calibration(distances)
    assert grouped.groups == {"resnet8": 3, "others": 3}
    # The pooled fit's inflated variance would miss a copy at 0.07; the grouped test flags it
    # while still clearing every same-architecture innocent.
    assert not pooled.is_stolen(0.07)
    assert grouped.is_stolen(0.07)
    assert all(not grouped.is_stolen(d) for d in distances)


def test_single_left_over_model_joins_the_nearest_group():
    cal = Calibration(np.array([0.15, 0.16, 0.6, 0.55, 0.17]), reference_groups=("a", "a", "b", "b", "c"))
    assert cal.groups == {"a": 3, "b": 2}


def test_empirical_p_value_counts_references_at_or_below():
    cal = Calibration(np.array([0.1, 0.2, 0.3, 0.4]))
    assert cal.empirical_p_value(0.05) == pytest.approx(1 / 5)
    assert cal.empirical_p_value(0.25) == pytest.approx(3 / 5)


@pytest.mark.parametrize("refs", [np.array([0.1, 0.2]), np.array([0.1, 0.0, 0.3]), np.array([0.1, np.nan, 0.2])])
def test_bad_references_are_rejected(refs):
    with pytest.raises(SacError):
        Calibration(refs)


def test_round_trip_through_dict():
    cal = Calibration(np.array([0.15, 0.16, 0.14, 0.6]), alpha=0.01, reference_names=("a", "b", "c", "d"),
                      reference_groups=("x", "x", "x", "y"))
    again = Calibration.from_dict(cal.to_dict(), cal.reference_distances)
    assert again.threshold == pytest.approx(cal.threshold)
    assert again.reference_groups == cal.reference_groups
