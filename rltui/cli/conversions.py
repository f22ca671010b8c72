"""``rltui import zoo|hydra``: a study file written from another tool's configuration.

The conversion itself is :mod:`rltui.convert`'s; this module writes the file (never over an
existing one unless asked), and says what could not be carried over and what the check of
the new study file found.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rltui.cli.output import emit, fail, problem_doc, wants_json


def cmd_import(args: argparse.Namespace) -> int:
    from rltui.convert import Conversion, ConversionError

    try:
        done: Conversion = _convert(args)
    except ConversionError as exc:
        message = f"rltui import: {exc}"
        print(message, file=sys.stderr)
        fail(args, message)
        return 1
    out: Path = args.out or Path(f"{done.name}.yaml")
    if out.exists() and not args.force:
        message = f"rltui import: {out} exists; pass --force to write over it, or --out FILE"
        print(message, file=sys.stderr)
        fail(args, message)
        return 1
    try:
        out.write_text(done.text, encoding="utf-8")
    except OSError as exc:
        message = f"rltui import: cannot write {out}: {exc.strerror or exc}"
        print(message, file=sys.stderr)
        fail(args, message)
        return 1
    errors = [p for p in done.problems if p.severity == "error"]
    lines = [f"{out}: not converted: {item.line()}" for item in done.unmapped]
    lines += [f"{out}: note: {note}" for note in done.notes]
    lines += [problem.format(str(out)) for problem in done.problems]
    if wants_json(args):
        doc: dict[str, Any] = {
            "ok": not errors,
            "file": str(out.resolve()),
            "study": done.name,
            "unmapped": [{"key": u.key, "hint": u.hint} for u in done.unmapped],
            "notes": list(done.notes),
            "problems": [problem_doc(p) for p in done.problems],
        }
        emit(doc)
    else:
        for line in lines:
            print(line, file=sys.stderr)
        state = "with problems to fix" if errors else "ready: rltui validate, then rltui run"
        print(f"wrote {out} ({state})")
    return 1 if errors else 0


def _convert(args: argparse.Namespace) -> Any:
    # The study file will live at --out: a module named in it is looked up beside it.
    where = args.out or None
    if args.source == "zoo":
        from rltui.convert.zoo_import import import_zoo

        return import_zoo(args.file, args.env, args.algo, vec_env=args.vec_env, study_path=where)
    from rltui.convert.hydra_import import import_hydra

    return import_hydra(
        args.config_dir,
        args.config_name,
        args.overrides,
        algorithm=args.algo,
        env_id=args.env,
        study_path=where,
    )


def add_import_parser(sub: Any, complete_as: Any) -> None:
    """The ``import`` command and its ``zoo`` and ``hydra`` sources."""
    parser = sub.add_parser(
        "import", help="write a study file from an rl-baselines3-zoo or Hydra configuration"
    )
    sources = parser.add_subparsers(dest="source", required=True)
    zoo = sources.add_parser(
        "zoo", help="from an rl-baselines3-zoo hyperparams file (e.g. hyperparams/ppo.yml)"
    )
    complete_as(zoo.add_argument("file", type=Path, help="the zoo's hyperparams YAML file"), "file")
    zoo.add_argument("env", help="the entry's env id (CartPole-v1; an Atari game uses 'atari')")
    zoo.add_argument("--algo", help="the algorithm (default: from the file's name, ppo.yml)")
    zoo.add_argument(
        "--vec-env", choices=("dummy", "subproc"), help="the zoo's --vec-env, if you pass it"
    )
    hydra = sources.add_parser(
        "hydra", help="from a Hydra project tuned with the Optuna sweeper (needs rltui[hydra])"
    )
    complete_as(hydra.add_argument("config_dir", type=Path, help="the config folder"), "folder")
    hydra.add_argument("--config-name", help="the primary config (default: config)")
    hydra.add_argument("--algo", help="the algorithm, when the config does not say")
    hydra.add_argument("--env", help="the env id, when the config does not say")
    hydra.add_argument("overrides", nargs="*", help="Hydra overrides (agent=ppo, env.id=...)")
    for source in (zoo, hydra):
        complete_as(
            source.add_argument(
                "--out", type=Path, help="the study file to write (default: NAME.yaml here)"
            ),
            "study",
        )
        source.add_argument("--force", action="store_true", help="write over an existing file")
        source.add_argument(
            "--json", action="store_true", help="print what was written as one JSON document"
        )
