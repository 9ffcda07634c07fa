"""Cost of verifying one suspect vs the raw forward pass of its N probes (target <= 1.2x).

    python benchmarks/verify_cost.py [--probes 200] [--arch vgg_small] [--repeats 20]

"raw" is ``model(x, training=False)`` on the probes already scaled to floats: the least any
verifier must spend. "verify" is ``Fingerprint.verify(model)`` on a calibrated fingerprint:
scaling the ``uint8`` probes, the forward pass, the ``N x N`` correlation matrix, the distance
and the p-value. Both are warmed up first and timed as medians over ``--repeats`` runs in the
same process, so the ratio compares like with like.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _median_seconds(function, repeats: int) -> float:
    function()  # warm-up: tracing, allocation
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--arch", default="vgg_small")
    parser.add_argument("--size", type=int, default=32, help="image side (digits resized)")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    import numpy as np

    from sac_tf import Fingerprint, probes
    from sac_tf.data import load_dataset, split_dataset
    from sac_tf.train import train_classifier

    data = split_dataset(
        load_dataset("digits", image_size=args.size), fractions=(0.4, 0.4, 0.2), seed=0
    )
    victim = train_classifier(args.arch, data.victim, epochs=1, seed=0).model
    references = [
        train_classifier("tiny_cnn", data.attacker, epochs=1, seed=s).model for s in (1, 2, 3)
    ]
    suspect = train_classifier(args.arch, data.attacker, epochs=1, seed=9).model
    chosen = probes.jpeg(np.concatenate([data.heldout.images] * 2), n=args.probes, seed=0)
    fingerprint = Fingerprint.create(victim, chosen).calibrate(references)
    x = chosen.astype(np.float32) / 255.0

    raw = _median_seconds(lambda: np.asarray(suspect(x, training=False)), args.repeats)
    verify = _median_seconds(lambda: fingerprint.verify(suspect), args.repeats)
    print(
        f"suspect {args.arch}, {len(chosen)} probes of {chosen.shape[1:]}, median of {args.repeats}"
    )
    print(f"raw forward pass : {raw * 1e3:8.2f} ms")
    print(f"verify (full)    : {verify * 1e3:8.2f} ms")
    print(f"ratio            : {verify / raw:8.2f}x  (target <= 1.2x)")


if __name__ == "__main__":
    main()
