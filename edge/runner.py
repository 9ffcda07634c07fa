"""Running probes through an untrusted model, isolated in a worker process (see :mod:`edge.worker`).

The scanner keeps ``jobs`` workers; each runs one model at a time, in a forked child
(``isolation="model"``) or in the worker itself (``isolation="worker"``), with a timeout and
a memory cap, so a model that crashes, hangs or needs ops the interpreter lacks
gets a status (``crashed``, ``timeout``, ``unsupported-ops``) and the scan goes on.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ISOLATION_MODES = ("model", "worker")
# How long a worker may take to answer beyond the model's own timeout (fork, file IO).
_WORKER_GRACE_S = 30.0


@dataclass(frozen=True)
class RunLimits:
    """Per-model limits.

    Attributes:
        timeout_s: wall-clock seconds for loading the model and running every probe.
        memory_mb: address space the model may add on top of the worker's own (``0``: no cap).
        num_threads: LiteRT CPU threads per model.
        isolation: ``"worker"`` (the default: models run in the worker process one after
            another; a crash, hang or memory blow-up costs that model and a worker restart,
            and the tensor arena is reused, so a scan costs about what bare LiteRT does) or
            ``"model"`` (a freshly forked child per model: no model can leave anything
            behind for the next, at roughly 1.5x the bare LiteRT time on small probes).
    """

    timeout_s: float = 120.0
    memory_mb: int = 4096
    num_threads: int = 1
    isolation: str = "worker"

    def __post_init__(self) -> None:
        if self.isolation not in ISOLATION_MODES:
            raise ValueError(f"isolation must be one of {ISOLATION_MODES}, received {self.isolation!r}")
        if self.timeout_s <= 0 or self.memory_mb < 0 or self.num_threads < 1:
            raise ValueError(
                "Expected timeout_s > 0, memory_mb >= 0, num_threads >= 1, received "
                f"{self.timeout_s}, {self.memory_mb}, {self.num_threads}"
            )


@dataclass
class RunOutcome:
    """How running one model ended.

    Attributes:
        status: ``ok``, ``crashed``, ``timeout``, ``unsupported-ops``, ``load-error`` or ``error``.
        outputs: tensor index -> dequantised float32 outputs ``(N, ...)`` (``ok`` only).
        batched: whether all probes ran as one batch (dynamic batch dimension).
        seconds: wall time in the worker (fork to exit); ``invoke_seconds``: inference alone.
    """

    status: str
    detail: str = ""
    outputs: dict[int, np.ndarray] = field(default_factory=dict)
    batched: bool = False
    seconds: float = 0.0
    invoke_seconds: float = 0.0


class Worker:
    """One ``python -m edge.worker`` process, started eagerly so its imports overlap other work."""

    def __init__(self):
        # PYTHONSAFEPATH (3.11+): the worker must not import an ``edge`` package that happens
        # to lie in the current folder, while PYTHONPATH installs keep working.
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONDONTWRITEBYTECODE="1", PYTHONSAFEPATH="1")
        # With isolation="model" each model runs in a freshly forked child, so every page of
        # its tensor arena is first touched there; transparent huge pages for malloc's arenas
        # cut those page faults ~500-fold (glibc >= 2.35 reads this; others ignore it).
        tunables = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t]
        env["GLIBC_TUNABLES"] = ":".join([*tunables, "glibc.malloc.hugetlb=1"])
        self._process = subprocess.Popen(
            [sys.executable, "-m", "edge.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
            bufsize=1,
        )
        self._ready = False
        self.eof = False

    def _read_line(self, timeout: float) -> dict | None:
        """The next reply; ``None`` on silence past ``timeout`` (``self.eof`` tells a dead pipe)."""
        self.eof = False
        selector = selectors.DefaultSelector()
        selector.register(self._process.stdout, selectors.EVENT_READ)
        try:
            if not selector.select(timeout):
                return None
        finally:
            selector.close()
        line = self._process.stdout.readline()
        if not line:
            self.eof = True
            return None
        try:
            reply = json.loads(line)
        except ValueError:
            return None
        return reply if isinstance(reply, dict) else None

    def request(self, payload: dict, timeout: float, in_process: bool = False) -> dict:
        """Sends one request; a dead or silent worker reads as a crashed model.

        With ``in_process`` the model runs in the worker itself, so silence past ``timeout``
        is the model hanging (``timeout``) and a dead pipe is the model crashing the worker.
        """
        if not self._ready:
            if self._read_line(_WORKER_GRACE_S) is None:
                return {"status": "crashed", "detail": "worker process failed to start"}
            self._ready = True
        try:
            self._process.stdin.write(json.dumps(payload) + "\n")
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            return {"status": "crashed", "detail": "worker process died"}
        reply = self._read_line(timeout if in_process else timeout + _WORKER_GRACE_S)
        if reply is not None:
            return reply
        if in_process and not self.eof:
            self._kill()
            return {"status": "timeout", "detail": f"no answer within {timeout} s"}
        self._kill()
        code = self._process.returncode
        if in_process and code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (memory cap or out of memory?)" if name in ("SIGKILL", "SIGABRT") else ""
            return {"status": "crashed", "detail": f"killed by {name}{hint}"}
        return {"status": "crashed", "detail": "worker process died or stopped answering"}

    def _kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self._process.stdin.close()
                self._process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()


class ModelRunner:
    """Runs models in a small pool of workers; use as a context manager.

    Example:
        >>> with ModelRunner(jobs=2) as runner:
        ...     outcome = runner.run(model_bytes, inputs, input_index=0)
    """

    def __init__(self, jobs: int = 1, limits: RunLimits | None = None):
        if jobs < 1:
            raise ValueError(f"jobs must be >= 1, received {jobs}")
        self.limits = limits or RunLimits()
        self._tempdir = tempfile.TemporaryDirectory(prefix="sac-edge-")
        self._workers = [Worker() for _ in range(jobs)]
        self._free = list(self._workers)
        self._lock = threading.Condition()
        self._counter = 0

    def __enter__(self) -> ModelRunner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers:
            worker.close()
        self._tempdir.cleanup()

    def _acquire(self) -> Worker:
        with self._lock:
            while not self._free:
                self._lock.wait()
            worker = self._free.pop()
            if not worker.alive:
                self._workers.remove(worker)
                worker = Worker()
                self._workers.append(worker)
            self._counter += 1
            return worker

    def _release(self, worker: Worker) -> None:
        with self._lock:
            self._free.append(worker)
            self._lock.notify()

    def run(self, model: bytes, inputs: np.ndarray, input_index: int) -> RunOutcome:
        """Runs ``inputs`` (float32, the model's layout, one row per probe) through ``model``.

        Args:
            model: the model's bytes.
            inputs: float32 array ``(N, ...)``; quantised inputs are quantised in the worker.
            input_index: the tensor index of the input to feed.
        """
        worker = self._acquire()
        try:
            workdir = Path(tempfile.mkdtemp(dir=self._tempdir.name))
            model_path = workdir / "model.tflite"
            model_path.write_bytes(model)
            inputs_path = workdir / "inputs.npy"
            np.save(inputs_path, np.ascontiguousarray(inputs, dtype=np.float32))
            reply = worker.request(
                {
                    "model": str(model_path),
                    "inputs": str(inputs_path),
                    "out": str(workdir),
                    "input_index": int(input_index),
                    "timeout_s": self.limits.timeout_s,
                    "memory_mb": self.limits.memory_mb,
                    "num_threads": self.limits.num_threads,
                    "isolation": self.limits.isolation,
                },
                self.limits.timeout_s,
                in_process=self.limits.isolation == "worker",
            )
            outcome = RunOutcome(
                status=str(reply.get("status", "error")),
                detail=str(reply.get("detail", "")),
                batched=bool(reply.get("batched", False)),
                seconds=float(reply.get("seconds", 0.0)),
                invoke_seconds=float(reply.get("invoke_seconds", 0.0)),
            )
            if outcome.status == "ok":
                outcome.outputs = _load_outputs(workdir / "outputs.npz", reply.get("output_indices", []))
                if not outcome.outputs:
                    outcome.status, outcome.detail = "error", "the model wrote no outputs"
            return outcome
        finally:
            self._release(worker)


def _load_outputs(path: Path, indices: list) -> dict[int, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {
                int(index): np.asarray(archive[f"output_{k}"], dtype=np.float32)
                for k, index in enumerate(indices)
                if f"output_{k}" in archive.files
            }
    except (OSError, ValueError, KeyError, EOFError):
        return {}
