"""``rltui plot STUDY VIEW --out FILE``: a chart of a study saved as a picture (SVG, PNG or
plain text), drawn as the window draws it (:mod:`rltui.ui.figures`).

The study is opened to read only: plotting takes no lock, creates nothing and publishes
nothing, so it works on a study that workers are running, or one on a read-only disk.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from rltui.cli.output import add_json_flag, emit, fail, wants_json
from rltui.ui.figures.registry import VIEWS

DEFAULT_SIZE = (120, 40)
THEME_NAMES = ("light", "dark")
KEY_HINT = re.compile(r" \(\w: [^()]*\)$")


def _size(text: str) -> tuple[int, int]:
    """An argparse type: COLSxROWS, in characters (120x40)."""
    cols, sep, rows = text.lower().partition("x")
    if not sep or not cols.strip().isdigit() or not rows.strip().isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not COLSxROWS, as in 120x40")
    return int(cols), int(rows)


def _scale(text: str) -> int:
    """An argparse type: a whole number (its range is checked with the picture's)."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number")
    return int(text)


def add_plot_parser(sub: Any, complete_as: Any) -> None:
    """The ``plot`` command."""
    parser = sub.add_parser(
        "plot",
        help="save a chart of a study as a picture (SVG, PNG or text)",
        description="Save a chart of a study as a picture, drawn as the window draws it: "
        "SVG (vector), PNG (needs Pillow: pip install 'rltui[plot]') or plain text, by the "
        "suffix of --out. The study is only read.",
    )
    complete_as(
        parser.add_argument("study_file", type=Path, help="the study YAML file"),
        "study",
    )
    parser.add_argument(
        "view", choices=tuple(VIEWS), metavar="VIEW", help="the chart: " + ", ".join(VIEWS)
    )
    complete_as(
        parser.add_argument(
            "--out",
            type=Path,
            required=True,
            metavar="FILE",
            help="the picture to write: FILE.svg, .png or .txt",
        ),
        "file",
    )
    complete_as(
        parser.add_argument(
            "--storage", help="Optuna storage URL (default: the journal beside the study file)"
        ),
        "file",
    )
    parser.add_argument(
        "--size",
        type=_size,
        default=DEFAULT_SIZE,
        metavar="COLSxROWS",
        help="the chart's size in characters (default: 120x40); a character is 8x16 pixels",
    )
    parser.add_argument(
        "--theme", choices=THEME_NAMES, default="light", help="light (default) or dark background"
    )
    parser.add_argument(
        "--scale",
        type=_scale,
        default=1,
        metavar="N",
        help="N times the pixels, 1 (default) to 8: a sharper PNG, a bigger SVG",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME",
        help="the parameter of the 'param' view (default: the first); given twice, the x and "
        "y parameters of the 'contour' view (default: the first two)",
    )
    parser.add_argument(
        "--trial",
        type=int,
        nargs="+",
        default=[],
        metavar="N",
        help="the trials of the 'curves' view (default: the best 5 complete ones)",
    )
    add_json_flag(parser, "print what was written (file, bytes, pixels) as one JSON document")


def _refuse(args: argparse.Namespace, message: str) -> int:
    line = f"rltui plot {args.view}: {message}"
    print(line, file=sys.stderr)
    fail(args, line)
    return 1


def _misplaced(args: argparse.Namespace) -> str | None:
    if args.param and args.view not in ("param", "contour"):
        return "--param picks the parameter of the 'param' or 'contour' view; drop it here"
    if len(args.param) > (2 if args.view == "contour" else 1):
        return f"--param is given {len(args.param)} times: the '{args.view}' view takes " + (
            "two (x and y)" if args.view == "contour" else "one"
        )
    if args.trial and args.view != "curves":
        return "--trial picks the trials of the 'curves' view; drop it for this view"
    return None


def cmd_plot(args: argparse.Namespace) -> int:
    from rltui.ui.figures.errors import FigureError

    misplaced = _misplaced(args)
    if misplaced is not None:
        return _refuse(args, misplaced)
    out: Path = args.out
    cols, rows = args.size
    try:
        from rltui.ui.figures.output import check
        from rltui.ui.figures.render import check_size

        # A suffix, size or theme that cannot be made is said before the study is read.
        check(out.suffix, args.theme, args.scale)
        check_size(cols, rows)
    except FigureError as exc:
        return _refuse(args, str(exc))
    if not out.parent.is_dir():
        return _refuse(args, f"the folder {out.parent} does not exist; create it, or pick another")
    ostudy, study = _open(args)
    return _draw(args, ostudy, study.space, out, cols, rows)


def _open(args: argparse.Namespace) -> tuple[Any, Any]:
    from rltui.cli.studies import load
    from rltui.search.study import open_to_read

    study = load(args.study_file, check_storage=args.storage is None)
    ostudy, _ = open_to_read(study, args.storage)
    return ostudy, study


def _draw(
    args: argparse.Namespace, ostudy: Any, space: Any, out: Path, cols: int, rows: int
) -> int:
    from rltui.search.reader import StudyReader
    from rltui.ui.figures.errors import FigureError
    from rltui.ui.figures.registry import FigureOptions
    from rltui.ui.figures.render import EmptyChart, save_chart

    view = VIEWS[args.view]
    snapshot = StudyReader(ostudy).poll()
    options = FigureOptions(params=tuple(args.param), trials=tuple(args.trial), rows=rows)
    try:
        data = view.data(snapshot, space, ostudy, cols, options)
        done = save_chart(view.chart_class(), data, out, cols, rows, args.theme, args.scale)
    except EmptyChart as exc:
        # The window's key hints ("(c: other trials)") name keys this command does not have.
        reason = KEY_HINT.sub("", str(exc))
        return _refuse(args, f"nothing to draw ({reason}); no file was written")
    except FigureError as exc:
        return _refuse(args, str(exc))
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return _refuse(
            args, f"cannot write the picture: {where}{exc.strerror or exc}; pass --out elsewhere"
        )
    if wants_json(args):
        emit(
            {
                "ok": True,
                "study": ostudy.study_name,
                "view": args.view,
                "out": str(done.path.resolve()),
                "format": done.path.suffix.lower().lstrip("."),
                "bytes": done.size,
                "width": done.width,
                "height": done.height,
            }
        )
    else:
        unit = "characters" if done.path.suffix.lower() == ".txt" else "pixels"
        print(f"wrote {done.path} ({done.size:,} bytes, {done.width}x{done.height} {unit})")
    return 0
