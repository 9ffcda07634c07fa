"""The ``zoo build`` and ``evaluate`` sub-commands of ``sac-tf`` (a thin layer over the API).

``sac-tf zoo build quick --out Z`` is :func:`sac_tf.zoo.build_zoo`; ``sac-tf evaluate Z`` is
:func:`sac_tf.evaluation.evaluate_zoo`. :func:`register` adds both to the main parser.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from sac_tf.report import emit_json


def _cmd_zoo_build(args: argparse.Namespace) -> int:
    from sac_tf.zoo import build_zoo, load_config

    config = load_config(args.config)
    if args.dry_run:
        print(config.summary())
        for spec in config.models:
            print(
                f"  {spec.name:36s} {spec.role:12s} {spec.task:9s} {[s['kind'] for s in spec.steps]}"
            )
        return 0
    started = time.perf_counter()
    zoo = build_zoo(config, args.out, download=args.download, progress=not args.quiet)
    seconds = time.perf_counter() - started
    if args.json is not None:
        emit_json(
            {"zoo": str(zoo.folder), "seconds": round(seconds, 1), "models": zoo.fidelity_rows()},
            args.json,
        )
        if args.json in ("-",):
            return 0
    from sac_tf.report import format_table

    print(zoo.summary())
    print(
        format_table(
            zoo.fidelity_rows(),
            ["name", "role", "category", "architecture", "accuracy", "agreement"],
        )
    )
    print(f"built in {seconds:.0f} s")
    return 0


def _cmd_zoo_list(args: argparse.Namespace) -> int:
    from sac_tf.zoo import list_presets, load_config

    for name in list_presets():
        print(f"{name}: {load_config(name).summary()}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from sac_tf.evaluation import evaluate_zoo

    out = args.out or str(Path(args.zoo) / "evaluation")
    results = evaluate_zoo(
        args.zoo,
        methods=args.methods,
        probes=args.probes,
        alpha=args.alpha,
        seed=args.seed,
        out_dir=out,
        plots=not args.no_plots,
        progress=not args.quiet,
    )
    if args.json is not None:
        emit_json(results.to_dict(), args.json)
        if args.json == "-":
            return 0
    markdown = args.format == "markdown"
    print(results.summary())
    print()
    print(results.table(results.methods[0], markdown=markdown))
    print()
    print(results.auc_table(markdown=markdown))
    print(f"\ntables and plots in {out}", file=sys.stderr)
    return 0


def register(subparsers: Any) -> None:
    """Adds ``zoo`` (``build``, ``presets``) and ``evaluate`` to an argparse subparsers object."""
    zoo = subparsers.add_parser(
        "zoo", help="build a zoo of stolen and innocent models from a config"
    )
    zoo_commands = zoo.add_subparsers(dest="zoo_command", required=True)
    build = zoo_commands.add_parser(
        "build", help="train and cache every model of a zoo config (resumable)"
    )
    build.add_argument("config", help="a .toml config or a preset name (quick, paper)")
    build.add_argument(
        "--out", required=True, help="zoo folder; models already built there are skipped"
    )
    build.add_argument(
        "--download", action="store_true", help="let tensorflow-datasets download (needs network)"
    )
    build.add_argument(
        "--dry-run", action="store_true", help="validate the config and list the models only"
    )
    build.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bar")
    build.add_argument(
        "--json", nargs="?", const="-", help="print (or write to a file) the build record as JSON"
    )
    build.set_defaults(func=_cmd_zoo_build)
    presets = zoo_commands.add_parser("presets", help="list the shipped zoo configs")
    presets.set_defaults(func=_cmd_zoo_list)

    evaluate = subparsers.add_parser(
        "evaluate", help="score every suspect of a zoo with SAC and the baselines"
    )
    evaluate.add_argument("zoo", help="a zoo folder made by `sac-tf zoo build`")
    evaluate.add_argument(
        "--methods",
        default=None,
        help="comma-separated: sac-jc, sac-jc-centred, sac-jc-logsoftmax, sac-jc-softmax-t, sac-jc-q10, "
        "sac-w, sac-m, ipguard, modeldiff, or all (default: sac-jc,sac-w,sac-m,ipguard,modeldiff)",
    )
    evaluate.add_argument(
        "--probes", type=int, default=None, help="queries per method (default from the zoo config)"
    )
    evaluate.add_argument(
        "--alpha", type=float, default=None, help="significance level (default 0.05)"
    )
    evaluate.add_argument(
        "--seed", type=int, default=0, help="which held-out images become queries"
    )
    evaluate.add_argument(
        "--out", default=None, help="tables and plots folder (default ZOO/evaluation)"
    )
    evaluate.add_argument("--format", choices=("text", "markdown"), default="text")
    evaluate.add_argument("--no-plots", action="store_true")
    evaluate.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bar")
    evaluate.add_argument(
        "--json", nargs="?", const="-", help="print (or write to a file) the results as JSON"
    )
    evaluate.set_defaults(func=_cmd_evaluate)
