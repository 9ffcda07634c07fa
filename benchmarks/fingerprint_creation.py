"""Fingerprint creation time: SAC-JC vs IPGuard's boundary-point generation on the same victim.

    python benchmarks/fingerprint_creation.py [--probes 200] [--arch vgg_small] [--steps 50]

SAC-JC needs JPEG compression of held-out images and one forward pass of the victim;
IPGuard runs ``--steps`` gradient steps on every fingerprint point. Both make ``--probes``
queries from the same held-out images; each is timed once after a warm-up run.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _timed(function) -> float:
    function()  # warm-up
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--arch", default="vgg_small")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50, help="IPGuard gradient steps")
    args = parser.parse_args()

    import numpy as np

    from sac_tf import Fingerprint, probes
    from sac_tf.baselines import ipguard_samples
    from sac_tf.data import load_dataset, split_dataset
    from sac_tf.outputs import model_outputs
    from sac_tf.train import train_classifier

    data = split_dataset(
        load_dataset("digits", image_size=args.size), fractions=(0.4, 0.4, 0.2), seed=0
    )
    victim = train_classifier(args.arch, data.victim, epochs=1, seed=0).model
    heldout = np.concatenate([data.heldout.images] * 2)

    def sac_jc():
        return Fingerprint.create(victim, probes.jpeg(heldout, n=args.probes, seed=0))

    def ipguard():
        points = ipguard_samples(victim, heldout, n=args.probes, steps=args.steps, seed=0)
        return points, np.argmax(model_outputs(victim, points)[0], 1)

    sac = _timed(sac_jc)
    ipg = _timed(ipguard)
    print(f"victim {args.arch}, {args.probes} queries of {heldout.shape[1:]}")
    print(f"SAC-JC fingerprint : {sac * 1e3:9.1f} ms")
    print(f"IPGuard generation : {ipg * 1e3:9.1f} ms ({args.steps} steps)")
    print(f"ratio IPGuard / SAC-JC: {ipg / sac:.1f}x")


if __name__ == "__main__":
    main()
