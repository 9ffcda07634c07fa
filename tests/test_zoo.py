"""The zoo config parser (bad configs give clear errors), the presets, and a resumable build."""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("tensorflow")

TINY_CONFIG = """
name = "tiny"
seed = 0
[data]
dataset = "digits"
image_size = 16
fractions = [0.4, 0.4, 0.2]
[victim]
architecture = "tiny_cnn"
epochs = 4
[transfer]
classes = [5, 6, 7, 8, 9]
[evaluation]
probes = 40
[[attacks]]
category = "finetune-A"
kind = "finetune"
layers = "all"
epochs = 1
[[attacks]]
category = "extract-L"
kind = "extract_labels"
architectures = ["tiny_cnn"]
epochs = 2
[[attacks]]
category = "transfer"
kind = "transfer"
epochs = 1
[[attacks]]
category = "tflite-fp16"
kind = "tflite"
quantization = "float16"
[[innocent]]
role = "innocent"
architectures = ["tiny_cnn"]
seeds = [100, 101]
epochs = 2
[[innocent]]
role = "calibration"
architectures = ["tiny_cnn"]
seeds = [200, 201, 202]
epochs = 2
[[innocent]]
role = "innocent"
task = "transfer"
architectures = ["tiny_cnn"]
seeds = [300]
epochs = 1
[[innocent]]
role = "calibration"
task = "transfer"
architectures = ["tiny_cnn"]
seeds = [400, 401, 402]
epochs = 1
"""


def _parse(text: str):
    import tomllib

    from sac_tf.zoo import parse_config

    return parse_config(tomllib.loads(text))


def _copy_of(zoo, tmp_path):
    """A private copy of the shared tiny zoo (folder ``built`` beside its ``tiny.toml``)."""
    from sac_tf.zoo import Zoo

    shutil.copytree(zoo.folder, tmp_path / "built")
    shutil.copy(zoo.folder.parent / "tiny.toml", tmp_path / "tiny.toml")
    return Zoo.load(tmp_path / "built")


def test_presets_parse_and_validate():
    from sac_tf.zoo import list_presets, load_config

    assert {"quick", "paper"} <= set(list_presets())
    quick = load_config("quick")
    assert quick.count("stolen") + quick.count("innocent") >= 30
    assert {
        "finetune-A",
        "finetune-L",
        "prune",
        "extract-L",
        "extract-P",
        "extract-adv",
        "transfer",
        "tflite-fp16",
        "tflite-int8",
    } <= set(quick.categories)
    paper = load_config("paper")
    assert paper.count("innocent", task="main") >= 20
    for category in ("extract-L", "extract-P", "extract-adv"):
        assert sum(1 for m in paper.models if m.category == category) == 20
    assert "paper" in paper.summary()


def test_paper_preset_fails_fast_offline():
    from sac_tf.errors import DatasetError
    from sac_tf.zoo import load_config, load_zoo_data

    with pytest.raises(DatasetError, match="cifar10"):
        load_zoo_data(load_config("paper"))


def test_sweeps_expand_to_one_model_each():
    config = _parse(
        TINY_CONFIG.replace(
            'architectures = ["tiny_cnn"]\nepochs = 2',
            'architectures = ["tiny_cnn", "vgg_small"]\nepochs = 2',
            1,
        )
    )
    students = [m for m in config.models if m.category == "extract-L"]
    assert [m.architecture for m in students] == ["tiny_cnn", "vgg_small"]
    assert len({m.seed for m in students}) == 2
    assert {m.task for m in config.models if m.category == "transfer"} == {"transfer"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('kind = "finetune"', 'kind = "steal"'), "kind must be one of"),
        (('layers = "all"', 'layerz = "all"'), "has no parameter"),
        (
            ('architectures = ["tiny_cnn"]\nepochs = 2', 'architectures = ["alexnet"]\nepochs = 2'),
            "unknown architecture",
        ),
        (("seeds = [200, 201, 202]", "seeds = [200]"), "calibration"),
        (("[victim]", "[victim]\ncolour = 1"), "unknown key"),
        (("[transfer]\nclasses = [5, 6, 7, 8, 9]", ""), r"\[transfer\]"),
        (("epochs = 1\n[[attacks]]", "epochs = 1\ncount = 0\n[[attacks]]"), "positive integer"),
    ],
)
def test_bad_configs_give_clear_errors(change, message):
    from sac_tf.zoo import ZooConfigError

    old, new = change
    assert old in TINY_CONFIG
    with pytest.raises(ZooConfigError, match=message):
        _parse(TINY_CONFIG.replace(old, new, 1))


def test_bad_toml_and_unknown_presets(tmp_path):
    from sac_tf.errors import SacError
    from sac_tf.zoo import load_config

    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    with pytest.raises(SacError, match="not valid TOML"):
        load_config(broken)
    with pytest.raises(SacError, match="quick"):
        load_config("no-such-preset")


def test_build_records_every_model(tiny_zoo):
    assert tiny_zoo.victim.architecture == "tiny_cnn"
    roles = {m.role for m in tiny_zoo.models}
    assert roles == {"victim", "stolen", "innocent", "calibration"}
    tflite = [m for m in tiny_zoo.models if m.category == "tflite-fp16"]
    assert tflite[0].path.suffix == ".tflite"
    for model in tiny_zoo.models:
        assert 0.0 <= model.accuracy <= 1.0
        if model.task == "main":
            assert 0.0 <= model.agreement <= 1.0
        else:
            assert model.agreement is None
    assert tiny_zoo.victim.agreement == 1.0
    assert "stolen" in tiny_zoo.summary()


def test_build_resumes_and_skips_built_models(tiny_zoo, tmp_path):
    from sac_tf.zoo import build_zoo

    zoo = _copy_of(tiny_zoo, tmp_path)
    folder = zoo.folder
    before = {m.name: m.path.stat().st_mtime_ns for m in zoo.models}
    manifest = json.loads((folder / "zoo.json").read_text())
    del manifest["models"]["extract-L-0"]
    (folder / "zoo.json").write_text(json.dumps(manifest))
    rebuilt = build_zoo(folder.parent / "tiny.toml", folder, progress=False)
    after = {m.name: m.path.stat().st_mtime_ns for m in rebuilt.models}
    assert after.keys() == before.keys()
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"extract-L-0"}


def test_loading_a_folder_that_is_not_a_zoo(tmp_path):
    from sac_tf.zoo import Zoo, ZooError

    with pytest.raises(ZooError, match="not a zoo"):
        Zoo.load(tmp_path)


def test_models_dropped_from_the_config_leave_the_zoo(tiny_zoo, tmp_path):
    from sac_tf.zoo import build_zoo

    folder = _copy_of(tiny_zoo, tmp_path).folder
    smaller = tmp_path / "smaller.toml"
    start = TINY_CONFIG.index('[[attacks]]\ncategory = "tflite-fp16"')
    end = TINY_CONFIG.index("[[innocent]]")
    smaller.write_text(TINY_CONFIG[:start] + TINY_CONFIG[end:])
    rebuilt = build_zoo(smaller, folder, progress=False)
    assert "tflite-fp16" not in rebuilt.categories
    assert "tflite-fp16-0" in json.loads((folder / "zoo.json").read_text())["stale_models"]
    restored = build_zoo(folder.parent / "tiny.toml", folder, progress=False)
    assert "tflite-fp16" in restored.categories
