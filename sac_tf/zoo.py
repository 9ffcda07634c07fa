"""The model zoo: a victim, stolen copies of it and innocent models, built from one TOML file.

A zoo is the benchmark side of the project (QuRD keeps it apart from the methods too): it
says nothing about fingerprints, only how every model was made. A config names the data,
the victim, the attacks (each a chain of steps from :mod:`sac_tf.attacks`) and the innocent
pools, with their counts and seeds; :func:`build_zoo` trains every model once, saves it under
``DIR/models/`` and records it in ``DIR/zoo.json``. A model already recorded with the same
recipe is skipped, so an interrupted build resumes where it stopped.

Roles:
    ``victim``: the model being protected.
    ``stolen``: derived from the victim by an attack; its ``category`` names the attack.
    ``innocent``: trained independently (attacker split, its own seed); the negatives.
    ``calibration``: trained independently too, used only to set thresholds and p-values.

Each model also has a ``task``: ``main`` (the victim's labels) or ``transfer`` (the transfer
task's labels). Transfer-learnt thieves are judged against the innocents of their task.

Example config (see ``sac_tf/presets/quick.toml`` for a complete one)::

    name = "mini"
    [data]
    dataset = "digits"
    image_size = 16
    fractions = [0.4, 0.4, 0.2]
    [victim]
    architecture = "tiny_cnn"
    epochs = 5
    [[attacks]]
    category = "finetune-A"
    kind = "finetune"
    layers = "all"
    count = 2
    [[innocent]]
    role = "innocent"
    architectures = ["tiny_cnn", "vgg_small"]
    seeds = [100, 101]
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import os
import time
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from sac_tf.errors import SacError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib  # type: ignore[no-redef]

ROLES = ("victim", "stolen", "innocent", "calibration")
TASKS = ("main", "transfer")
STEP_KINDS = (
    "finetune",
    "fine_prune",
    "extract_labels",
    "extract_probabilities",
    "extract_adversarial",
    "transfer",
    "tflite",
)
# List-valued keys of an attack that vary per model (cycled), and the parameter each sets.
SWEEPS = {
    "architectures": "architecture",
    "ratios": "ratio",
    "alphas": "alpha",
    "quantizations": "quantization",
}
TOP_LEVEL_KEYS = {
    "name",
    "description",
    "seed",
    "data",
    "victim",
    "transfer",
    "evaluation",
    "attacks",
    "innocent",
}
DATA_KEYS = {"dataset", "image_size", "channels", "sizes", "fractions", "split_seed", "data_dir"}
VICTIM_KEYS = {"architecture", "epochs", "batch_size", "learning_rate", "optimizer", "seed"}
INNOCENT_KEYS = {
    "role",
    "task",
    "architectures",
    "seeds",
    "epochs",
    "batch_size",
    "learning_rate",
    "optimizer",
    "category",
}
ATTACK_KEYS = {"category", "kind", "count", "seed", "seeds", "steps", "source", *SWEEPS}
MANIFEST = "zoo.json"
DATA_FILE = "data.npz"


class ZooConfigError(SacError, ValueError):
    """A zoo config is malformed: unknown keys, kinds, architectures or impossible counts."""


class ZooError(SacError):
    """A zoo folder is missing, incomplete or inconsistent."""


# -- config --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSpec:
    """How to make one model of the zoo.

    Attributes:
        name: file stem under ``models/`` and key in the manifest.
        role: one of :data:`ROLES`.
        category: the attack (``"extract-P"``), or ``"innocent"`` / ``"calibration"``.
        task: ``"main"`` or ``"transfer"``.
        steps: the recipe: ``({"kind": ..., **parameters}, ...)``, applied in order starting
            from the victim (stolen) or from scratch (``{"kind": "train", ...}``).
        source: for stolen models whose chain starts from another zoo model (e.g. a TFLite
            conversion of an extracted copy), that model's name; else ``"victim"``.
        seed: the seed of this model (each step receives it).
    """

    name: str
    role: str
    category: str
    task: str
    steps: tuple[dict[str, Any], ...]
    source: str = "victim"
    seed: int = 0

    @property
    def architecture(self) -> str | None:
        for step in reversed(self.steps):
            if "architecture" in step:
                return step["architecture"]
        return None

    @property
    def is_tflite(self) -> bool:
        return bool(self.steps) and self.steps[-1]["kind"] == "tflite"

    @property
    def filename(self) -> str:
        return f"{self.name}.tflite" if self.is_tflite else f"{self.name}.keras"

    def recipe(self) -> dict[str, Any]:
        return {"steps": list(self.steps), "source": self.source, "seed": self.seed}

    def recipe_hash(self) -> str:
        text = json.dumps(self.recipe(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ZooConfig:
    """A validated zoo config: data, victim, transfer task, and every model to build.

    Attributes:
        name: the zoo's name.
        data: ``load_dataset`` / ``split_dataset`` settings.
        victim: the victim's training settings.
        transfer: the transfer task (``{"classes": [...]}``) or ``None``.
        evaluation: defaults for :mod:`sac_tf.evaluation` (probes, quality, alpha).
        models: every model to build after the victim, in build order.
        raw: the parsed TOML, for the record.
    """

    name: str
    data: dict[str, Any]
    victim: dict[str, Any]
    transfer: dict[str, Any] | None
    evaluation: dict[str, Any]
    models: tuple[ModelSpec, ...]
    raw: dict[str, Any] = field(default_factory=dict)

    def count(self, role: str | None = None, task: str | None = None) -> int:
        return sum(
            1
            for m in self.models
            if (role is None or m.role == role) and (task is None or m.task == task)
        )

    @property
    def categories(self) -> list[str]:
        return list(dict.fromkeys(m.category for m in self.models if m.role == "stolen"))

    def summary(self) -> str:
        parts = [
            f"{category} x{sum(1 for m in self.models if m.category == category)}"
            for category in self.categories
        ]
        return (
            f"zoo {self.name!r}: victim {self.victim['architecture']} on {self.data['dataset']}; "
            f"{self.count('stolen')} stolen ({', '.join(parts)}); {self.count('innocent')} innocent, "
            f"{self.count('calibration')} calibration models"
        )


def list_presets() -> list[str]:
    """Names of the configs shipped in ``sac_tf/presets``."""
    folder = resources.files("sac_tf") / "presets"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def read_config_text(name_or_path: str | os.PathLike) -> tuple[str, str]:
    """Returns ``(text, origin)`` of a config file or a preset name."""
    path = Path(name_or_path)
    if path.is_file():
        return path.read_text(), str(path)
    name = str(name_or_path)
    if name in list_presets():
        return (
            resources.files("sac_tf") / "presets" / f"{name}.toml"
        ).read_text(), f"preset {name}"
    raise ZooConfigError(
        f"No zoo config {name!r}: expected a .toml file or a preset name ({', '.join(list_presets())})"
    )


def load_config(name_or_path: str | os.PathLike) -> ZooConfig:
    """Reads and validates a zoo config from a TOML file or a preset name (``quick``, ``paper``).

    Raises:
        ZooConfigError: the file is not valid TOML or does not describe a buildable zoo.

    Example:
        >>> config = load_config("quick")
        >>> print(config.summary())
    """
    text, origin = read_config_text(name_or_path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ZooConfigError(f"{origin}: not valid TOML: {error}") from None
    try:
        return parse_config(raw)
    except ZooConfigError as error:
        raise ZooConfigError(f"{origin}: {error}") from None


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ZooConfigError(
            f"unknown key(s) {unknown} in {where}; expected some of {sorted(allowed)}"
        )


def _step_parameters(kind: str) -> set[str]:
    """Keyword parameters the step's attack function accepts (without its data arguments)."""
    from sac_tf import attacks

    function = {
        "finetune": attacks.finetune,
        "fine_prune": attacks.fine_prune,
        "extract_labels": attacks.extract_labels,
        "extract_probabilities": attacks.extract_probabilities,
        "extract_adversarial": attacks.extract_adversarial,
        "transfer": attacks.transfer,
        "tflite": attacks.to_tflite,
    }[kind]
    data_arguments = {
        "model",
        "victim",
        "images",
        "labels",
        "num_classes",
        "representative_images",
        "path",
    }
    return set(inspect.signature(function).parameters) - data_arguments


def _check_step(step: dict[str, Any], where: str) -> dict[str, Any]:
    from sac_tf.models import ARCHITECTURES

    kind = step.get("kind")
    if kind not in STEP_KINDS:
        raise ZooConfigError(f"{where}: kind must be one of {list(STEP_KINDS)}, received {kind!r}")
    params = {k: v for k, v in step.items() if k != "kind"}
    allowed = _step_parameters(kind)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ZooConfigError(
            f"{where}: {kind} has no parameter(s) {unknown}; expected some of {sorted(allowed)}"
        )
    if "architecture" in params and params["architecture"] not in ARCHITECTURES:
        raise ZooConfigError(
            f"{where}: unknown architecture {params['architecture']!r}; expected one of {sorted(ARCHITECTURES)}"
        )
    if kind == "fine_prune" and not 0 <= params.get("ratio", 0.5) < 1:
        raise ZooConfigError(
            f"{where}: pruning ratio must be in [0, 1), received {params['ratio']}"
        )
    return {"kind": kind, **params}


def _positive_int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ZooConfigError(f"{where} must be a positive integer, received {value!r}")
    return value


def parse_config(raw: dict[str, Any]) -> ZooConfig:
    """Validates a parsed TOML document and expands it into one :class:`ModelSpec` per model."""
    from sac_tf.models import ARCHITECTURES

    _check_keys(raw, TOP_LEVEL_KEYS, "the config")
    for required in ("data", "victim", "attacks", "innocent"):
        if required not in raw:
            raise ZooConfigError(
                f"missing [{required}] table"
                if required in ("data", "victim")
                else f"missing [[{required}]] tables"
            )
    base_seed = int(raw.get("seed", 0))
    data = dict(raw["data"])
    _check_keys(data, DATA_KEYS, "[data]")
    if "dataset" not in data:
        raise ZooConfigError("[data] needs a dataset (mnist, digits, a tfds name or a folder)")
    if "sizes" in data and (not isinstance(data["sizes"], list) or len(data["sizes"]) != 3):
        raise ZooConfigError(
            f"[data] sizes must be [victim, attacker, heldout], received {data['sizes']!r}"
        )
    victim = {
        "epochs": 5,
        "batch_size": 64,
        "learning_rate": 1e-3,
        "optimizer": "adam",
        "seed": base_seed,
        **raw["victim"],
    }
    _check_keys(victim, VICTIM_KEYS, "[victim]")
    if victim.get("architecture") not in ARCHITECTURES:
        raise ZooConfigError(
            f"[victim] architecture must be one of {sorted(ARCHITECTURES)}, received {victim.get('architecture')!r}"
        )
    transfer = raw.get("transfer")
    if transfer is not None:
        _check_keys(transfer, {"classes"}, "[transfer]")
        classes = transfer.get("classes")
        if not isinstance(classes, list) or len(classes) < 2 or len(set(classes)) != len(classes):
            raise ZooConfigError(
                f"[transfer] classes must list at least 2 distinct labels, received {classes!r}"
            )
    evaluation = {"probes": 200, "jpeg_quality": 25, "alpha": 0.05, **raw.get("evaluation", {})}

    models: list[ModelSpec] = []
    if not isinstance(raw["attacks"], list) or not raw["attacks"]:
        raise ZooConfigError("[[attacks]] must be a non-empty array of tables")
    for index, attack in enumerate(raw["attacks"]):
        # A category may span several tables (e.g. one per student architecture); its models
        # are numbered on across them.
        offset = sum(1 for m in models if m.category == attack.get("category"))
        models += [
            replace(spec, name=f"{spec.category}-{offset + i}")
            for i, spec in enumerate(_expand_attack(attack, index, base_seed, transfer))
        ]
    if not isinstance(raw["innocent"], list):
        raise ZooConfigError("[[innocent]] must be an array of tables")
    for index, pool in enumerate(raw["innocent"]):
        models += _expand_pool(pool, index, base_seed, transfer)
    names = [m.name for m in models]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ZooConfigError(
            f"two models would share the name(s) {duplicates}; give their attacks distinct categories"
        )
    known = set(names)
    for model in models:
        if model.source not in ("victim", "scratch") and model.source not in known:
            raise ZooConfigError(
                f"{model.name}: source {model.source!r} is not a model of this zoo"
            )
    tasks = {m.task for m in models if m.role == "stolen"}
    for task in tasks:
        for role in ("innocent", "calibration"):
            needed = 3 if role == "calibration" else 1
            have = sum(1 for m in models if m.role == role and m.task == task)
            if have < needed:
                raise ZooConfigError(
                    f"task {task!r} has stolen models but {have} {role} model(s); at least {needed} needed"
                )
    return ZooConfig(
        str(raw.get("name", "zoo")), data, victim, transfer, evaluation, tuple(models), raw
    )


def _expand_attack(
    attack: dict[str, Any], index: int, base_seed: int, transfer: dict | None
) -> list[ModelSpec]:
    where = f"[[attacks]] #{index + 1}"
    if not isinstance(attack, dict):
        raise ZooConfigError(f"{where} must be a table")
    category = attack.get("category")
    if not isinstance(category, str) or not category:
        raise ZooConfigError(f"{where} needs a category name (e.g. 'extract-P')")
    where = f"[[attacks]] {category!r}"
    kind = attack.get("kind")
    if kind == "chain":
        steps = attack.get("steps")
        if not isinstance(steps, list) or not steps:
            raise ZooConfigError(f"{where}: a chain needs a non-empty steps list")
        extra = sorted(
            set(attack) - {"category", "kind", "count", "seed", "seeds", "steps", "source"}
        )
        if extra:
            raise ZooConfigError(
                f"{where}: put parameters of a chain inside its steps, received {extra}"
            )
        template = [dict(step) for step in steps]
    else:
        template = [
            {k: v for k, v in attack.items() if k not in ATTACK_KEYS | {"kind"}} | {"kind": kind}
        ]
    sweeps = {SWEEPS[k]: v for k, v in attack.items() if k in SWEEPS}
    for key, values in sweeps.items():
        if not isinstance(values, list) or not values:
            raise ZooConfigError(f"{where}: {key}s must be a non-empty list, received {values!r}")
    seeds = attack.get("seeds")
    default_count = max(
        [len(v) for v in sweeps.values()] + [len(seeds) if isinstance(seeds, list) else 1]
    )
    count = _positive_int(attack.get("count", default_count), f"{where}: count")
    if seeds is not None and (not isinstance(seeds, list) or len(seeds) < count):
        raise ZooConfigError(
            f"{where}: seeds must list at least count={count} seeds, received {seeds!r}"
        )
    first_seed = int(attack.get("seed", base_seed + 1000 * (index + 1)))
    specs = []
    for i in range(count):
        steps = []
        for s, step in enumerate(template):
            step = dict(step)
            accepted = _step_parameters(step["kind"]) if step.get("kind") in STEP_KINDS else set()
            for key, values in sweeps.items():
                if key in accepted:
                    step.setdefault(key, values[i % len(values)])
            steps.append(_check_step(step, f"{where} step {s + 1}"))
        for s, step in enumerate(steps[:-1]):
            if step["kind"] == "tflite":
                raise ZooConfigError(
                    f"{where}: tflite must be the last step, found at step {s + 1}"
                )
        task = "transfer" if any(step["kind"] == "transfer" for step in steps) else "main"
        if task == "transfer" and transfer is None:
            raise ZooConfigError(
                f"{where}: a transfer attack needs a [transfer] table with classes"
            )
        seed = int(seeds[i]) if seeds is not None else first_seed + i
        specs.append(
            ModelSpec(
                name=f"{category}-{i}",
                role="stolen",
                category=category,
                task=task,
                steps=tuple(steps),
                source=str(attack.get("source", "victim")),
                seed=seed,
            )
        )
    return specs


def _expand_pool(
    pool: dict[str, Any], index: int, base_seed: int, transfer: dict | None
) -> list[ModelSpec]:
    from sac_tf.models import ARCHITECTURES

    where = f"[[innocent]] #{index + 1}"
    if not isinstance(pool, dict):
        raise ZooConfigError(f"{where} must be a table")
    _check_keys(pool, INNOCENT_KEYS, where)
    role = pool.get("role", "innocent")
    if role not in ("innocent", "calibration"):
        raise ZooConfigError(
            f"{where}: role must be 'innocent' or 'calibration', received {role!r}"
        )
    task = pool.get("task", "main")
    if task not in TASKS:
        raise ZooConfigError(f"{where}: task must be one of {list(TASKS)}, received {task!r}")
    if task == "transfer" and transfer is None:
        raise ZooConfigError(f"{where}: a transfer pool needs a [transfer] table with classes")
    architectures = pool.get("architectures")
    if not isinstance(architectures, list) or not architectures:
        raise ZooConfigError(f"{where}: architectures must be a non-empty list")
    for arch in architectures:
        if arch not in ARCHITECTURES:
            raise ZooConfigError(
                f"{where}: unknown architecture {arch!r}; expected one of {sorted(ARCHITECTURES)}"
            )
    seeds = pool.get("seeds", [base_seed + 100 + index * 10])
    if not isinstance(seeds, list) or not seeds:
        raise ZooConfigError(f"{where}: seeds must be a non-empty list of integers")
    settings = {
        k: pool[k] for k in ("epochs", "batch_size", "learning_rate", "optimizer") if k in pool
    }
    prefix = pool.get("category", role if task == "main" else f"transfer-{role}")
    specs = []
    for arch in architectures:
        for seed in seeds:
            specs.append(
                ModelSpec(
                    name=f"{prefix}-{arch}-s{seed}",
                    role=role,
                    category=prefix,
                    task=task,
                    steps=({"kind": "train", "architecture": arch, **settings},),
                    source="scratch",
                    seed=int(seed),
                )
            )
    return specs


# -- data ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ZooData:
    """The splits a zoo is built from, and the transfer task cut from them."""

    splits: Any  # sac_tf.data.DataSplits
    transfer_attacker: Any | None  # ImageDataset of the transfer task (attacker side)
    transfer_heldout: Any | None

    def task_split(self, task: str, part: str):
        if task == "main":
            return getattr(self.splits, part)
        return self.transfer_attacker if part == "attacker" else self.transfer_heldout


def _transfer_subset(dataset, classes: list[int]):
    from sac_tf.data import ImageDataset

    mapping = {int(c): i for i, c in enumerate(classes)}
    keep = np.isin(dataset.labels, list(mapping))
    labels = np.asarray([mapping[int(label)] for label in dataset.labels[keep]], np.int64)
    return ImageDataset(dataset.images[keep], labels, len(classes), f"{dataset.name}/transfer")


def load_zoo_data(config: ZooConfig, download: bool = False) -> ZooData:
    """Loads and splits the config's dataset (the transfer task is cut from the same splits)."""
    from sac_tf.data import load_dataset, split_dataset

    data = config.data
    dataset = load_dataset(
        data["dataset"],
        image_size=data.get("image_size"),
        channels=data.get("channels"),
        data_dir=data.get("data_dir"),
        download=download,
    )
    sizes = tuple(data["sizes"]) if "sizes" in data else None
    fractions = tuple(data.get("fractions", (0.4, 0.4, 0.2)))
    splits = split_dataset(
        dataset, sizes=sizes, fractions=fractions, seed=int(data.get("split_seed", 0))
    )
    if config.transfer is None:
        return ZooData(splits, None, None)
    classes = config.transfer["classes"]
    return ZooData(
        splits,
        _transfer_subset(splits.attacker, classes),
        _transfer_subset(splits.heldout, classes),
    )


# -- building ------------------------------------------------------------------------------
def _run_step(step: dict[str, Any], model: Any, data: ZooData, seed: int) -> Any:
    from sac_tf import attacks

    params = {k: v for k, v in step.items() if k != "kind"}
    attacker = data.splits.attacker
    kind = step["kind"]
    if kind == "finetune":
        return attacks.finetune(model, attacker.images, attacker.labels, seed=seed, **params)
    if kind == "fine_prune":
        return attacks.fine_prune(model, attacker.images, attacker.labels, seed=seed, **params)
    if kind == "extract_labels":
        return attacks.extract_labels(model, attacker.images, seed=seed, **params)
    if kind == "extract_probabilities":
        return attacks.extract_probabilities(
            model, attacker.images, attacker.labels, seed=seed, **params
        )
    if kind == "extract_adversarial":
        return attacks.extract_adversarial(model, attacker.images, seed=seed, **params)
    if kind == "transfer":
        task = data.transfer_attacker
        return attacks.transfer(
            model, task.images, task.labels, task.num_classes, seed=seed, **params
        )
    if kind == "tflite":
        return attacks.to_tflite(model, representative_images=attacker.images, **params)
    raise ZooConfigError(f"unknown step kind {kind!r}")


def _predict(model: Any, images: np.ndarray) -> np.ndarray:
    from sac_tf.outputs import model_outputs

    return model_outputs(model, images)[0]


def _fidelity(model: Any, victim_labels: np.ndarray | None, heldout) -> dict[str, float | None]:
    predicted = np.argmax(_predict(model, heldout.images), axis=1)
    return {
        "accuracy": float(np.mean(predicted == heldout.labels)),
        "agreement": None if victim_labels is None else float(np.mean(predicted == victim_labels)),
    }


class _Manifest:
    """``zoo.json``: rewritten atomically after every model so a build can resume."""

    def __init__(self, folder: Path, config: ZooConfig):
        self.path = folder / MANIFEST
        self.data: dict[str, Any] = {"models": {}}
        if self.path.is_file():
            try:
                self.data = json.loads(self.path.read_text())
            except json.JSONDecodeError:
                raise ZooError(f"{self.path} is corrupt; delete it to rebuild the zoo") from None
        self.data.update({"name": config.name, "config": config.raw, "format": 1})

    def record(self, name: str, entry: dict[str, Any]) -> None:
        self.data["models"][name] = entry
        self.save()

    def save(self) -> None:
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True, default=float) + "\n")
        os.replace(tmp, self.path)


def _is_built(manifest: _Manifest, folder: Path, spec: ModelSpec) -> bool:
    entry = manifest.data["models"].get(spec.name)
    return (
        bool(entry)
        and entry.get("recipe_hash") == spec.recipe_hash()
        and (folder / "models" / spec.filename).is_file()
    )


def build_zoo(
    config: ZooConfig | str | os.PathLike,
    out_dir: str | os.PathLike,
    download: bool = False,
    progress: bool = True,
) -> Zoo:
    """Builds (or resumes building) every model of a zoo and returns the :class:`Zoo`.

    Models already in ``out_dir/zoo.json`` with the same recipe and file are skipped; change a
    model's recipe in the config and only that model is rebuilt.

    Args:
        config: a :class:`ZooConfig`, a TOML path or a preset name.
        out_dir: the zoo folder (created).
        download: let tensorflow-datasets download (needs network).
        progress: show a tqdm bar, one step per model.

    Returns:
        The built :class:`Zoo`.

    Example:
        >>> zoo = build_zoo("quick", "zoo-quick")
        >>> print(zoo.summary())
    """
    if not isinstance(config, ZooConfig):
        config = load_config(config)
    from tqdm.auto import tqdm

    from sac_tf.train import TrainedModel, save_trained, train_classifier

    folder = Path(out_dir)
    (folder / "models").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    data = load_zoo_data(config, download=download)
    np.savez_compressed(
        folder / DATA_FILE,
        heldout_images=data.splits.heldout.images,
        heldout_labels=data.splits.heldout.labels,
        num_classes=data.splits.heldout.num_classes,
        transfer_classes=np.asarray(
            config.transfer["classes"] if config.transfer else [], np.int64
        ),
    )
    manifest = _Manifest(folder, config)
    manifest.data["data"] = data.splits.to_dict()
    manifest.save()

    victim_spec = ModelSpec(
        "victim",
        "victim",
        "victim",
        "main",
        ({"kind": "train", **config.victim},),
        "scratch",
        int(config.victim["seed"]),
    )
    specs = [victim_spec, *config.models]
    bar = tqdm(specs, desc=f"zoo {config.name}", unit="model", disable=not progress)
    built: dict[str, Any] = {}
    victim_labels: np.ndarray | None = None

    def get_model(name: str) -> Any:
        if name not in built:
            from sac_tf.outputs import load_model

            built[name] = load_model(folder / "models" / manifest.data["models"][name]["file"])
        return built[name]

    for spec in bar:
        bar.set_postfix_str(spec.name)
        if _is_built(manifest, folder, spec):
            continue
        model_started = time.perf_counter()
        if spec.source == "scratch":
            step = spec.steps[0]
            task_data = data.task_split(
                spec.task, "victim" if spec.role == "victim" else "attacker"
            )
            settings = {
                k: step[k]
                for k in ("epochs", "batch_size", "learning_rate", "optimizer")
                if k in step
            }
            model = train_classifier(
                step["architecture"], task_data, seed=spec.seed, name=spec.name, **settings
            ).model
        else:
            model = get_model(spec.source)
            for step in spec.steps:
                model = _run_step(step, model, data, spec.seed)
        path = folder / "models" / spec.filename
        if isinstance(model, bytes):
            path.write_bytes(model)
            from sac_tf.tflite_model import TFLiteModel

            runnable: Any = TFLiteModel(model)
        else:
            save_trained(TrainedModel(model, {"name": spec.name, "role": spec.role}), path)
            runnable = model
        built[spec.name] = runnable
        if victim_labels is None:
            victim_labels = np.argmax(
                _predict(get_model("victim"), data.splits.heldout.images), axis=1
            )
        fidelity = _fidelity(
            runnable,
            victim_labels if spec.task == "main" else None,
            data.task_split(spec.task, "heldout"),
        )
        manifest.record(
            spec.name,
            {
                "file": spec.filename,
                "role": spec.role,
                "category": spec.category,
                "task": spec.task,
                "architecture": _architecture_of(spec, manifest.data["models"], config),
                "format": "tflite" if spec.is_tflite else "keras",
                **spec.recipe(),
                "recipe_hash": spec.recipe_hash(),
                **fidelity,
                "build_seconds": round(time.perf_counter() - model_started, 2),
            },
        )
    # Models of an earlier config that this one no longer names leave the zoo (files are kept).
    wanted = {spec.name for spec in specs}
    stale = {k: v for k, v in manifest.data["models"].items() if k not in wanted}
    if stale:
        manifest.data.setdefault("stale_models", {}).update(stale)
        manifest.data["models"] = {k: v for k, v in manifest.data["models"].items() if k in wanted}
    manifest.data["build_seconds_last_run"] = round(time.perf_counter() - started, 1)
    manifest.save()
    return Zoo.load(folder)


def _architecture_of(spec: ModelSpec, records: dict[str, Any], config: ZooConfig) -> str | None:
    """The model's architecture: its last step's, else its source's (fine-tuned, converted)."""
    if spec.architecture is not None:
        return spec.architecture
    if spec.source == "victim":
        return config.victim["architecture"]
    return records.get(spec.source, {}).get("architecture")


# -- reading -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ZooModel:
    """One model of a built zoo, as recorded in its manifest."""

    name: str
    path: Path
    role: str
    category: str
    task: str
    architecture: str | None
    accuracy: float | None
    agreement: float | None
    record: dict[str, Any]

    def load(self) -> Any:
        """The runnable model: a Keras model, or a :class:`~sac_tf.tflite_model.TFLiteModel`."""
        from sac_tf.outputs import load_model

        return load_model(self.path)


@dataclass(frozen=True)
class Zoo:
    """A built zoo: its models, their records and the held-out data used to judge them.

    Example:
        >>> zoo = Zoo.load("zoo-quick")
        >>> [m.name for m in zoo.select(role="innocent")]
    """

    folder: Path
    name: str
    models: tuple[ZooModel, ...]
    heldout_images: np.ndarray
    heldout_labels: np.ndarray
    transfer_classes: tuple[int, ...]
    config: dict[str, Any]

    @classmethod
    def load(cls, folder: str | os.PathLike) -> Zoo:
        folder = Path(folder)
        manifest_path = folder / MANIFEST
        if not manifest_path.is_file():
            raise ZooError(
                f"{folder} is not a zoo: no {MANIFEST} (build one with `sac-tf zoo build`)"
            )
        manifest = json.loads(manifest_path.read_text())
        if "victim" not in manifest.get("models", {}):
            raise ZooError(f"{folder}: the zoo has no victim yet; finish building it")
        if not (folder / DATA_FILE).is_file():
            raise ZooError(f"{folder}: {DATA_FILE} is missing; rebuild the zoo")
        arrays = np.load(folder / DATA_FILE)
        models = []
        for name, record in manifest["models"].items():
            path = folder / "models" / record["file"]
            if not path.is_file():
                raise ZooError(
                    f"{folder}: model file {path.name} is missing; rerun the build to resume"
                )
            models.append(
                ZooModel(
                    name,
                    path,
                    record["role"],
                    record["category"],
                    record["task"],
                    record.get("architecture"),
                    record.get("accuracy"),
                    record.get("agreement"),
                    record,
                )
            )
        return cls(
            folder,
            manifest.get("name", folder.name),
            tuple(models),
            arrays["heldout_images"],
            arrays["heldout_labels"],
            tuple(int(c) for c in arrays["transfer_classes"]),
            copy.deepcopy(manifest.get("config", {})),
        )

    @property
    def victim(self) -> ZooModel:
        return next(m for m in self.models if m.role == "victim")

    def select(
        self, role: str | None = None, task: str | None = None, category: str | None = None
    ) -> list[ZooModel]:
        return [
            m
            for m in self.models
            if (role is None or m.role == role)
            and (task is None or m.task == task)
            and (category is None or m.category == category)
        ]

    @property
    def categories(self) -> list[str]:
        return list(dict.fromkeys(m.category for m in self.models if m.role == "stolen"))

    def summary(self) -> str:
        counts = {role: len(self.select(role=role)) for role in ROLES[1:]}
        return (
            f"zoo {self.name!r} at {self.folder}: victim {self.victim.architecture} "
            f"(accuracy {self.victim.accuracy:.3f}); {counts['stolen']} stolen in "
            f"{len(self.categories)} categories, {counts['innocent']} innocent, "
            f"{counts['calibration']} calibration models"
        )

    def fidelity_rows(self) -> list[dict[str, Any]]:
        """Accuracy and agreement with the victim of every model, one row each."""
        return [
            {
                "name": m.name,
                "role": m.role,
                "category": m.category,
                "task": m.task,
                "architecture": m.architecture,
                "accuracy": m.accuracy,
                "agreement": m.agreement,
            }
            for m in self.models
        ]
