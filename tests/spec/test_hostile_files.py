"""Hostile study files: each gets a located message and exit status 1, never a traceback, and
checking one takes bounded time and memory.

Every file here is crafted for real and run through ``rltui validate`` in this process (or,
for the file that would grow without bound, through ``python -m rltui`` under a memory limit).
"""

from __future__ import annotations

import inspect
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from rltui.cli import main
from rltui.spec import check_text, limits
from rltui.spec.grammar import GrammarError, parse_sweep

SAMPLES = Path(__file__).resolve().parents[2] / "sample_studies"
PPO = (SAMPLES / "cartpole_ppo.yaml").read_text()
DQN = (SAMPLES / "cartpole_dqn.yaml").read_text()
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [" + ", ".join([f"*{p}"] * 9) + "]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def validate(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str], name: str) -> str:
    """``rltui validate`` on ``text``: it must exit 1 with a located message and no traceback.
    Returns the messages."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert re.search(rf"^{re.escape(str(path))}:\d+:\d+: ", err, re.M), err
    return err


def line_of(text: str, fragment: str) -> int:
    """The number of the first line that starts (after its indent) with ``fragment``."""
    rows = text.splitlines()
    return next(i for i, row in enumerate(rows, 1) if row.lstrip().startswith(fragment))


# -- what the YAML reader refuses ---------------------------------------------------------


@pytest.mark.parametrize(
    ("tagged", "words"),
    [
        ("!!float 'abc'", "'abc' is not a number, but it is tagged !!float"),
        ("!!int 'xyz'", "'xyz' is not a whole number, but it is tagged !!int"),
        ("!!bool 'maybe'", "'maybe' is not true or false, but it is tagged !!bool"),
        ("!foo 3", "the YAML tag !foo is not supported"),
        ("!!python/object/apply:os.system ['true']", "the YAML tag !!python/object/apply"),
        ("!!set {a, b}", "the YAML tag !!set is not supported"),
        ("!!binary aGVsbG8=", "the YAML tag !!binary is not supported"),
    ],
)
def test_a_tag_that_cannot_be_read_is_located(
    tagged: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PPO.replace("n_trials: 20", f"n_trials: {tagged}")
    err = validate(tmp_path, text, capsys, "tagged.yaml")
    assert f"tagged.yaml:{line_of(text, 'n_trials')}:11: " in err
    assert words in err


def test_plain_tags_still_mean_what_they_say() -> None:
    text = PPO.replace("n_trials: 20", "n_trials: !!int 30").replace(
        "description: ", "description: !!str "
    )
    study, problems = check_text(text)
    assert study is not None, problems
    assert study.spec.n_trials == 30


def test_the_billion_laughs_are_refused_at_the_first_alias(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = validate(tmp_path, BILLION_LAUGHS, capsys, "laughs.yaml")
    assert "laughs.yaml:2:8: " in err
    assert "aliases (*a) are not supported in study files: write the value out" in err


def test_a_merge_key_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = PPO.replace("sampler:\n", "sampler:\n  <<: {seed: 1}\n")
    err = validate(tmp_path, text, capsys, "merge.yaml")
    assert f"merge.yaml:{line_of(text, '<<')}:3: " in err
    assert "merge keys (<<) are not supported" in err


def test_the_billion_laughs_stay_small_in_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)

    def limited() -> None:  # generous: the reader needs a few MiB; expanding needs gigabytes
        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))
        resource.setrlimit(resource.RLIMIT_CPU, (60, 60))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "rltui", "validate", str(path)],
        preexec_fn=limited,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{path}:2:8: " in done.stderr
    assert "aliases (*a) are not supported" in done.stderr


@pytest.mark.parametrize(
    "nested",
    [
        "[" * 500 + "]" * 500,
        "[" * 1000 + "]" * 1000,
        "[" * 5000 + "]" * 5000,
        "{a: " * 1000 + "1" + "}" * 1000,
        "".join(f"\n{'  ' * (i + 1)}k:" for i in range(200)) + " 1",
    ],
    ids=["list-500", "list-1000", "list-5000", "flow-mapping-1000", "block-mapping-200"],
)
def test_deep_nesting_is_refused(
    nested: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PPO + f"hyperparameters:\n  deep: {nested}\n"
    err = validate(tmp_path, text, capsys, "deep.yaml")
    assert f"deep.yaml:{line_of(text, 'deep:')}:" in err or "deep.yaml:" in err
    assert f"nested more than {limits.MAX_DEPTH} levels deep" in err


def test_a_file_over_the_size_limit_is_refused_where_it_passes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PPO + "description2: '" + "x" * limits.MAX_FILE_BYTES + "'\n"
    err = validate(tmp_path, text, capsys, "big.yaml")
    assert f"big.yaml:{line_of(text, 'description2')}:" in err
    assert f"larger than {limits.MAX_FILE_BYTES:,} bytes" in err


def test_a_file_of_too_many_values_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PPO + "hyperparameters:\n  x: [" + "1, " * limits.MAX_VALUES + "1]\n"
    err = validate(tmp_path, text, capsys, "many.yaml")
    assert f"many.yaml:{line_of(text, 'x: [')}:" in err
    assert f"more than {limits.MAX_VALUES:,} values" in err


def test_a_second_document_and_a_duplicate_key_are_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = validate(tmp_path, PPO + "---\nname: other\n", capsys, "two.yaml")
    assert f"two.yaml:{PPO.count(chr(10)) + 1}:1: " in err
    assert "one YAML document" in err
    text = PPO.replace("n_trials: 20", "n_trials: 20\nn_trials: 30")
    err = validate(tmp_path, text, capsys, "twice.yaml")
    assert f"twice.yaml:{line_of(text, 'n_trials') + 1}:1: " in err
    assert "'n_trials' appears twice" in err


@pytest.mark.parametrize(
    ("bad", "at"),
    [("\x00", "U+0000"), ("\x07", "U+0007"), ("\ud800", "not valid Unicode")],
    ids=["nul", "bell", "lone-surrogate"],
)
def test_characters_yaml_refuses_are_located(bad: str, at: str) -> None:
    text = PPO.replace("description: PPO", f"description: P{bad}PO")
    study, problems = check_text(text, "study.yaml")
    assert study is None
    assert [(p.line, p.column) for p in problems] == [(line_of(text, "description"), 15)]
    assert at in problems[0].message


# -- the sweep grammar --------------------------------------------------------------------


def test_deeply_nested_sweeps_are_refused_inside_the_expression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = "tag(log, " * 2000 + "interval(1e-3, 1)" + ")" * 2000
    text = PPO.replace(
        "clip_range: choice(0.1, 0.2, 0.3, lin_0.1, lin_0.2, lin_0.3)", f"clip_range: {sweep}"
    )
    err = validate(tmp_path, text, capsys, "sweep.yaml")
    column = 3 + len("clip_range: ") + len("tag(log, ") * limits.MAX_SWEEP_DEPTH
    assert f"sweep.yaml:{line_of(text, 'clip_range')}:{column}: " in err
    assert f"nested more than {limits.MAX_SWEEP_DEPTH} levels deep" in err


@pytest.mark.parametrize(
    "text",
    [
        "choice(" + "[" * 5000 + "]" * 5000 + ")",
        "grid_search(" + "[" * 100 + "]" * 100 + ")",
        "int(" * 1000 + "interval(1, 2)" + ")" * 1000,
    ],
    ids=["brackets", "grid-brackets", "casts"],
)
def test_the_grammar_bounds_its_nesting(text: str) -> None:
    with pytest.raises(GrammarError, match="levels deep") as caught:
        parse_sweep(text)
    assert caught.value.position is not None


def test_long_and_repetitive_sweeps_stay_quick() -> None:
    with pytest.raises(GrammarError, match="characters long"):
        parse_sweep("choice(" + "1, " * limits.MAX_SWEEP_CHARS + "2)")
    with pytest.raises(GrammarError, match="10,001 values"):
        parse_sweep("choice(" + ", ".join(map(str, range(limits.MAX_CHOICES + 1))) + ")")
    # Repeats are found in one pass: the last of 10,000 values repeats the first.
    values = ", ".join(map(str, range(limits.MAX_CHOICES - 1)))
    with pytest.raises(GrammarError, match="0 is listed twice"):
        parse_sweep(f"choice({values}, 0)")


# -- imports ------------------------------------------------------------------------------

MARKING_MODULE = """\
from pathlib import Path

Path({marker!r}).write_text("imported")
"""


def _module_in(folder: Path, name: str, marker: Path) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(MARKING_MODULE.format(marker=str(marker)))


def test_validate_never_imports_an_env_module_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    here, studies = tmp_path / "here", tmp_path / "studies"
    studies.mkdir()
    marker = tmp_path / "imported"
    _module_in(here, "rltui_hostile_here", marker)
    monkeypatch.chdir(here)
    monkeypatch.syspath_prepend("")  # as `python -m rltui` runs: the current folder first
    text = PPO.replace("env: CartPole-v1", "env: 'rltui_hostile_here:CartPole-v1'")
    err = validate(studies, text, capsys, "study.yaml")
    assert "it is in the current folder, which rltui does not import from" in err
    assert "put it beside the study file" in err
    assert not marker.exists()
    assert "rltui_hostile_here" not in sys.modules


def test_python_m_rltui_validate_does_not_import_from_the_current_folder(tmp_path: Path) -> None:
    here, studies = tmp_path / "here", tmp_path / "studies"
    studies.mkdir()
    marker = tmp_path / "imported"
    _module_in(here, "rltui_hostile_cwd", marker)
    study = studies / "study.yaml"
    study.write_text(PPO.replace("env: CartPole-v1", "env: 'rltui_hostile_cwd:CartPole-v1'"))
    done = subprocess.run(
        [sys.executable, "-m", "rltui", "validate", str(study)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=here,
    )
    assert done.returncode == 1, done.stderr
    assert "in the current folder" in done.stderr
    assert not marker.exists()


def test_an_env_module_beside_the_study_file_is_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "imported"
    _module_in(tmp_path, "rltui_hostile_beside", marker)
    study = tmp_path / "study.yaml"
    study.write_text(PPO.replace("env: CartPole-v1", "env: 'rltui_hostile_beside:CartPole-v1'"))
    assert main(["validate", str(study)]) == 0, capsys.readouterr().err
    assert marker.read_text() == "imported"
    assert str(tmp_path) not in sys.path  # the study's folder was on the path for the import only


# -- the last safety net ------------------------------------------------------------------


def test_running_out_of_stack_is_a_located_problem() -> None:
    # Nesting is bounded well below Python's recursion limit, so the limit is lowered here:
    # repr() of the 60 nested lists (the env check's cache key) then runs out of stack.
    nested = "[" * 60 + "]" * 60
    text = PPO.replace("  n_envs: 8", f"  n_envs: 8\n  env_kwargs: {{max_episode_steps: {nested}}}")
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 40)
    try:
        study, problems = check_text(text, "study.yaml")
    finally:
        sys.setrecursionlimit(old)
    assert study is None
    assert [p.format("study.yaml") for p in problems] == [
        "study.yaml:1:1: the study file nests too deeply to be checked (flatten its deepest values)"
    ]
