"""How quickly does the Charts tab switch views on a big study, and answer keys meanwhile?

    python bench/view_latency.py [--trials 10000] [--rounds 5] [--keep]

Prints figures beside the targets (first draw of any view <= 200 ms; key p95 <= 50 ms while
charts redraw); asserts nothing.

Inside one process: ``RltuiApp(...).run_test(size=(120, 40))`` on a study of N finished
trials (bench/make_big_study.py: 5 parameters, 20 reports each, COMPLETE / PRUNED / FAIL),
the Charts tab shown, parameter importance computed once beforehand (each method's time is
printed on its own, after the walk: it runs on a thread when the finished trials change,
whichever view is shown). Then
``v`` is pressed to walk through every bottom-right view, ``--rounds`` times. For each press:

  key      t0 (just before ``pilot.press``) to the end of the first screen update after the
           pane switched views: what the user waits for the key to take effect;
  draw     t0 to the end of the first screen update after the new view's chart finished
           building (plotext, on a thread): the view's first draw. A view whose data did not
           change since it was last shown keeps its chart and draws nothing new; those presses
           count for ``key`` only.

  burst    then ``v`` pressed 30 to 120 ms apart, as typing ahead does, so that presses
           land while the last view computes its data or builds its chart; its key time as
           above. (The Pilot hands each key over once the app has taken the last one, so
           presses never pile up faster than the app takes them.)

Screen updates are encoded for a terminal as a real one would be (the hook on
``App._display`` also renders the segments). Timings are wall-clock on whatever else the
machine runs; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_big_study import make_big_study
from ui_latency import HEIGHT, WIDTH, _fmt_ms, _until, load_line

TARGETS = {"draw": "first draw <= 200 ms", "key": "key p95 <= 50 ms"}


class Watch:
    """Times of screen updates and chart builds, hooked into a running app."""

    def __init__(self, app: Any) -> None:
        from rltui.ui.widgets.charts import ChartView

        self.displays: list[float] = []
        self.built: dict[int, list[float]] = {}
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None or app._batch_count:
                return
            renderable.render_segments(app.console)
            self.displays.append(time.perf_counter())

        app._display = display
        built = ChartView.on_chart_view_built
        watch = self

        def on_built(chart: Any, event: Any) -> None:
            built(chart, event)
            if event.generation == chart._generation:
                watch.built.setdefault(id(chart), []).append(time.perf_counter())

        ChartView.on_chart_view_built = on_built  # type: ignore[method-assign]

    def display_after(self, t: float) -> float | None:
        return next((d for d in self.displays if d >= t), None)


async def _walk(study_file: Path, rounds: int) -> dict[str, Any]:
    from rltui.ui.app import RltuiApp
    from rltui.ui.models import views

    app = RltuiApp(study_file)
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await _until(
            lambda: (
                app.main_screen is not None
                and app.main_screen.snapshot is not None
                and app.main_screen.table.row_count
            ),
            300,
            "the study's rows",
        )
        screen = app.main_screen
        assert screen is not None
        await pilot.press("3")
        pane = screen.charts_pane
        pane.focus()
        importance = pane.query_one("#importance")
        await _until(
            lambda: importance.data is not None and importance.data.values,
            600,
            "parameter importance",
        )
        await pilot.pause(1.0)
        watch = Watch(app)
        switched: list[float] = []
        next_view = pane.action_next_view

        def timed_next_view() -> None:
            next_view()
            switched.append(time.perf_counter())

        pane.action_next_view = timed_next_view  # type: ignore[method-assign]
        keys: dict[str, list[float]] = {}
        draws: dict[str, list[float]] = {}
        for _ in range(rounds):
            for _ in views.VIEWS:
                switched.clear()
                t0 = time.perf_counter()
                await pilot.press("v")
                await _until(lambda: switched, 30, "the view to switch")
                handled = switched[0]
                chart = pane.view_chart
                name = pane.view
                await _until(lambda h=handled: watch.display_after(h), 30, "a screen update")
                keys.setdefault(name, []).append(watch.display_after(handled) - t0)  # type: ignore[operator]
                # The new view's chart: built after the press, then shown.
                deadline = time.perf_counter() + 5
                while time.perf_counter() < deadline:
                    built = [b for b in watch.built.get(id(chart), []) if b >= t0]
                    if built and watch.display_after(built[0]):
                        draws.setdefault(name, []).append(watch.display_after(built[0]) - t0)  # type: ignore[operator]
                        break
                    await asyncio.sleep(0.002)
                await asyncio.sleep(0.6)  # let the chart settle before the next switch
        # Then presses in a burst, 30 to 120 ms apart (typing ahead): each lands while the
        # last view computes or builds its chart.
        burst: list[float] = []
        rng = random.Random(0)
        for _ in range(rounds * len(views.VIEWS)):
            switched.clear()
            t0 = time.perf_counter()
            await pilot.press("v")
            await _until(lambda: switched, 30, "the view to switch")
            handled = switched[0]
            await _until(lambda h=handled: watch.display_after(h), 30, "a screen update")
            burst.append(watch.display_after(handled) - t0)  # type: ignore[operator]
            await asyncio.sleep(rng.uniform(0.03, 0.12))
        return {"keys": keys, "draws": draws, "burst": burst}


def time_importance(study_file: Path) -> list[tuple[str, float, str]]:
    """Each importance method on the study, timed alone (the pane runs it on a thread)."""
    from rltui.search.reader import StudyReader
    from rltui.ui.models import importance
    from rltui.ui.services.session import Session

    session = Session.open(study_file)
    snapshot = StudyReader(session.ostudy).poll()
    out = []
    for method in importance.METHODS:
        started = time.perf_counter()
        data = importance.compute(session.ostudy, snapshot, session.study.space, method)
        out.append((method, time.perf_counter() - started, data.message or data.titles[0]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the temporary study")
    args = parser.parse_args(argv)
    print(f"rltui view-switch bench: {args.trials:,} trials, {WIDTH}x{HEIGHT}; {load_line()}")
    work = Path(tempfile.mkdtemp(prefix="rltui-view-bench-"))
    try:
        study = make_big_study(work / "big", args.trials, name="big")
        result = asyncio.run(_walk(study, args.rounds))
        all_keys: list[float] = []
        all_draws: list[float] = []
        for name, keys in result["keys"].items():
            draws = result["draws"].get(name, [])
            all_keys += keys
            all_draws += draws
            print(f"  {name:22} key {_fmt_ms(keys)}")
            print(f"  {'':22} draw {_fmt_ms(draws)} ({len(draws)} of {len(keys)} redrew)")
        print(f"all views: key {_fmt_ms(all_keys)}   (target {TARGETS['key']})")
        print(f"           draw {_fmt_ms(all_draws)}   (target {TARGETS['draw']})")
        print(
            f"in a burst (30-120 ms apart, while charts compute and build): key "
            f"{_fmt_ms(result['burst'])}   (target {TARGETS['key']})"
        )
        print("parameter importance, each method alone (in the window: on a thread, when the")
        print("finished trials change, whichever view shows):")
        for method, seconds, title in time_importance(study):
            print(f"  {method:10} {seconds:6.2f} s   {title}")
    finally:
        if args.keep:
            print(f"study kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"done; {load_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
