"""Shared fixtures: real offline data (scikit-learn digits) and tiny trained models."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def digits_splits():
    """sklearn digits at 16x16, split victim/attacker/held-out (real images, always offline)."""
    from sac_tf.data import load_dataset, split_dataset

    return split_dataset(load_dataset("digits", image_size=16), fractions=(0.4, 0.4, 0.2), seed=0)


@pytest.fixture(scope="session")
def digits_models(digits_splits):
    """A victim, a fine-tuned copy of it, and independent models (same and other architecture)."""
    import keras

    from sac_tf.train import fit, train_classifier

    victim = train_classifier("tiny_cnn", digits_splits.victim, epochs=8, seed=0).model
    copy = keras.models.clone_model(victim)
    copy.set_weights(victim.get_weights())
    fit(copy, digits_splits.attacker.images, digits_splits.attacker.labels, epochs=1,
        learning_rate=5e-4, optimizer="sgd", seed=1)
    independents = {
        f"tiny_cnn-{seed}": train_classifier("tiny_cnn", digits_splits.attacker, epochs=8, seed=seed).model
        for seed in (11, 12, 13, 14)
    }
    return {"victim": victim, "stolen": copy, **independents}


@pytest.fixture(scope="session")
def tiny_zoo(tmp_path_factory):
    """The tiny zoo of tests/test_zoo.py, built once; tests that change it work on a copy."""
    from test_zoo import TINY_CONFIG

    from sac_tf.zoo import build_zoo

    folder = tmp_path_factory.mktemp("zoo")
    config = folder / "tiny.toml"
    config.write_text(TINY_CONFIG)
    return build_zoo(config, folder / "built", progress=False)
