"""Tests for edge.runner and edge.worker: isolated LiteRT runs with statuses for every failure."""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import time

import numpy as np
import pytest
from conftest_edge import edge_corpus

from edge import worker
from edge.runner import ModelRunner, RunLimits
from sac_tf.fingerprint import Fingerprint
from sac_tf.tflite_model import TFLiteModel


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return edge_corpus(tmp_path_factory)


@pytest.fixture(scope="module", params=["model", "worker"])
def runner(request):
    with ModelRunner(jobs=1, limits=RunLimits(timeout_s=30, isolation=request.param)) as r:
        yield r


def _inputs(corpus):
    fp = Fingerprint.load(corpus.fingerprint)
    return fp.preprocessing.apply(fp.probes)


@pytest.mark.parametrize(
    "name, batched",
    [("stolen_float32_dynamic", True), ("stolen_int8_dynamic", True), ("stolen_int8_fixed", False),
     ("stolen_float16_fixed", False), ("stolen_uint8_fixed", False)],
)
def test_outputs_match_in_process_litert(corpus, runner, name, batched):
    x = _inputs(corpus)
    data = corpus.models[name].read_bytes()
    outcome = runner.run(data, x, input_index=0 if "dynamic" in name else _input_index(data))
    assert outcome.status == "ok", outcome.detail
    assert outcome.batched is batched
    (values,) = outcome.outputs.values()
    expected = TFLiteModel(data)(x)
    assert values.shape == (len(x), 10)
    np.testing.assert_allclose(values, expected, atol=1e-4)


def _input_index(data):
    from edge.tflite_reader import inspect_model

    return inspect_model(data).inputs[0].index


def test_unsupported_ops(corpus, runner):
    x = np.zeros((3, 16, 16, 1), np.float32)
    for name in ("custom_op", "flex_op"):
        data = corpus.models[name].read_bytes()
        outcome = runner.run(data, x, _input_index(data))
        assert outcome.status == "unsupported-ops", (name, outcome)


@pytest.mark.parametrize("isolation", ["model", "worker"])
def test_timeout_and_memory_cap(corpus, isolation):
    data = corpus.models["stolen_float32_dynamic"].read_bytes()
    x = _inputs(corpus)
    with ModelRunner(limits=RunLimits(timeout_s=1e-4, isolation=isolation)) as r:
        assert r.run(data, x, _input_index(data)).status == "timeout"
        # the scan goes on: the next model is served (by the same or a fresh worker)
        r.limits = RunLimits(timeout_s=30, isolation=isolation)
        assert r.run(data, x, _input_index(data)).status == "ok"
    # A batch whose activations need far more than the 1 MiB the cap allows on top of the
    # worker's own memory (free heap already mapped could absorb a small batch).
    big = np.repeat(x, max(1, 4096 // len(x)), axis=0)
    with ModelRunner(limits=RunLimits(memory_mb=1, isolation=isolation)) as r:
        outcome = r.run(data, big, _input_index(data))
        assert outcome.status in ("crashed", "load-error", "error"), outcome


def test_garbage_model_does_not_kill_the_worker(corpus, runner):
    outcome = runner.run(corpus.bad["garbage_model"].read_bytes(), np.zeros((2, 4), np.float32), 0)
    assert outcome.status in ("load-error", "crashed", "error")
    data = corpus.models["stolen_int8_fixed"].read_bytes()
    assert runner.run(data, _inputs(corpus), _input_index(data)).status == "ok"


def test_worker_classifies_a_segfault_and_a_hang(tmp_path, monkeypatch):
    request = {"out": str(tmp_path), "timeout_s": 0.5}
    def segfault(req):
        faulthandler.disable()  # pytest's handler would print a dump from the forked child
        os.kill(os.getpid(), signal.SIGSEGV)

    monkeypatch.setattr(worker, "_child", segfault)
    reply = worker.handle(request)
    assert reply["status"] == "crashed" and "SIGSEGV" in reply["detail"]

    def hang(req):
        time.sleep(60)
        os._exit(0)

    monkeypatch.setattr(worker, "_child", hang)
    started = time.perf_counter()
    assert worker.handle(request)["status"] == "timeout"
    assert time.perf_counter() - started < 5

    def no_result(req):
        os._exit(7)

    monkeypatch.setattr(worker, "_child", no_result)
    reply = worker.handle(request)
    assert reply["status"] == "crashed" and "code 7" in reply["detail"]
    json.dumps(reply)


def test_a_worker_killed_mid_model_reads_as_crashed_and_is_replaced(corpus):
    import threading

    data = corpus.models["stolen_float32_dynamic"].read_bytes()
    x = _inputs(corpus)
    big = np.repeat(x, 1000, axis=0)  # seconds of work: the kill lands mid-run
    with ModelRunner(limits=RunLimits(timeout_s=60, isolation="worker")) as r:
        assert r.run(data, x, _input_index(data)).status == "ok"  # the worker is up
        pid = r._workers[0]._process.pid
        threading.Timer(0.5, os.kill, (pid, signal.SIGSEGV)).start()
        outcome = r.run(data, big, _input_index(data))
        assert outcome.status == "crashed" and "SIGSEGV" in outcome.detail
        assert r.run(data, x, _input_index(data)).status == "ok"


def test_limits_validate():
    with pytest.raises(ValueError, match="isolation"):
        RunLimits(isolation="none")
    with pytest.raises(ValueError, match="timeout_s"):
        RunLimits(timeout_s=0)
    with pytest.raises(ValueError, match="jobs"):
        ModelRunner(jobs=0)
