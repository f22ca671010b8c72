"""The preview before applying an edit to a study with several objectives: a change of the
objectives, or of their directions, is listed with why the study refuses it, and given as the
problem publishing would raise."""

from __future__ import annotations

import pytest

from rltui.search.study import open_study, publish_spec
from rltui.spec import SpecError, load_study, parse_study
from rltui.spec.changes import refused_changes, study_changes
from tests.spec.test_loader import GOOD

TWO = GOOD + "objectives: [reward, wall_time]\n"


def changes(before: str, after: str) -> list[str]:
    old = parse_study(before, None, check_env=False)
    new = parse_study(after, None, check_env=False)
    return [f"{c.section}: {c.describe()}" for c in study_changes(old, new)]


def refused(before: str, after: str) -> list[str]:
    old = parse_study(before, None, check_env=False)
    new = parse_study(after, None, check_env=False)
    return [f"{'.'.join(p.path)}: {p.message} ({p.hint})" for p in refused_changes(old, new)]


def test_other_objectives_are_listed_by_name_and_refused() -> None:
    after = GOOD + "objectives: [auc, wall_time]\n"
    why = "this study's trials hold values of [reward, wall_time]; its objectives cannot change"
    assert changes(TWO, after) == [
        f"settings: objectives: [reward, wall_time] → [auc, wall_time] (refused: {why} "
        "to [auc, wall_time])"
    ]
    assert refused(TWO, after) == [
        f"objectives: {why} to [auc, wall_time] (keep them, or use another 'name' for a new study)"
    ]


def test_a_steps_to_threshold_is_an_objective_of_its_own() -> None:
    before = GOOD + "objectives: [reward, {name: steps_to, threshold: 475}]\n"
    after = GOOD + "objectives: [reward, {name: steps_to, threshold: 400}]\n"
    (line,) = changes(before, after)
    assert line.startswith("settings: objectives: [reward, steps_to 475] → [reward, steps_to 400]")
    assert "(refused: " in line


def test_other_directions_for_the_same_objectives_are_refused() -> None:
    after = TWO + "direction: [maximize, maximize]\n"
    why = (
        "this study optimises towards [maximize, minimize]; Optuna cannot change its directions "
        "to [maximize, maximize]"
    )
    assert changes(TWO, after) == [
        f"settings: direction: [maximize, minimize] → [maximize, maximize] (refused: {why})"
    ]
    assert refused(TWO, after) == [
        f"direction: {why} (keep them, or use another 'name' for a new study)"
    ]


def test_a_second_objective_added_to_a_study_of_one_is_refused() -> None:
    lines = changes(GOOD, TWO)
    assert lines[0].startswith("settings: objectives: [reward] → [reward, wall_time] (refused: ")
    assert "settings: direction: maximize → [maximize, minimize]" in lines
    assert [line.split(":")[0] for line in refused(GOOD, TWO)] == ["objectives"]


def test_unchanged_objectives_change_and_refuse_nothing() -> None:
    after = TWO.replace("timesteps: 1000", "timesteps: 2000")
    assert changes(TWO, after) == ["settings: train.timesteps: 1000 → 2000"]
    assert refused(TWO, after) == [] and refused(GOOD, GOOD) == []


def test_publishing_refuses_what_the_preview_refuses(tmp_path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(TWO + f"storage: journal:{tmp_path / 'study.journal'}\n", encoding="utf-8")

    ostudy, _url = open_study(load_study(path, check_env=False))
    edited = path.read_text(encoding="utf-8").replace("[reward, wall_time]", "[auc, wall_time]")
    path.write_text(edited, encoding="utf-8")
    new = load_study(path, check_env=False)
    assert [p.path for p in refused_changes(parse_study(TWO, None, check_env=False), new)] == [
        ("objectives",)
    ]
    with pytest.raises(SpecError, match="its objectives cannot change to"):
        publish_spec(ostudy, new)


def test_the_apply_preview_refuses_a_change_of_directions(tmp_path) -> None:
    from rltui.ui.models.preview import build_preview
    from rltui.ui.services.session import Session

    path = tmp_path / "good.yaml"
    path.write_text(TWO, encoding="utf-8")
    session = Session.open(path)
    edited = parse_study(TWO + "direction: [maximize, maximize]\n", path, check_env=False)
    preview = build_preview(session, edited)
    # Refused, so the preview offers no apply (its refusals are what publishing would raise).
    assert [p.path for p in preview.refused] == [("direction",)]
    assert "cannot change its directions to [maximize, maximize]" in preview.refused[0].message
