"""Charts as pictures: terminal text read into cells, and the SVG, PNG and text written from
them (rltui.ui.figures)."""

from __future__ import annotations

import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.text import Text

from rltui.ui.figures import glyphs
from rltui.ui.figures.errors import FigureError
from rltui.ui.figures.grid import grid_of
from rltui.ui.figures.output import SUFFIXES, save
from rltui.ui.figures.png import PILLOW_HINT, png_of
from rltui.ui.figures.registry import VIEWS
from rltui.ui.figures.svg import svg_of
from rltui.ui.figures.themes import DARK, LIGHT, THEMES
from tests.conftest import needs_extra

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REPO = Path(__file__).resolve().parents[2]
needs_pillow = needs_extra("PIL", "plot")


def png_size(data: bytes) -> tuple[int, int]:
    """The width and height a PNG file's IHDR chunk gives."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# The cell grid ----------------------------------------------------------------------------


def test_ansi_text_becomes_cells_with_their_colours_and_weight():
    ansi = (
        "ab\x1b[38;5;6mc\x1b[0m\x1b[1;31md\x1b[0m\x1b[44m \x1b[0m\n"
        "\x1b[2mxy\x1b[0m\x1b[38;2;1;2;3mz\x1b[0m\n"
    )
    grid = grid_of(ansi)
    assert (grid.cols, grid.height) == (5, 2)  # the text's last newline makes no row
    a, _, c, d, blank = grid.rows[0]
    assert (a.char, a.fg, a.bg, a.bold, a.dim) == ("a", None, None, False, False)
    assert (c.char, c.fg) == ("c", 6)  # plotext's 256-colour code for cyan
    assert (d.char, d.fg, d.bold) == ("d", 1, True)
    assert (blank.char, blank.bg) == (" ", 4)
    x, y, z, pad1, pad2 = grid.rows[1]
    assert x.dim and y.dim and not z.dim
    assert z.fg == (1, 2, 3)
    assert pad1.char == pad2.char == " "  # shorter rows are padded to the widest


def test_a_rich_text_is_read_as_its_ansi_would_be():
    text = Text("hi")
    text.stylize("bold magenta", 1, 2)
    h, i = grid_of(text).rows[0]
    assert (h.fg, h.bold) == (None, False)
    assert (i.fg, i.bold) == (5, True)


def test_plain_text_has_no_escapes_and_no_trailing_blanks():
    grid = grid_of("\x1b[31mred\x1b[0m   \nok\n")
    assert grid.plain() == "red\nok\n"


def test_every_theme_maps_every_ansi_colour_and_keeps_them_off_its_background():
    for theme in THEMES.values():
        assert len(theme.ansi) == 16
        for number in range(16):
            assert theme.rgb(number, theme.foreground) != theme.background
        assert theme.rgb(None, theme.foreground) == theme.foreground
        assert theme.rgb(196, theme.foreground) == (255, 0, 0)  # the xterm palette beyond 15
    assert LIGHT.background != DARK.background


# SVG --------------------------------------------------------------------------------------


def svg_tree(ansi: str, scale: int = 1) -> ET.Element:
    return ET.fromstring(svg_of(grid_of(ansi), LIGHT, scale))


@pytest.mark.parametrize("scale", [1, 3])
def test_the_svg_is_eight_by_sixteen_pixels_a_character_times_the_scale(scale):
    root = svg_tree("abc\n" * 4, scale)
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == (str(3 * 8 * scale), str(4 * 16 * scale))
    assert root.get("viewBox") == "0 0 24 64"


@pytest.mark.parametrize(("char", "dots"), [("⠁", 1), ("⠉", 2), ("⡇", 4), ("⣿", 8), ("⠀", 0)])
def test_a_braille_character_is_drawn_as_its_dots(char, dots):
    circles = svg_tree(f"\x1b[38;5;4m{char}\x1b[0m\n").iter(f"{SVG}circle")
    assert len(list(circles)) == dots
    assert len(glyphs.braille_dots(char)) == dots


def test_braille_dots_sit_where_the_codepoint_bits_put_them():
    # dot 1 (top left) and dot 8 (bottom right)
    assert glyphs.braille_dots(chr(0x2800 + 0x01 + 0x80)) == [(0.25, 0.125), (0.75, 0.875)]


def test_scatter_dots_are_round_marks_not_letters():
    root = svg_tree("\x1b[38;5;4m•\x1b[0m·\n")
    assert len(list(root.iter(f"{SVG}circle"))) == 2
    assert list(root.iter(f"{SVG}text")) == []


def test_letters_are_escaped_text_and_shapes_are_not_text():
    root = svg_tree("a<b & c>\"d' ─│┼ █▒\n")
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["a<b & c>\"d'"]
    assert len(list(root.iter(f"{SVG}line"))) == 4  # ─, │ and the two lines of ┼
    rects = list(root.iter(f"{SVG}rect"))
    assert len(rects) == 3  # the background, █ and ▒
    shaded = [g for g in root.iter(f"{SVG}g") if g.get("fill-opacity") == "0.5"]
    assert len(shaded) == 1  # ▒ is a half-opaque block


def test_a_cell_background_is_painted_under_its_mark():
    root = svg_tree("\x1b[31;44m⣿\x1b[0m\n")
    groups = [g for g in root if g.tag == f"{SVG}g"]
    fills = [g.get("fill") for g in groups]
    assert fills == ["#1e50c8", "#c81e1e"]  # the blue background first, the red dots on it


# PNG --------------------------------------------------------------------------------------


@needs_pillow
@pytest.mark.parametrize("scale", [1, 2])
def test_the_png_has_the_size_asked_for(scale):
    data = png_of(grid_of("⣿ab─█\n" * 3), DARK, scale)
    assert png_size(data) == (5 * 8 * scale, 3 * 16 * scale)


@needs_pillow
def test_the_png_paints_the_theme_background_and_the_marks(tmp_path):
    from PIL import Image

    path = save("\x1b[38;5;1m█\x1b[0m \n", tmp_path / "p.png").path
    with Image.open(path) as image:
        assert image.getpixel((4, 8)) == LIGHT.ansi[1]  # the red block fills its cell
        assert image.getpixel((12, 8)) == LIGHT.background
    path = save("\x1b[38;5;2m•\x1b[0m\n", tmp_path / "dot.png").path
    with Image.open(path) as image:
        assert image.getpixel((4, 8)) == LIGHT.ansi[2]  # a scatter dot in the cell's middle
        assert image.getpixel((0, 0)) == LIGHT.background


def test_without_pillow_a_png_says_how_to_install_it(tmp_path):
    code = (
        "import sys; sys.modules['PIL'] = None\n"
        "from rltui.ui.figures import save, FigureError\n"
        "try:\n"
        f"    save('x', {str(tmp_path / 'out.png')!r})\n"
        "except FigureError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert done.returncode == 3, done.stderr
    assert PILLOW_HINT in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "out.png").exists()
    # SVG and text need nothing more.
    code = code.replace("out.png", "out.svg")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out.svg").is_file()


# Saving ------------------------------------------------------------------------------------


@needs_pillow
def test_save_picks_the_format_by_the_suffix(tmp_path):
    ansi = "\x1b[38;5;2m⣿\x1b[0m<x>\n"
    svg = save(ansi, tmp_path / "a.svg", theme="dark", scale=2)
    assert (svg.width, svg.height, svg.size) == (64, 32, svg.path.stat().st_size)
    ET.parse(svg.path)
    png = save(ansi, tmp_path / "a.PNG")
    assert png_size(png.path.read_bytes()) == (32, 16)
    txt = save(ansi, tmp_path / "a.txt")
    assert txt.path.read_text(encoding="utf-8") == "⣿<x>\n"
    assert (txt.width, txt.height) == (4, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.PNG", "a.svg", "a.txt"]


@pytest.mark.parametrize(
    ("name", "theme", "scale", "words"),
    [
        ("a.jpg", "light", 1, ["'.jpg'", *SUFFIXES]),
        ("a", "light", 1, ["no suffix", *SUFFIXES]),
        ("a.svg", "sepia", 1, ["sepia", "light", "dark"]),
        ("a.svg", "light", 0, ["scale 0", "1 to 8"]),
    ],
)
def test_what_cannot_be_made_is_said_and_nothing_is_written(tmp_path, name, theme, scale, words):
    with pytest.raises(FigureError) as caught:
        save("x\n", tmp_path / name, theme=theme, scale=scale)
    for word in words:
        assert word in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_png_too_big_to_hold_in_memory_is_refused_before_it_is_made(tmp_path):
    with pytest.raises(FigureError, match="6400x10240 pixels is too big"):
        save(("x" * 100 + "\n") * 80, tmp_path / "big.png", scale=8)
    with pytest.raises(FigureError, match="empty"):
        save("\n", tmp_path / "empty.svg")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_leaves_the_picture_that_was_there_and_no_scraps(tmpfs):
    from tests.disks import fill

    disk = tmpfs("1m")
    picture = disk / "chart.svg"
    save("old\n", picture)
    before = picture.read_bytes()
    filler = fill(disk)
    with pytest.raises(OSError):
        save("x" * 4000 + "\n", picture)
    assert picture.read_bytes() == before
    assert sorted(p.name for p in disk.iterdir()) == ["chart.svg", filler.name]


def test_a_target_that_is_a_folder_is_refused_and_left_alone(tmp_path):
    (tmp_path / "a.svg").mkdir()
    with pytest.raises(OSError):
        save("x\n", tmp_path / "a.svg")
    assert [p.name for p in tmp_path.iterdir()] == ["a.svg"]
    assert list((tmp_path / "a.svg").iterdir()) == []


# Charts -----------------------------------------------------------------------------------


def test_a_chart_is_drawn_as_the_window_draws_it_at_the_size_asked():
    from rltui.ui.figures.render import chart_picture
    from rltui.ui.models.views import EdfData
    from rltui.ui.widgets.view_charts import EdfChart

    data = EdfData("EDF of 3 values", ((0.0, 1 / 3), (1.0, 2 / 3), (2.0, 1.0)))
    grid = grid_of(chart_picture(EdfChart, data, 60, 15))
    assert (grid.cols, grid.height) == (60, 15)
    assert "EDF of 3 values" in grid.plain()
    assert any(glyphs.is_braille(c.char) and c.fg == 6 for row in grid.rows for c in row)


def test_a_chart_with_nothing_to_draw_says_so_in_its_own_words():
    from rltui.ui.figures.render import EmptyChart, chart_picture
    from rltui.ui.models.views import EdfData
    from rltui.ui.widgets.view_charts import EdfChart

    with pytest.raises(EmptyChart, match="no complete trials"):
        chart_picture(EdfChart, EdfData("EDF", ()), 60, 15)
    with pytest.raises(FigureError, match="20x6"):
        chart_picture(EdfChart, EdfData("EDF", ((0.0, 1.0),)), 10, 3)


def test_every_view_names_a_chart_that_draws():
    from rltui.ui.widgets.charts import ChartView

    assert list(VIEWS) == [
        "curves",
        "history",
        "param",
        "importance",
        "parallel",
        "edf",
        "rank",
        "timeline",
        "contour",
        "slices",
        "pareto",
    ]
    for view in VIEWS.values():
        assert issubclass(view.chart_class(), ChartView)


def test_the_writers_do_not_load_textual(tmp_path):
    code = (
        "import sys\n"
        "from rltui.ui.figures import save\n"
        "import rltui.ui.figures.registry, rltui.ui.figures.svg, rltui.ui.figures.png\n"
        "save('x', sys.argv[1])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'plotext')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "t.svg")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
