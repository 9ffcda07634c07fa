"""The scan: walk inputs, inspect every model found, run the probes, decide per model.

One entry point, :func:`scan`, that the CLI (``sac-edge scan``) is a thin layer over. The
data path reads in one direction::

    archive walker -> tflite reader -> probe mapping -> LiteRT runner (worker) -> distance -> verdict

TensorFlow is never imported: the fingerprint comes from :mod:`sac_tf.fingerprint` (NumPy and
SciPy), models run in LiteRT.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from edge.archive import FoundModel, WalkLimits, walk
from edge.probe_mapping import NotApplicable, map_probes
from edge.report import ModelReport, ScanReport
from edge.runner import ModelRunner, RunLimits
from edge.tflite_reader import ModelFormatError, ModelInfo, TensorInfo, inspect_model
from sac_tf.errors import OutputError
from sac_tf.fingerprint import Fingerprint

_OUTPUT_NAME_HINTS = {
    "logits": ("logit",),
    "embedding": ("embed", "feature", "pool"),
    "probabilities": ("prob", "softmax", "score"),
}


@dataclass(frozen=True)
class ScanOptions:
    """How to scan.

    Attributes:
        jobs: models run in parallel (one worker process each).
        run_limits: per-model timeout and memory cap.
        walk_limits: archive bounds (zip bombs, nesting).
    """

    jobs: int = 1
    run_limits: RunLimits = field(default_factory=RunLimits)
    walk_limits: WalkLimits = field(default_factory=WalkLimits)

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise ValueError(f"jobs must be >= 1, received {self.jobs}")


def choose_output(info: ModelInfo, outputs: dict[int, np.ndarray], fingerprint: Fingerprint) -> TensorInfo:
    """Picks the output to compare with the victim's, by a fixed rule.

    Candidates are outputs with at least 2 values per probe and one row per probe. Among
    them, in order:

    1. an output whose name says it is the fingerprint's kind (``logits``: "logit";
       ``embedding``: "embed", "feature", "pool"; ``probabilities``: "prob", "softmax");
    2. an output as wide as the victim's (``victim_output_dim`` in the fingerprint);
    3. the widest output (classification heads are wider than box or count outputs), first
       in model order on ties.

    Raises:
        NotApplicable: no output has one row of at least 2 values per probe.
    """
    num = fingerprint.num_probes
    candidates = [
        t
        for t in info.outputs
        if t.index in outputs
        and outputs[t.index].shape[:1] == (num,)
        and int(np.prod(outputs[t.index].shape[1:])) >= 2
    ]
    if not candidates:
        raise NotApplicable("no output gives at least 2 values per probe")
    hints = _OUTPUT_NAME_HINTS.get(fingerprint.output, ())
    named = [t for t in candidates if any(h in t.name.lower() for h in hints)]
    if named:
        return named[0]
    victim_dim = fingerprint.metadata.get("victim_output_dim")
    same_width = [t for t in candidates if int(np.prod(outputs[t.index].shape[1:])) == victim_dim]
    if same_width:
        return same_width[0]
    return max(candidates, key=lambda t: int(np.prod(outputs[t.index].shape[1:])))


def scan_model(
    found: FoundModel, fingerprint: Fingerprint, runner: ModelRunner
) -> ModelReport:
    """Inspects, runs and judges one model; every failure becomes a status, never an exception."""
    report = ModelReport(location=found.location, size=found.size, sha256="", status="scanned")
    try:
        info = inspect_model(found.data)
    except ModelFormatError as error:
        report.sha256 = hashlib.sha256(found.data).hexdigest()
        report.status, report.reason = "corrupt-model", str(error)
        return report
    report.sha256, report.info = info.sha256, info
    if info.needs_unavailable_ops:
        # Said up front, and still tried: an app may link the Flex delegate, we do not.
        report.reason = "needs " + ", ".join((*info.flex_ops, *info.custom_ops))
    try:
        inputs, mapping = map_probes(fingerprint.probes, info, fingerprint.preprocessing)
    except NotApplicable as error:
        report.status, report.reason = "not-applicable", str(error)
        return report
    report.input_mapping = mapping.summary()
    outcome = runner.run(found.data, inputs, mapping.input_index)
    report.batched, report.seconds = outcome.batched, outcome.seconds
    if outcome.status != "ok":
        report.status = outcome.status
        report.reason = "; ".join(r for r in (outcome.detail, report.reason) if r)
        return report
    try:
        output = choose_output(info, outcome.outputs, fingerprint)
        values = outcome.outputs[output.index].reshape(fingerprint.num_probes, -1)
        output_used = f"{output.name or '#' + str(output.index)} ({values.shape[1]} values)"
        result = fingerprint.decide(fingerprint.distance_from_outputs(values), output_used)
    except NotApplicable as error:
        report.status, report.reason = "not-applicable", str(error)
        return report
    except OutputError as error:
        report.status, report.reason = "error", str(error)
        return report
    report.result = result
    return report


def scan(
    paths: list[str | os.PathLike],
    fingerprint: Fingerprint | str | os.PathLike,
    options: ScanOptions | None = None,
    progress: Callable[[int, int, ModelReport], None] | None = None,
) -> ScanReport:
    """Scans files, folders and apps for models derived from a fingerprinted victim.

    Args:
        paths: ``.tflite`` files, folders, APK/XAPK/APKS/APKM/AAB or zip files.
        fingerprint: a :class:`~sac_tf.Fingerprint` or the path of a saved one.
        options: parallelism and limits (:class:`ScanOptions`).
        progress: called as ``progress(done, total, model_report)`` after each model.

    Returns:
        A :class:`~edge.report.ScanReport`: one :class:`~edge.report.ModelReport` per model and
        the findings for what could not be scanned. ``.exit_code`` is 1 if a model is stolen.

    Raises:
        SacError: the fingerprint is missing or corrupt.

    Example:
        >>> report = scan(["app.apk"], "victim.sacfp")
        >>> print(report.table())
    """
    options = options or ScanOptions()
    fingerprint_path = None
    if not isinstance(fingerprint, Fingerprint):
        fingerprint_path = str(fingerprint)
        fingerprint = Fingerprint.load(fingerprint)
    # Workers start now so that their imports overlap the archive walk.
    with ModelRunner(options.jobs, options.run_limits) as runner:
        walked = walk(list(paths), options.walk_limits)
        total = len(walked.models)
        done = 0
        reports: list[ModelReport] = [None] * total  # type: ignore[list-item]

        def one(i: int) -> None:
            nonlocal done
            reports[i] = scan_model(walked.models[i], fingerprint, runner)
            done += 1
            if progress is not None:
                progress(done, total, reports[i])

        if options.jobs == 1 or total <= 1:
            for i in range(total):
                one(i)
        else:
            with ThreadPoolExecutor(options.jobs) as pool:
                list(pool.map(one, range(total)))
    return ScanReport(
        models=reports,
        findings=walked.findings,
        fingerprint=fingerprint_path,
        calibrated=fingerprint.calibration is not None,
    )
