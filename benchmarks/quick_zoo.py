"""Wall time of building the quick zoo and evaluating it (target < 10 minutes on 2 cores).

    python benchmarks/quick_zoo.py [--out zoo-quick] [--methods sac-jc,sac-w,sac-m,ipguard,modeldiff]

Builds the ``quick`` preset from scratch into ``--out`` (which must not hold a built zoo,
or the resumed build would be timed) and evaluates it; prints both times and the table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="zoo folder (default: a temporary folder)")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--methods", default=None)
    args = parser.parse_args()

    started = time.perf_counter()
    from sac_tf.evaluation import evaluate_zoo
    from sac_tf.zoo import build_zoo

    folder = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="sac-zoo-"))
    if (folder / "zoo.json").exists():
        raise SystemExit(f"{folder} already holds a zoo; pass an empty --out to time a full build")
    zoo = build_zoo(args.preset, folder)
    built = time.perf_counter()
    results = evaluate_zoo(zoo, methods=args.methods, out_dir=folder / "evaluation")
    done = time.perf_counter()
    print(results.summary())
    print(results.table(results.methods[0]))
    print(
        f"\nbuild {built - started:.0f} s (imports included), evaluate {done - built:.0f} s, "
        f"total {done - started:.0f} s (target < 600 s)"
    )
    if not args.out:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
