"""The worker process that runs untrusted models: ``python -m edge.worker``.

A model from an app may segfault, hang or exhaust memory inside native code, so it never runs
in the scanner's process. The worker starts once (paying for the NumPy and LiteRT imports
once), then, with ``isolation="model"``, forks for each model a child that caps
its own address space (``RLIMIT_AS``), runs the probes and exits; the worker waits with a
timeout and reports how the child ended. One fork per model keeps models isolated from each
other, instead of the ~0.3 s a fresh interpreter process would cost; the child's fresh tensor
arena costs page faults, which huge pages (set by the runner) mostly absorb. With
``isolation="worker"`` (the scanner's default) the model runs in the worker itself under the
same cap: as fast as bare LiteRT, and a crash or hang ends the worker, which the scanner
reports for that model and replaces.

Protocol: one JSON request per line on stdin, one JSON reply per line on the original stdout.
Arrays travel as ``.npy``/``.npz`` files in the scanner's private temp dir, loaded with
``allow_pickle=False`` (a compromised child can write bad numbers, never code).

This module imports only NumPy, the LiteRT interpreter and the standard library.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time

import numpy as np

# A light import: sac_tf resolves its names lazily, so this loads neither SciPy nor TensorFlow.
from sac_tf.tflite_model import dequantize, quantize

UNSUPPORTED_OPS_MARKERS = (
    "Regular TensorFlow ops are not supported",
    "Encountered unresolved custom op",
    "Didn't find op for builtin opcode",
    "Select TensorFlow op",
    "is neither a custom op nor a flex op",
)


def _is_unsupported(message: str) -> bool:
    return any(marker in message for marker in UNSUPPORTED_OPS_MARKERS)


def _run_model(request: dict) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_path=request["model"], num_threads=int(request.get("num_threads", 1)))
        interpreter.allocate_tensors()
    except (RuntimeError, ValueError) as error:
        message = str(error)
        status = "unsupported-ops" if _is_unsupported(message) else "load-error"
        return {"status": status, "detail": message.strip().splitlines()[0][:500] if message else status}

    inputs = np.load(request["inputs"], allow_pickle=False)
    input_index = int(request["input_index"])
    details = {d["index"]: d for d in interpreter.get_input_details()}
    if input_index not in details:
        return {"status": "error", "detail": f"input tensor {input_index} not found"}
    detail = details[input_index]
    fixed_batch = max(int(detail["shape"][0]), 1)
    num = inputs.shape[0]

    def invoke(batch: np.ndarray) -> list[np.ndarray]:
        current = interpreter.get_input_details()
        detail_now = next(d for d in current if d["index"] == input_index)
        interpreter.set_tensor(input_index, quantize(batch, detail_now))
        interpreter.invoke()
        return [
            dequantize(interpreter.get_tensor(d["index"]), d) for d in interpreter.get_output_details()
        ]

    started = time.perf_counter()
    batched = False
    results: list[list[np.ndarray]] = []
    signature = detail.get("shape_signature", detail["shape"])
    if len(signature) and int(signature[0]) == -1:
        try:
            interpreter.resize_tensor_input(input_index, [num, *inputs.shape[1:]])
            interpreter.allocate_tensors()
            results = [invoke(inputs)]
            batched = True
        except (RuntimeError, ValueError):
            # Dynamic in the signature but not in the graph (a fixed reshape): one at a time.
            interpreter.resize_tensor_input(input_index, [1, *inputs.shape[1:]])
            interpreter.allocate_tensors()
            fixed_batch = 1
    if not batched:
        for start in range(0, num, fixed_batch):
            chunk = inputs[start : start + fixed_batch]
            pad = fixed_batch - len(chunk)
            if pad:
                chunk = np.concatenate([chunk, np.zeros((pad, *chunk.shape[1:]), chunk.dtype)])
            outs = invoke(chunk)
            results.append([o[: fixed_batch - pad] if o.shape[:1] == (fixed_batch,) else o for o in outs])
    elapsed = time.perf_counter() - started
    output_details = interpreter.get_output_details()
    arrays = {}
    for k in range(len(output_details)):
        parts = [r[k] for r in results]
        arrays[f"output_{k}"] = np.concatenate(parts, axis=0) if parts[0].ndim else np.stack(parts)
    np.savez(os.path.join(request["out"], "outputs.npz"), **arrays)
    return {
        "status": "ok",
        "batched": batched,
        "invoke_seconds": elapsed,
        "output_indices": [int(d["index"]) for d in output_details],
    }


def _child(request: dict) -> None:
    """Runs in the forked child; never returns."""
    code = 0
    try:
        stderr_path = os.path.join(request["out"], "stderr.txt")
        fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 2)
        os.dup2(fd, 1)
        # The child inherits the worker's mappings (NumPy, LiteRT): cap what it adds.
        _set_memory_cap(int(request.get("memory_mb", 0)))
        result = _run_guarded(request)
        with open(os.path.join(request["out"], "result.json"), "w") as handle:
            json.dump(result, handle)
    except BaseException:
        code = 3
    finally:
        os._exit(code)


def _wait(pid: int, timeout: float) -> int | None:
    """The child's wait status, or ``None`` if it outlived ``timeout``."""
    deadline = time.monotonic() + timeout
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if pidfd is not None:
                select.select([pidfd], [], [], left)
            else:
                time.sleep(min(left, 0.002))
    finally:
        if pidfd is not None:
            os.close(pidfd)


def handle(request: dict) -> dict:
    """Forks a child for one model and reports how it ended."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        _child(request)
    status = _wait(pid, float(request.get("timeout_s", 60)))
    seconds = time.perf_counter() - started
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return {"status": "timeout", "detail": f"no answer within {request.get('timeout_s')} s", "seconds": seconds}
    result_path = os.path.join(request["out"], "result.json")
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        hint = " (memory cap or out of memory?)" if name in ("SIGKILL", "SIGABRT") else ""
        return {"status": "crashed", "detail": f"killed by {name}{hint}", "seconds": seconds}
    try:
        with open(result_path) as handle:
            result = json.load(handle)
    except (OSError, ValueError):
        return {"status": "crashed", "detail": f"exited with code {os.waitstatus_to_exitcode(status)} and no result", "seconds": seconds}
    result["seconds"] = seconds
    return result


def _run_guarded(request: dict) -> dict:
    """Runs the model; Python-level failures become statuses (native ones end the process)."""
    try:
        return _run_model(request)
    except MemoryError:
        return {"status": "crashed", "detail": "out of memory (memory cap reached)"}
    except Exception as error:  # the model's problem, reported, not the scanner's
        message = str(error)
        status = "unsupported-ops" if _is_unsupported(message) else "error"
        return {"status": status, "detail": f"{type(error).__name__}: {message[:500]}"}


def _set_memory_cap(memory_mb: int) -> None:
    """Soft ``RLIMIT_AS`` at what this process maps now plus ``memory_mb`` (0: no cap)."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if memory_mb <= 0:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        return
    with open("/proc/self/statm") as handle:
        mapped = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = mapped + memory_mb * 1024**2
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def handle_in_process(request: dict) -> dict:
    """Runs one model in this worker (``isolation="worker"``).

    No fork: the tensor arena's pages are reused from model to model, which is what makes this
    mode as fast as bare LiteRT. A model that crashes or hangs takes the worker down with it;
    the scanner sees that (a dead pipe, or no answer before the timeout), reports ``crashed``
    or ``timeout``, kills the worker and starts a fresh one for the next model.
    """
    started = time.perf_counter()
    _set_memory_cap(int(request.get("memory_mb", 0)))
    try:
        result = _run_guarded(request)
    finally:
        _set_memory_cap(0)
    result["seconds"] = time.perf_counter() - started
    return result


def serve() -> None:
    """Reads requests until stdin closes."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    # Native code may print to stdout; keep the protocol channel for replies only.
    os.dup2(2, 1)
    from ai_edge_litert.interpreter import Interpreter  # noqa: F401  (import once, fork many)

    protocol.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if request.get("isolation", "worker") == "worker":
                reply = handle_in_process(request)
            else:
                reply = handle(request)
        except Exception as error:  # a bad request must not kill the worker
            reply = {"status": "error", "detail": f"worker: {type(error).__name__}: {error}"}
        protocol.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    serve()
