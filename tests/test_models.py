import numpy as np
import pytest

from sac_tf.models import ARCHITECTURES, build_model


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_architecture_maps_images_to_logits(name):
    model = build_model(name, (16, 16, 1), 7, seed=0)
    out = np.asarray(model(np.zeros((2, 16, 16, 1), np.float32), training=False))
    assert out.shape == (2, 7)
    assert model.layers[-1].name == "logits"


def test_seed_fixes_initial_weights():
    a = build_model("tiny_cnn", (8, 8, 1), 3, seed=5).get_weights()
    b = build_model("tiny_cnn", (8, 8, 1), 3, seed=5).get_weights()
    c = build_model("tiny_cnn", (8, 8, 1), 3, seed=6).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_unknown_architecture_lists_the_known_ones():
    with pytest.raises(ValueError, match="tiny_cnn"):
        build_model("alexnet", (8, 8, 1), 3)
