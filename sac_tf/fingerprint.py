"""The SAC fingerprint: probes, the victim's correlation matrix, and a calibrated decision.

A fingerprint is made once from the victim and can then verify suspects without the victim:
it carries the probes (``uint8``), the victim's ``N x N`` correlation matrix, how the probes
were made and fed (preprocessing, output kind) and, once calibrated, the distances of
independent reference models that set the threshold and p-value
(:mod:`sac_tf.calibration`).
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sac_tf.calibration import Calibration
from sac_tf.correlation import correlation_distance, correlation_matrix
from sac_tf.errors import FingerprintFormatError, InputShapeError, SacError
from sac_tf.fingerprint_file import read_fingerprint_file, write_fingerprint_file
from sac_tf.outputs import ModelLike, as_model, model_outputs
from sac_tf.preprocessing import Preprocessing
from sac_tf.probes import as_uint8_images

VERDICTS = ("stolen", "not-stolen", "inconclusive")


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of checking one suspect against a fingerprint.

    Attributes:
        distance: mean absolute difference of correlation matrices (0 = identical).
        threshold: distance below which the suspect is declared stolen (``None`` if the
            fingerprint is not calibrated).
        p_value: probability that an independent model comes this close (``None`` if not
            calibrated); see :mod:`sac_tf.calibration` for the test.
        empirical_p_value: rank-based p-value against the reference models.
        verdict: ``"stolen"``, ``"not-stolen"`` or ``"inconclusive"`` (no calibration).
        output_used: which model output was compared.
    """

    distance: float
    threshold: float | None
    p_value: float | None
    empirical_p_value: float | None
    verdict: str
    output_used: str

    @property
    def stolen(self) -> bool:
        return self.verdict == "stolen"

    def to_dict(self) -> dict[str, Any]:
        return {
            "distance": self.distance,
            "threshold": self.threshold,
            "p_value": self.p_value,
            "empirical_p_value": self.empirical_p_value,
            "verdict": self.verdict,
            "stolen": self.stolen,
            "output_used": self.output_used,
        }

    def summary(self) -> str:
        if self.threshold is None:
            return f"distance {self.distance:.4f}; fingerprint not calibrated: inconclusive"
        return (
            f"distance {self.distance:.4f} vs threshold {self.threshold:.4f}, "
            f"p-value {self.p_value:.3g}: {self.verdict}"
        )


@dataclass(frozen=True)
class Fingerprint:
    """A SAC fingerprint of a victim model.

    Attributes:
        probes: ``uint8`` probe images ``(N, H, W, C)``.
        correlation: the victim's ``(N, N)`` correlation matrix.
        preprocessing: how probes are scaled before entering a model.
        output: which output is compared (``logits``, ``probabilities``, ``embedding``).
        method: how the probes were chosen, e.g. ``{"name": "sac-jc", "quality": 25}``.
        calibration: the decision rule, or ``None`` before :meth:`calibrate`.
        metadata: free-form record (victim name, dataset, seed, ...).
    """

    probes: np.ndarray
    correlation: np.ndarray
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    output: str = "logits"
    method: dict[str, Any] = field(default_factory=lambda: {"name": "sac-jc", "quality": 25})
    calibration: Calibration | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def num_probes(self) -> int:
        return int(self.probes.shape[0])

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.probes.shape[1:])  # type: ignore[return-value]

    # -- creation --------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        model: ModelLike,
        probes: np.ndarray,
        output: str = "logits",
        preprocessing: Preprocessing | None = None,
        method: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        batch_size: int = 256,
    ) -> Fingerprint:
        """Fingerprints a victim on the given probes.

        Args:
            model: the victim (Keras model, ``.keras`` path, or callable).
            probes: images from :mod:`sac_tf.probes` (``uint8`` or floats in ``[0, 1]``).
            output: ``"logits"`` (reference default), ``"probabilities"`` or ``"embedding"``.
            preprocessing: pixel scaling the victim expects (default ``[0, 1]``).
            method: a record of how probes were chosen (stored in the file).
            metadata: anything else worth keeping (victim name, dataset, seed).

        Example:
            >>> probes = sac_tf.probes.jpeg(heldout_images, quality=25, n=200)
            >>> fp = sac_tf.Fingerprint.create(victim, probes)
        """
        probes = as_uint8_images(probes)
        if probes.shape[0] < 2:
            raise InputShapeError(f"SAC needs at least 2 probes, received {probes.shape[0]}")
        preprocessing = preprocessing or Preprocessing()
        outputs, output_used = model_outputs(model, probes, preprocessing, output, batch_size)
        meta = {
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "victim_output_used": output_used,
            "victim_output_dim": int(outputs.shape[1]),
            **(metadata or {}),
        }
        return cls(
            probes=probes,
            correlation=correlation_matrix(outputs).astype(np.float32),
            preprocessing=preprocessing,
            output=output,
            method=dict(method or {"name": "sac-jc", "quality": 25}),
            metadata=meta,
        )

    # -- scoring ---------------------------------------------------------------------------
    def suspect_correlation(self, model: ModelLike, batch_size: int = 256) -> tuple[np.ndarray, str]:
        """The suspect's correlation matrix on this fingerprint's probes."""
        outputs, used = model_outputs(model, self.probes, self.preprocessing, self.output, batch_size)
        return correlation_matrix(outputs), used

    def distance(self, model: ModelLike, batch_size: int = 256) -> float:
        """SAC distance of a suspect to the victim: mean ``|C_suspect - C_victim|``."""
        return self.distance_from_correlation(self.suspect_correlation(model, batch_size)[0])

    def distance_from_correlation(self, correlation: np.ndarray) -> float:
        return correlation_distance(correlation, self.correlation)

    def distance_from_outputs(self, outputs: np.ndarray) -> float:
        """Distance from outputs computed elsewhere (e.g. by the LiteRT edge runner)."""
        return correlation_distance(correlation_matrix(outputs), self.correlation)

    def decide(self, distance: float, output_used: str = "") -> VerificationResult:
        """Turns a distance into a verdict with this fingerprint's calibration."""
        if self.calibration is None:
            return VerificationResult(distance, None, None, None, "inconclusive", output_used)
        cal = self.calibration
        p_value = cal.p_value(distance)
        return VerificationResult(
            distance=distance,
            threshold=cal.threshold,
            p_value=p_value,
            empirical_p_value=cal.empirical_p_value(distance),
            verdict="stolen" if p_value < cal.alpha else "not-stolen",
            output_used=output_used,
        )

    def verify(self, model: ModelLike, batch_size: int = 256) -> VerificationResult:
        """Decides whether ``model`` was derived from the victim.

        Returns:
            A :class:`VerificationResult` with ``.distance``, ``.threshold``, ``.p_value`` and
            ``.stolen``. Without calibration the verdict is ``"inconclusive"``.
        """
        correlation, used = self.suspect_correlation(model, batch_size)
        return self.decide(self.distance_from_correlation(correlation), used)

    def calibrate(
        self,
        reference_models: Iterable[ModelLike] | dict[str, ModelLike],
        alpha: float = 0.05,
        groups: Iterable[str] | None = None,
        batch_size: int = 256,
    ) -> Fingerprint:
        """Returns a copy calibrated on independently trained reference models.

        The reference models must not be among the suspects you will judge: they define what
        an innocent model looks like. Include models of the victim's own architecture trained
        from other seeds or data.

        Args:
            reference_models: models, or a ``{name: model}`` dict.
            alpha: significance level of the decision.
            groups: one label per reference (e.g. its architecture); the p-value is the
                largest over groups, so the closest kind of innocent model sets the bar.
        """
        if isinstance(reference_models, dict):
            names, models = list(reference_models), list(reference_models.values())
        else:
            models = list(reference_models)
            names = [f"reference-{i}" for i in range(len(models))]
        distances = [self.distance(as_model(m), batch_size) for m in models]
        return self.with_calibration(
            Calibration(np.asarray(distances), alpha, tuple(names), tuple(groups or ()))
        )

    def with_calibration(self, calibration: Calibration) -> Fingerprint:
        return replace(self, calibration=calibration)

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Writes the fingerprint to one ``.npz`` file (no pickle; see :mod:`fingerprint_file`)."""
        header = {
            "method": self.method,
            "output": self.output,
            "preprocessing": self.preprocessing.to_dict(),
            "input_shape": list(self.input_shape),
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
            "metadata": self.metadata,
        }
        distances = (
            np.zeros(0) if self.calibration is None else self.calibration.reference_distances
        )
        return write_fingerprint_file(path, header, self.probes, self.correlation, distances)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Fingerprint:
        """Reads a fingerprint written by :meth:`save`; never executes code from the file."""
        header, arrays = read_fingerprint_file(path)
        calibration = None
        if header.get("calibration"):
            try:
                calibration = Calibration.from_dict(header["calibration"], arrays["reference_distances"])
            except SacError as error:
                raise FingerprintFormatError(f"{path}: invalid calibration: {error}") from None
        return cls(
            probes=arrays["probes"],
            correlation=arrays["correlation"],
            preprocessing=Preprocessing.from_dict(header.get("preprocessing")),
            output=header.get("output", "logits"),
            method=header.get("method", {}),
            calibration=calibration,
            metadata=header.get("metadata", {}),
        )
