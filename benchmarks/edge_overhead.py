"""Cost of scanning one dynamic-batch model vs the raw LiteRT inference of the probes.

    python benchmarks/edge_overhead.py [--probes 200] [--size 32] [--width 32]

"raw" is what a bare in-process LiteRT run costs: load the model, resize the batch, allocate,
invoke once on all probes, read the output. "scan" is ``edge.scan_model`` with the worker
already running (probe mapping, file hand-off, the run, correlation, verdict): the per-model
cost in a multi-model scan, once with models run in the worker itself (the default) and once
with ``--isolation model`` (a forked process per model). "cold" adds starting the worker
process (Python + NumPy + LiteRT imports): what a one-model scan costs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from edge_common import cnn_tflite, random_fingerprint  # noqa: E402


def _raw(model_path: str, x: np.ndarray) -> float:
    from ai_edge_litert.interpreter import Interpreter

    started = time.perf_counter()
    interpreter = Interpreter(model_path=model_path, num_threads=1)
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, list(x.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(index, x)
    interpreter.invoke()
    interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="edge-bench-"))
    model_path = workdir / "model.tflite"
    model_path.write_bytes(cnn_tflite(0, args.size, 3, args.width, batch=None))
    fp_path = random_fingerprint(workdir / "fp.sacfp", args.probes, args.size, 3)

    from edge.archive import FoundModel
    from edge.runner import ModelRunner, RunLimits
    from edge.scan import scan, scan_model
    from sac_tf.fingerprint import Fingerprint

    fingerprint = Fingerprint.load(fp_path)
    x = fingerprint.preprocessing.apply(fingerprint.probes)
    found = FoundModel(str(model_path), model_path.read_bytes())
    raw_times: list[float] = []
    warm_times: dict[str, list[float]] = {"worker": [], "model": []}
    runners = {mode: ModelRunner(limits=RunLimits(isolation=mode)) for mode in warm_times}
    try:
        for runner in runners.values():
            scan_model(found, fingerprint, runner)  # worker warm-up
        # Interleaved, so that every side sees the same machine load.
        for _ in range(args.repeats):
            raw_times.append(_raw(str(model_path), x))
            for mode, runner in runners.items():
                started = time.perf_counter()
                report = scan_model(found, fingerprint, runner)
                warm_times[mode].append(time.perf_counter() - started)
                assert report.status == "scanned" and report.batched, report
    finally:
        for runner in runners.values():
            runner.close()
    raw = statistics.median(raw_times)
    warm = statistics.median(warm_times["worker"])
    warm_forked = statistics.median(warm_times["model"])
    cold_times = []
    for _ in range(max(args.repeats // 2, 1)):
        started = time.perf_counter()
        scan([model_path], fingerprint)
        cold_times.append(time.perf_counter() - started)
    cold = statistics.median(cold_times)
    print(f"model: {model_path.stat().st_size} bytes, {args.probes} probes {args.size}x{args.size}x3, dynamic batch")
    print(f"raw LiteRT inference : {raw * 1000:8.1f} ms")
    print(f"scan (warm, default --isolation worker): {warm * 1000:8.1f} ms   ratio {warm / raw:.2f}x")
    print(f"scan (warm, --isolation model)         : {warm_forked * 1000:8.1f} ms   ratio {warm_forked / raw:.2f}x")
    print(f"scan (cold, 1 model) : {cold * 1000:8.1f} ms   ratio {cold / raw:.2f}x")
    print(f"worker start-up + fixed costs: {(cold - raw) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
