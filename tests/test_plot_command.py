"""``rltui plot STUDY VIEW --out FILE``: a chart of a real journal study saved as SVG, PNG or
text; what cannot be drawn or written gets one message, an exit status and no file."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from rltui.cli import main
from rltui.search.study import open_study
from rltui.spec import load_study
from rltui.ui.figures.registry import VIEWS
from tests.conftest import needs_extra
from tests.ui.conftest import SMOKE, script_trials

REPO = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"
needs_pillow = needs_extra("PIL", "plot")


@pytest.fixture
def scripted_study(tmp_path: Path) -> Path:
    """smoke.yaml in a temporary folder, its journal holding trials in every state."""
    path = tmp_path / "smoke.yaml"
    shutil.copy(SMOKE, path)
    ostudy, _ = open_study(load_study(path, check_env=False))
    script_trials(ostudy)
    return path


@pytest.fixture
def empty_study(tmp_path: Path) -> Path:
    """smoke.yaml with a journal whose only trial waits (the file's enqueued one)."""
    folder = tmp_path / "empty"
    folder.mkdir()
    path = folder / "smoke.yaml"
    shutil.copy(SMOKE, path)
    open_study(load_study(path, check_env=False))
    return path


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def plot(*argv: str | Path) -> int:
    return main(["plot", *map(str, argv)])


def test_a_chart_is_saved_as_svg_at_eight_by_sixteen_pixels_a_character(
    scripted_study, tmp_path, capsys
):
    out = tmp_path / "history.svg"
    assert plot(scripted_study, "history", "--out", out) == 0
    root = ET.parse(out).getroot()
    assert (root.get("width"), root.get("height")) == ("960", "640")  # 120x40 by default
    assert "optimisation history" in "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert root.find(f".//{SVG}circle") is not None  # the best-so-far line's braille dots
    said = capsys.readouterr().out
    assert str(out) in said and f"{out.stat().st_size:,} bytes" in said


@needs_pillow
def test_a_chart_is_saved_as_png_at_the_size_and_scale_asked(scripted_study, tmp_path):
    out = tmp_path / "edf.png"
    assert plot(scripted_study, "edf", "--out", out, "--size", "60x20", "--scale", "2") == 0
    assert png_size(out.read_bytes()) == (60 * 8 * 2, 20 * 16 * 2)


def test_a_chart_is_saved_as_plain_text_with_json_saying_what_was_written(
    scripted_study, tmp_path, capsys
):
    out = tmp_path / "curves.txt"
    assert plot(scripted_study, "curves", "--out", out, "--trial", "1", "2", "--json") == 0
    text = out.read_text(encoding="utf-8")
    assert "\x1b" not in text
    assert "reward: trials 1, 2" in text
    doc = json.loads(capsys.readouterr().out)
    assert doc == {
        "ok": True,
        "study": "smoke",
        "view": "curves",
        "out": str(out.resolve()),
        "format": "txt",
        "bytes": out.stat().st_size,
        "width": 120,
        "height": 40,
    }


@pytest.mark.slow  # importance fits fANOVA's forests
# Every view but the Pareto front (the scripted study has one objective: refused below).
@pytest.mark.parametrize("view", [name for name in VIEWS if name != "pareto"])
def test_every_view_draws_the_scripted_study(scripted_study, tmp_path, view):
    out = tmp_path / f"{view}.svg"
    assert plot(scripted_study, view, "--out", out, "--theme", "dark") == 0
    ET.parse(out)


def test_the_param_view_draws_the_parameter_named(scripted_study, tmp_path):
    out = tmp_path / "gamma.txt"
    assert plot(scripted_study, "param", "--param", "gamma", "--out", out) == 0
    assert "gamma vs value" in out.read_text(encoding="utf-8")


def _refused(capsys, *fragments: str) -> None:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err


def test_an_unknown_view_lists_the_views_and_writes_nothing(scripted_study, tmp_path, capsys):
    out = tmp_path / "x.svg"
    with pytest.raises(SystemExit) as exited:
        plot(scripted_study, "contours", "--out", out)
    assert exited.value.code == 2
    _refused(capsys, "invalid choice: 'contours'", "'curves'", "'timeline'")
    assert not out.exists()


def test_a_study_without_finished_trials_has_nothing_to_draw(empty_study, tmp_path, capsys):
    for view in ("curves", "history", "edf", "parallel"):
        out = tmp_path / f"{view}.svg"
        assert plot(empty_study, view, "--out", out) == 1
        err = capsys.readouterr().err
        assert f"rltui plot {view}: nothing to draw (" in err
        assert err.endswith("); no file was written\n")
        assert "c: other" not in err  # a key of the window's, which the command has not
        assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["param", "--param", "gama"], ["no parameter 'gama'", "did you mean 'gamma'?"]),
        (["curves", "--trial", "1", "42"], ["no trial 42", "trials 0 to 6"]),
        (["history", "--trial", "1"], ["--trial picks the trials of the 'curves' view"]),
        (["edf", "--param", "gamma"], ["--param picks the parameter of the 'param' or"]),
        (["param", "--param", "gamma", "--param", "gamma"], ["the 'param' view takes one"]),
        (["pareto"], ["the study has one objective, so no Pareto front"]),
        (["edf", "--size", "8x3"], ["cannot be drawn", "20x6"]),
        (["edf", "--scale", "9"], ["scale 9", "1 to 8"]),
    ],
)
def test_options_that_do_not_fit_get_a_message_and_no_file(
    scripted_study, tmp_path, capsys, extra, fragments
):
    out = tmp_path / "chart.svg"
    assert plot(scripted_study, *extra, "--out", out) == 1
    _refused(capsys, *fragments)
    assert list(tmp_path.glob("chart*")) == []


def test_a_suffix_it_cannot_write_is_named_with_those_it_can(scripted_study, tmp_path, capsys):
    out = tmp_path / "chart.jpg"
    assert plot(scripted_study, "history", "--out", out, "--json") == 1
    _refused(capsys, "'.jpg'", ".svg, .png, .txt")
    assert not out.exists()


def test_a_folder_that_is_not_there_is_named(scripted_study, tmp_path, capsys):
    out = tmp_path / "missing" / "chart.svg"
    assert plot(scripted_study, "history", "--out", out) == 1
    _refused(capsys, f"the folder {out.parent} does not exist")


def test_a_study_never_run_is_an_error_and_nothing_is_created(tmp_path, capsys):
    path = tmp_path / "smoke.yaml"
    shutil.copy(SMOKE, path)
    out = tmp_path / "chart.svg"
    assert plot(path, "history", "--out", out) == 1
    _refused(capsys, "rltui:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["smoke.yaml"]


@needs_pillow
@pytest.mark.slow  # a fresh interpreter loads Optuna, Textual and plotext
def test_the_installed_command_writes_a_png(scripted_study, tmp_path):
    out = tmp_path / "rank.png"
    done = subprocess.run(
        [sys.executable, "-m", "rltui", "plot", str(scripted_study), "rank", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert png_size(out.read_bytes()) == (960, 640)
    assert done.stdout.startswith(f"wrote {out} (")


def test_the_contour_draws_the_two_parameters_named(scripted_study, tmp_path):
    out = tmp_path / "contour.txt"
    args = ("contour", "--param", "gamma", "--param", "learning_rate", "--out", out)
    assert plot(scripted_study, *args, "--size", "80x24") == 0
    text = out.read_text(encoding="utf-8")
    assert "gamma × learning_rate (log)" in text


def test_a_chart_that_draws_fewer_rows_keeps_the_size_asked_for(scripted_study, tmp_path):
    # Importance draws a bar a row, fewer rows than 40: the picture is still 120x40.
    out = tmp_path / "importance.png"
    assert plot(scripted_study, "importance", "--out", out) == 0
    width, height = struct.unpack(">II", out.read_bytes()[16:24])
    assert (width, height) == (120 * 8, 40 * 16)
