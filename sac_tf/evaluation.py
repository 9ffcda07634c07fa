"""Side-by-side evaluation of fingerprinting methods on a built zoo: AUC, F1, p-values, fidelity.

A method is three parts, as in QuRD: **queries** (which inputs to ask, made from the victim
and held-out data), a **representation** (what to keep of a model's outputs on them) and a
**distance** (how far a suspect's representation is from the victim's; small = stolen).

=====================  ===========================  ==========================  ===============
method                 queries                      representation              distance
=====================  ===========================  ==========================  ===============
sac-jc (reference)     JPEG q25 held-out images     1 - cos of raw logits       mean abs diff
sac-jc-centred         JPEG q25                     1 - cos of centred logits   mean abs diff
sac-jc-logsoftmax      JPEG q25                     1 - cos of log-softmax      mean abs diff
sac-jc-softmax-t       JPEG q25                     1 - cos of softmax(z / 20)  mean abs diff
sac-jc-q10             JPEG q10                     1 - cos of raw logits       mean abs diff
sac-w                  victim-misclassified images  1 - cos of raw logits       mean abs diff
sac-m                  CutMix of held-out pairs     1 - cos of raw logits       mean abs diff
ipguard                points near the boundary     predicted labels            1 - agreement
modeldiff              (image, PGD twin) pairs      decision distance vector    1 - cosine
=====================  ===========================  ==========================  ===============

Why the shift-invariant variants: softmax ignores a per-sample constant added to all logits,
and a distilled student is free to take one; raw-logit cosine is not invariant to it, centred
logits and log-softmax are. The reference stays the default; the table says which is better.

Scoring per method and per attack category, against the innocent models of the same task:
AUC over all innocents and over innocents of the victim's architecture (the likeliest
look-alikes), F1 at the threshold set on the *calibration* pool only (grouped log-t test of
:mod:`sac_tf.calibration`, one group per architecture), each suspect's p-value, and the
suspects' mean accuracy and agreement with the victim: a copy that no longer works is no theft.
"""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sac_tf.calibration import Calibration
from sac_tf.correlation import correlation_distance, correlation_matrix
from sac_tf.errors import SacError
from sac_tf.metrics import detection_auc, detection_f1

DEFAULT_METHODS = ("sac-jc", "sac-w", "sac-m", "ipguard", "modeldiff")
REPRESENTATION_METHODS = ("sac-jc-centred", "sac-jc-logsoftmax", "sac-jc-softmax-t", "sac-jc-q10")
# Distances are turned into log-t p-values, which need positive references.
MIN_DISTANCE = 1e-6


class EvaluationError(SacError, ValueError):
    """An evaluation request cannot be met (unknown method, empty pools)."""


# -- queries ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueryContext:
    """What query generators may use: the victim and the held-out data (never the suspects)."""

    victim: Any
    images: np.ndarray
    labels: np.ndarray
    n: int
    seed: int = 0


def _jpeg_queries(quality: int) -> Callable[[QueryContext], np.ndarray]:
    def make(ctx: QueryContext) -> np.ndarray:
        from sac_tf import probes

        return probes.jpeg(ctx.images, quality=quality, n=ctx.n, seed=ctx.seed)

    return make


def _misclassified_queries(ctx: QueryContext) -> np.ndarray:
    from sac_tf import probes
    from sac_tf.outputs import model_outputs

    return probes.misclassified(
        ctx.images, ctx.labels, lambda x: model_outputs(ctx.victim, x)[0], n=ctx.n, seed=ctx.seed
    )


def _cutmix_queries(ctx: QueryContext) -> np.ndarray:
    from sac_tf import probes

    return probes.cutmix(ctx.images, n=ctx.n, seed=ctx.seed)


def _ipguard_queries(ctx: QueryContext) -> np.ndarray:
    from sac_tf.baselines import ipguard_samples

    return ipguard_samples(ctx.victim, ctx.images, n=ctx.n, seed=ctx.seed)


def _modeldiff_queries(ctx: QueryContext) -> np.ndarray:
    from sac_tf.baselines import modeldiff_pairs

    return modeldiff_pairs(ctx.victim, ctx.images, n=max(ctx.n // 2, 2), seed=ctx.seed)


# -- representations -------------------------------------------------------------------------
def logit_correlation(outputs: np.ndarray) -> np.ndarray:
    """The reference: ``1 - cos`` between raw outputs of every pair of probes."""
    return correlation_matrix(outputs)


def centred_correlation(outputs: np.ndarray) -> np.ndarray:
    """``1 - cos`` after subtracting each sample's mean logit (invariant to per-sample shifts)."""
    outputs = np.asarray(outputs, np.float64)
    return correlation_matrix(outputs - outputs.mean(axis=1, keepdims=True))


def log_softmax_correlation(outputs: np.ndarray) -> np.ndarray:
    """``1 - cos`` of log-probabilities (also shift-invariant; keeps the softmax's view)."""
    outputs = np.asarray(outputs, np.float64)
    shifted = outputs - outputs.max(axis=1, keepdims=True)
    return correlation_matrix(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))


def softmax_correlation(temperature: float = 20.0) -> Callable[[np.ndarray], np.ndarray]:
    """``1 - cos`` of ``softmax(z / T)``: what a distilled student was trained to match."""

    def represent(outputs: np.ndarray) -> np.ndarray:
        z = np.asarray(outputs, np.float64) / temperature
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return correlation_matrix(e / e.sum(axis=1, keepdims=True))

    return represent


def _labels(outputs: np.ndarray) -> np.ndarray:
    from sac_tf.baselines import predicted_labels

    return predicted_labels(outputs)


def _ddv(outputs: np.ndarray) -> np.ndarray:
    from sac_tf.baselines import decision_distance_vector

    return decision_distance_vector(outputs)


def _label_distance(a: np.ndarray, b: np.ndarray) -> float:
    from sac_tf.baselines import label_disagreement

    return label_disagreement(a, b)


def _ddv_distance(a: np.ndarray, b: np.ndarray) -> float:
    from sac_tf.baselines import ddv_distance

    return ddv_distance(a, b)


@dataclass(frozen=True)
class Method:
    """A fingerprinting method as queries x representation x distance.

    Attributes:
        name: e.g. ``"sac-jc"``.
        query_set: key of the query generator; methods sharing it share the model outputs.
        queries: makes ``uint8`` probes from a :class:`QueryContext`.
        representation: maps a model's outputs ``(N, D)`` on the probes to what is compared.
        distance: ``distance(suspect_representation, victim_representation)``; small = stolen.
        description: one line for reports.
    """

    name: str
    query_set: str
    queries: Callable[[QueryContext], np.ndarray]
    representation: Callable[[np.ndarray], np.ndarray]
    distance: Callable[[np.ndarray, np.ndarray], float]
    description: str = ""


def _methods() -> dict[str, Method]:
    jpeg25, jpeg10 = _jpeg_queries(25), _jpeg_queries(10)
    mad = correlation_distance
    entries = [
        Method(
            "sac-jc",
            "jpeg-q25",
            jpeg25,
            logit_correlation,
            mad,
            "SAC-JC (reference): JPEG q25, raw-logit correlation",
        ),
        Method(
            "sac-jc-centred",
            "jpeg-q25",
            jpeg25,
            centred_correlation,
            mad,
            "SAC-JC on centred logits",
        ),
        Method(
            "sac-jc-logsoftmax",
            "jpeg-q25",
            jpeg25,
            log_softmax_correlation,
            mad,
            "SAC-JC on log-softmax",
        ),
        Method(
            "sac-jc-softmax-t",
            "jpeg-q25",
            jpeg25,
            softmax_correlation(20.0),
            mad,
            "SAC-JC on softmax(z/20)",
        ),
        Method(
            "sac-jc-q10",
            "jpeg-q10",
            jpeg10,
            logit_correlation,
            mad,
            "SAC-JC with stronger JPEG (q10)",
        ),
        Method(
            "sac-w",
            "misclassified",
            _misclassified_queries,
            logit_correlation,
            mad,
            "SAC-w: victim-misclassified samples",
        ),
        Method("sac-m", "cutmix", _cutmix_queries, logit_correlation, mad, "SAC-m: CutMix samples"),
        Method(
            "ipguard",
            "ipguard",
            _ipguard_queries,
            _labels,
            _label_distance,
            "IPGuard: boundary points, label agreement",
        ),
        Method(
            "modeldiff",
            "modeldiff",
            _modeldiff_queries,
            _ddv,
            _ddv_distance,
            "ModelDiff (simplified search): DDV cosine",
        ),
    ]
    return {m.name: m for m in entries}


METHODS: dict[str, Method] = _methods()


def get_methods(names: Sequence[str] | str | None) -> list[Method]:
    """Methods by name (comma-separated string or list); ``None`` gives :data:`DEFAULT_METHODS`."""
    if names is None:
        names = DEFAULT_METHODS
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if "all" in names:
        names = list(METHODS)
    unknown = [n for n in names if n not in METHODS]
    if unknown or not names:
        raise EvaluationError(
            f"Unknown method(s) {unknown}; expected some of {sorted(METHODS)} (or 'all')"
        )
    return [METHODS[n] for n in dict.fromkeys(names)]


# -- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SuspectScore:
    """One model's distance to the victim under one method, with its verdict."""

    method: str
    name: str
    role: str
    category: str
    task: str
    architecture: str | None
    distance: float
    p_value: float
    stolen_verdict: bool
    accuracy: float | None
    agreement: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CategoryResult:
    """How well one method separates one attack category from the innocent models.

    Attributes:
        auc: AUC against every innocent model of the category's task.
        auc_same_arch: AUC against innocents of the victim's architecture (``None`` if none).
        f1: F1 at the calibrated threshold over this category and all innocents of its task.
        detected: share of the category flagged stolen (p < alpha).
        median_p_value: median of the category's p-values.
        accuracy, agreement: the suspects' mean accuracy and agreement with the victim.
        agreement_margin: mean of (a suspect's agreement minus the mean agreement of the
            innocent models of its architecture); above 0 when the copies follow the victim
            more closely than independent training would, ``None`` without a comparison.
    """

    method: str
    category: str
    role: str
    task: str
    count: int
    auc: float | None
    auc_same_arch: float | None
    f1: float | None
    detected: float
    median_p_value: float
    mean_distance: float
    accuracy: float | None
    agreement: float | None
    agreement_margin: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


@dataclass
class EvaluationResults:
    """Everything :func:`evaluate_zoo` measured, with a readable summary and plain-dict export.

    Example:
        >>> results = evaluate_zoo(Zoo.load("zoo-quick"))
        >>> print(results.summary())
        >>> results.to_dict()["categories"][0]
    """

    zoo: str
    victim_architecture: str | None
    methods: list[str]
    categories: list[CategoryResult]
    suspects: list[SuspectScore]
    thresholds: dict[str, dict[str, float]]
    alpha: float
    probes: dict[str, int]
    seconds: float
    plots: list[str] = field(default_factory=list)

    def category(self, method: str, category: str) -> CategoryResult:
        return next(r for r in self.categories if r.method == method and r.category == category)

    def stolen_categories(self) -> list[str]:
        return list(dict.fromkeys(r.category for r in self.categories if r.role == "stolen"))

    def table_rows(
        self, method: str = "sac-jc", others: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """One row per category: fidelity, ``method``'s AUC / same-arch AUC / F1, others' AUC."""
        others = [m for m in (others if others is not None else self.methods) if m != method]
        rows = []
        seen = list(dict.fromkeys(r.category for r in self.categories))
        for category in seen:
            main = next(
                (r for r in self.categories if r.method == method and r.category == category), None
            )
            if main is None:
                continue
            row: dict[str, Any] = {
                "category": category,
                "task": main.task,
                "n": main.count,
                "acc": main.accuracy,
                "agree": main.agreement,
                "agree vs indep.": main.agreement_margin,
                f"{method} AUC": main.auc,
                "AUC same-arch": main.auc_same_arch,
                "F1": main.f1,
                "flagged": main.detected,
                "median p": main.median_p_value,
            }
            for other in others:
                result = next(
                    (r for r in self.categories if r.method == other and r.category == category),
                    None,
                )
                row[f"{other} AUC"] = (
                    None if result is None or main.role != "stolen" else result.auc
                )
            rows.append(row)
        return rows

    def table(self, method: str | None = None, markdown: bool = False) -> str:
        from sac_tf.report import format_table

        method = method or self.methods[0]
        rows = self.table_rows(method)
        columns = list(dict.fromkeys(k for row in rows for k in row))
        return format_table(rows, columns, markdown=markdown)

    def auc_table(self, markdown: bool = False) -> str:
        """AUC (vs all innocents) of every method by category: the side-by-side comparison."""
        from sac_tf.report import format_table

        rows = []
        for category in self.stolen_categories():
            row: dict[str, Any] = {"category": category}
            for method in self.methods:
                row[method] = self.category(method, category).auc
            rows.append(row)
        return format_table(rows, ["category", *self.methods], markdown=markdown)

    def summary(self) -> str:
        lines = [
            f"Evaluation of zoo {self.zoo!r} (victim {self.victim_architecture}), {len(self.methods)} "
            f"method(s), alpha {self.alpha}, {self.seconds:.0f} s.",
        ]
        for method in self.methods:
            weak = [
                f"{r.category} ({r.auc:.2f})"
                for r in self.categories
                if r.method == method and r.role == "stolen" and r.auc is not None and r.auc < 1.0
            ]
            innocent = [r for r in self.categories if r.method == method and r.role == "innocent"]
            false_positive = _mean([r.detected for r in innocent])
            lines.append(
                f"- {method}: threshold {self.thresholds[method].get('main', float('nan')):.4g}; "
                + (
                    "every category separated perfectly (AUC 1.0)"
                    if not weak
                    else "AUC below 1 for " + ", ".join(weak)
                )
                + (
                    f"; {false_positive:.0%} of innocents flagged"
                    if false_positive is not None
                    else ""
                )
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "zoo": self.zoo,
            "victim_architecture": self.victim_architecture,
            "methods": list(self.methods),
            "alpha": self.alpha,
            "probes": dict(self.probes),
            "thresholds": {k: dict(v) for k, v in self.thresholds.items()},
            "seconds": self.seconds,
            "categories": [r.to_dict() for r in self.categories],
            "suspects": [s.to_dict() for s in self.suspects],
            "plots": list(self.plots),
        }

    def to_csv(self) -> str:
        buffer = io.StringIO()
        rows = [r.to_dict() for r in self.categories]
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()

    def write(self, out_dir: str | os.PathLike) -> list[Path]:
        """Writes ``results.json``, ``categories.csv``, ``suspects.csv`` and ``results.md``."""
        from sac_tf.report import write_json

        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        paths = [write_json(self.to_dict(), folder / "results.json")]
        (folder / "categories.csv").write_text(self.to_csv())
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(self.suspects[0].to_dict()))
        writer.writeheader()
        writer.writerows(s.to_dict() for s in self.suspects)
        (folder / "suspects.csv").write_text(buffer.getvalue())
        markdown = [f"# Evaluation of zoo `{self.zoo}`", "", self.summary(), ""]
        for method in self.methods:
            markdown += [f"## {method}", "", self.table(method, markdown=True), ""]
        markdown += ["## AUC by method", "", self.auc_table(markdown=True), ""]
        (folder / "results.md").write_text("\n".join(markdown))
        paths += [folder / "categories.csv", folder / "suspects.csv", folder / "results.md"]
        return paths


# -- evaluation ------------------------------------------------------------------------------
def _score_category(
    method: str,
    category: str,
    members: list[SuspectScore],
    innocents: list[SuspectScore],
    victim_architecture: str | None,
    threshold: float,
) -> CategoryResult:
    distances = [s.distance for s in members]
    innocent_distances = [s.distance for s in innocents]
    same = [s.distance for s in innocents if s.architecture == victim_architecture]
    role = members[0].role
    stolen = role == "stolen"
    return CategoryResult(
        method=method,
        category=category,
        role=role,
        task=members[0].task,
        count=len(members),
        auc=detection_auc(distances, innocent_distances) if stolen and innocents else None,
        auc_same_arch=detection_auc(distances, same) if stolen and same else None,
        f1=detection_f1(distances, innocent_distances, threshold) if stolen else None,
        detected=float(np.mean([s.stolen_verdict for s in members])),
        median_p_value=float(np.median([s.p_value for s in members])),
        mean_distance=float(np.mean(distances)),
        accuracy=_mean([s.accuracy for s in members]),
        agreement=_mean([s.agreement for s in members]),
        agreement_margin=None if role == "innocent" else _agreement_margin(members, innocents),
    )


def _agreement_margin(members: list[SuspectScore], innocents: list[SuspectScore]) -> float | None:
    margins = []
    for suspect in members:
        peers = [s.agreement for s in innocents if s.architecture == suspect.architecture]
        if suspect.agreement is not None and peers and None not in peers:
            margins.append(suspect.agreement - float(np.mean(peers)))
    return float(np.mean(margins)) if margins else None


def evaluate_zoo(
    zoo: Any,
    methods: Sequence[str] | str | None = None,
    probes: int | None = None,
    alpha: float | None = None,
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    plots: bool = True,
    progress: bool = True,
) -> EvaluationResults:
    """Scores every suspect of a zoo with every method and summarises by attack category.

    Args:
        zoo: a :class:`sac_tf.zoo.Zoo` or its folder.
        methods: method names (see :data:`METHODS`); default :data:`DEFAULT_METHODS`.
        probes: queries per method (default: the zoo config's ``evaluation.probes``, 200).
        alpha: significance level (default: the config's, 0.05).
        seed: which held-out images become queries.
        out_dir: where to write tables and plots (optional).
        plots: draw ROC, distance and heatmap PNGs into ``out_dir``.
        progress: a tqdm bar over models.

    Returns:
        :class:`EvaluationResults`.

    Example:
        >>> results = evaluate_zoo("zoo-quick", methods="sac-jc,ipguard", out_dir="eval")
        >>> print(results.table("sac-jc"))
    """
    from tqdm.auto import tqdm

    from sac_tf.outputs import model_outputs
    from sac_tf.zoo import Zoo

    started = time.perf_counter()
    if not isinstance(zoo, Zoo):
        zoo = Zoo.load(zoo)
    chosen = get_methods(methods)
    settings = zoo.config.get("evaluation", {})
    n = int(probes or settings.get("probes", 200))
    alpha = float(alpha or settings.get("alpha", 0.05))
    victim_record = zoo.victim
    victim = victim_record.load()
    context = QueryContext(victim, zoo.heldout_images, zoo.heldout_labels, n, seed)
    query_sets = {}
    for method in chosen:
        if method.query_set not in query_sets:
            query_sets[method.query_set] = method.queries(context)

    outputs: dict[str, dict[str, np.ndarray]] = {}
    for record in tqdm(zoo.models, desc="evaluate", unit="model", disable=not progress):
        model = victim if record.role == "victim" else record.load()
        outputs[record.name] = {key: model_outputs(model, q)[0] for key, q in query_sets.items()}

    suspects: list[SuspectScore] = []
    categories: list[CategoryResult] = []
    thresholds: dict[str, dict[str, float]] = {}
    correlations: dict[str, np.ndarray] = {}
    victim_arch = victim_record.architecture
    for method in chosen:
        victim_rep = method.representation(outputs[victim_record.name][method.query_set])
        distances: dict[str, float] = {}
        for record in zoo.models:
            if record.role == "victim":
                continue
            representation = method.representation(outputs[record.name][method.query_set])
            distances[record.name] = float(method.distance(representation, victim_rep))
            if method.name == "sac-jc":
                correlations[record.name] = representation
        if method.name == "sac-jc":
            correlations["victim"] = victim_rep
        calibrations: dict[str, Calibration] = {}
        for task in dict.fromkeys(r.task for r in zoo.models if r.role != "victim"):
            pool = zoo.select(role="calibration", task=task)
            if len(pool) < 3:
                raise EvaluationError(
                    f"Task {task!r} has {len(pool)} calibration models; at least 3 needed"
                )
            calibrations[task] = Calibration(
                np.maximum([distances[r.name] for r in pool], MIN_DISTANCE),
                alpha,
                tuple(r.name for r in pool),
                tuple(r.architecture or "?" for r in pool),
            )
        thresholds[method.name] = {task: cal.threshold for task, cal in calibrations.items()}
        scores = []
        for record in zoo.models:
            if record.role == "victim":
                continue
            cal = calibrations[record.task]
            p_value = cal.p_value(distances[record.name])
            scores.append(
                SuspectScore(
                    method.name,
                    record.name,
                    record.role,
                    record.category,
                    record.task,
                    record.architecture,
                    distances[record.name],
                    p_value,
                    p_value < alpha,
                    record.accuracy,
                    record.agreement,
                )
            )
        suspects += scores
        for category in dict.fromkeys(s.category for s in scores):
            members = [s for s in scores if s.category == category]
            innocents = [s for s in scores if s.role == "innocent" and s.task == members[0].task]
            categories.append(
                _score_category(
                    method.name,
                    category,
                    members,
                    innocents,
                    victim_arch,
                    thresholds[method.name][members[0].task],
                )
            )
    results = EvaluationResults(
        zoo=zoo.name,
        victim_architecture=victim_arch,
        methods=[m.name for m in chosen],
        categories=categories,
        suspects=suspects,
        thresholds=thresholds,
        alpha=alpha,
        probes={key: int(len(q)) for key, q in query_sets.items()},
        seconds=0.0,
    )
    if out_dir is not None:
        results.write(out_dir)
        if plots:
            results.plots = [str(p) for p in _draw(results, correlations, Path(out_dir))]
            results.write(out_dir)
    results.seconds = round(time.perf_counter() - started, 1)
    if out_dir is not None:
        results.write(out_dir)
    return results


def _draw(
    results: EvaluationResults, correlations: dict[str, np.ndarray], folder: Path
) -> list[Path]:
    from sac_tf.plotting import plot_correlation_heatmaps, plot_distance_distributions, plot_roc

    paths = []
    for method in results.methods:
        scores = [s for s in results.suspects if s.method == method]
        curves = {}
        for category in results.stolen_categories():
            members = [s for s in scores if s.category == category]
            innocents = [
                s.distance for s in scores if s.role == "innocent" and s.task == members[0].task
            ]
            curves[category] = ([s.distance for s in members], innocents)
        paths.append(
            plot_roc(
                curves, folder / f"roc_{method}.png", title=f"{method}: ROC by attack category"
            )
        )
        by_category: dict[str, list[float]] = {}
        for s in scores:
            by_category.setdefault(s.category, []).append(s.distance)
        paths.append(
            plot_distance_distributions(
                by_category,
                folder / f"distances_{method}.png",
                threshold=results.thresholds[method].get("main"),
                title=f"{method}: distance to the victim",
            )
        )
    if correlations:
        shown = {"victim": correlations["victim"]}
        for category in results.stolen_categories():
            name = f"{category}-0"
            if name in correlations and len(shown) < 6:
                shown[name] = correlations[name]
        innocent = next(
            (s.name for s in results.suspects if s.role == "innocent" and s.name in correlations),
            None,
        )
        if innocent:
            shown[innocent] = correlations[innocent]
        paths.append(plot_correlation_heatmaps(shown, folder / "heatmaps_sac-jc.png"))
    return paths
