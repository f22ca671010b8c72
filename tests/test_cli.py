"""The ``rltui`` command line: bad input gets one clear message and an exit status, never a
traceback; workers started by hand keep a log like the pool's."""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import textwrap
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from rltui.cli import main
from rltui.launch.local import LocalPool
from rltui.search import attrs
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.storage import StudyHome, open_storage
from rltui.search.study import open_study
from rltui.search.workers import read_records
from rltui.spec import load_study
from tests.conftest import needs_psycopg

StudyFile = Callable[..., Path]


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str], *fragments: str) -> str:
    """Run ``rltui ARGV`` in this process; it must exit 1 with every fragment in its stderr
    and no traceback. Returns the stderr."""
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    return err


def _with_storage(study_file: StudyFile, url: str, name: str = "st") -> Path:
    """A good study file whose ``storage:`` key (line 3) is ``url``."""
    path = study_file(name=name)
    lines = path.read_text().splitlines()
    assert lines[0] == "" and lines[1] == f"name: {name}"
    lines.insert(2, f"storage: {url}")
    path.write_text("\n".join(lines) + "\n")
    return path


# -- unreadable study files -------------------------------------------------------------------


@pytest.mark.parametrize("command", [["validate"], ["run"], ["worker"], ["export"]])
@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("directory", "cannot read the study file: Is a directory"),
        ("binary", "cannot read the study file: it is not UTF-8 text (byte 0xff at offset 2)"),
        ("missing", "no such study file"),
    ],
)
def test_an_unreadable_study_file_is_one_message_for_every_command(
    command: list[str], kind: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "study.yaml"
    if kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(b"# \xff\xfe name: x\n")
    err = _fails([*command, str(path)], capsys, f"{path}: (top level): {words}")
    assert not (tmp_path / "study.rltui").exists()
    if kind == "missing":
        assert f"(`rltui {path}` opens a starter study to edit, and saves it there)" in err


# -- the storage named in a study file --------------------------------------------------------


def test_validate_reports_an_unknown_storage_scheme_at_its_key_without_connecting(
    study_file: StudyFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _with_storage(study_file, "redis://localhost:1")
    err = _fails(["validate", str(path)], capsys)
    assert err.splitlines()[0] == (
        f"{path}:3:1: storage: 'redis://localhost:1' is not a storage URL rltui knows "
        "(use a journal file path, sqlite:///FILE, or postgresql://USER@HOST/DB)"
    )


@pytest.mark.skipif(
    importlib.util.find_spec("MySQLdb") is not None, reason="the MySQL driver is installed"
)
def test_validate_reports_a_missing_database_driver(
    study_file: StudyFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _with_storage(study_file, "mysql://me:secret@localhost/db")
    err = _fails(
        ["validate", str(path)],
        capsys,
        f"{path}:3:1: storage: the database driver for 'mysql' (module MySQLdb) is not installed",
        "pip install",
    )
    assert "secret" not in err


@needs_psycopg
def test_validate_connects_to_nothing(
    study_file: StudyFile, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing listens on port 1: validate must still say ok, since it never connects.
    path = _with_storage(study_file, "postgresql://nobody:secret@127.0.0.1:1/db")
    assert main(["validate", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


@needs_psycopg
@pytest.mark.parametrize("command", ["run", "worker", "export"])
def test_an_unreachable_storage_from_the_file_is_located_at_its_key(
    command: str, study_file: StudyFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _with_storage(study_file, "postgresql://nobody:secret@127.0.0.1:1/db")
    err = _fails(
        [command, str(path)],
        capsys,
        f"{path}:3:1: storage: cannot open the storage postgresql://nobody:***@127.0.0.1:1/db: "
        "connection refused (is the server running",
        "nothing was started",
    )
    assert "secret" not in err


def test_a_storage_given_on_the_command_line_is_not_blamed_on_the_file(
    study_file: StudyFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _with_storage(study_file, "redis://localhost:1")  # replaced by --storage
    err = _fails(["run", str(path), "--storage", "mongodb://me:secret@x/y"], capsys)
    assert err.startswith("rltui: 'mongodb://me:***@x/y' is not a storage URL rltui knows")


# -- counts must be positive ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "s.yaml", "--workers", "0"], "argument --workers: must be at least 1, not 0"),
        (["run", "s.yaml", "--workers", "-2"], "argument --workers: must be at least 1, not -2"),
        (["run", "s.yaml", "--trials", "-1"], "argument --trials: must be at least 1, not -1"),
        (["run", "s.yaml", "--trials", "0"], "argument --trials: must be at least 1, not 0"),
        (["run", "s.yaml", "--trials", "many"], "argument --trials: 'many' is not a whole number"),
        (["worker", "s.yaml", "--max-trials", "0"], "argument --max-trials: must be at least 1"),
    ],
)
def test_counts_below_one_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2  # argparse's status for usage errors
    assert message in capsys.readouterr().err


# -- Ctrl-C before a command is under way -----------------------------------------------------


def test_ctrl_c_while_the_study_opens_is_one_line_and_exit_130(
    study_file: StudyFile, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        signal.raise_signal(signal.SIGINT)  # as the terminal does on Ctrl-C
        time.sleep(5)  # never reached: Python raises KeyboardInterrupt first

    monkeypatch.setattr("rltui.search.study.open_study", interrupted)
    # Python's own handler, whatever a test runner may have installed instead.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert main(["run", str(study_file())]) == 130
    finally:
        signal.signal(signal.SIGINT, previous)
    assert capsys.readouterr().err == "interrupted\n"


def test_ctrl_c_in_a_real_process_exits_130_without_a_traceback(
    study_file: StudyFile, tmp_path: Path
) -> None:
    # The study opens slowly here, so that the test can press Ctrl-C while it does.
    script = tmp_path / "slow_open.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, time
            import rltui.search.study

            def slow(*args, **kwargs):
                print("opening", flush=True)
                time.sleep(60)

            rltui.search.study.open_study = slow
            from rltui.cli import main
            sys.exit(main(sys.argv[1:]))
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script), "run", str(study_file())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: Python ignores SIGINT for good if it starts with it ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "opening\n"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130 and err == "interrupted\n"


# -- joining by name creates nothing ----------------------------------------------------------


@pytest.mark.parametrize("command", [["worker"], ["ctl", "drain"], ["export"]])
@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_joining_a_missing_storage_file_creates_nothing(
    command: list[str], kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    url = str(missing / "s.journal") if kind == "journal" else f"sqlite:///{missing}/s.db"
    words = "no such journal file" if kind == "journal" else "no such SQLite file"
    _fails([*command, "--storage", url, "--study", "x"], capsys, f"rltui: {words}: {missing}/")
    assert not (tmp_path / "no").exists()


# -- the UI opened on a study by name --------------------------------------------------------


def _ui_not_started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """Record the UI's start instead of drawing a window in the test's terminal."""
    started: list[tuple[object, ...]] = []
    monkeypatch.setattr("rltui.ui.app.run_ui", lambda *args: started.append(args) or 0)
    return started


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("tiyn", "rltui: no study named 'tiyn' in this storage (did you mean 'tiny'?)"),
        ("other", "rltui: no study named 'other' in this storage (studies there: tiny)"),
    ],
)
def test_a_study_name_not_in_the_storage_is_reported_before_the_window_is_drawn(
    name: str,
    words: str,
    study_file: StudyFile,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _ostudy, url = open_study(load_study(study_file()))
    started = _ui_not_started(monkeypatch)
    _fails(["--storage", url, "--study", name], capsys, words)
    assert started == []


def test_a_missing_storage_file_is_reported_before_the_window_is_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started = _ui_not_started(monkeypatch)
    url = str(tmp_path / "typo.journal")
    _fails(["ui", "--storage", url, "--study", "x"], capsys, f"no such journal file: {url}")
    assert started == [] and not Path(url).exists()


def test_a_study_that_opens_starts_the_ui_on_it(
    study_file: StudyFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ostudy, url = open_study(load_study(study_file()))
    started = _ui_not_started(monkeypatch)
    assert main(["--storage", url, "--study", "tiny"]) == 0
    assert started == [(None, url, "tiny")]


# -- run and worker refuse bad study files, in both forms -------------------------------------

BAD_FILES = {
    "malformed YAML": ("name: [oops\n", ":1:7: YAML syntax error"),
    "unknown algorithm": (
        "name: x\ntrain: {algorithm: pppo, env: CartPole-v1, timesteps: 100}\n",
        ":2:9: train.algorithm: unknown algorithm 'pppo' (did you mean 'ppo'?)",
    ),
    "bad storage": (
        "name: x\nstorage: redis://localhost:1\n"
        "train: {algorithm: ppo, env: CartPole-v1, timesteps: 100}\n",
        ":2:1: storage: 'redis://localhost:1' is not a storage URL rltui knows",
    ),
}


@pytest.mark.parametrize("command", ["run", "worker", "validate"])
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_study_files_are_refused_with_file_line_and_key(
    command: str, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, where = BAD_FILES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    _fails([command, str(path)], capsys, f"{path}{where}")
    assert not (tmp_path / "bad.rltui").exists()  # nothing was created for a bad file


def _stored(tmp_path: Path, text: str | None) -> str:
    """A journal holding study 'stored' whose latest stored study file is ``text``."""
    url = str(tmp_path / "study.journal")
    ostudy = optuna.create_study(storage=open_storage(url), study_name="stored")
    if text is not None:
        record = {"text": text, "path": "/elsewhere/stored.yaml", "created": 0.0}
        storage_of(ostudy).set_study_system_attr(study_id_of(ostudy), attrs.spec_key(1), record)
        storage_of(ostudy).set_study_system_attr(study_id_of(ostudy), attrs.SPEC_VERSION, 1)
    return url


@pytest.mark.parametrize(
    ("stored", "words"),
    [
        (BAD_FILES["malformed YAML"][0], "/elsewhere/stored.yaml:1:7: YAML syntax"),
        (BAD_FILES["unknown algorithm"][0], "unknown algorithm 'pppo'"),
        (None, "rltui: this study has no rltui study file stored"),
    ],
)
def test_a_worker_joining_by_name_refuses_a_bad_stored_study_file(
    stored: str | None, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _stored(tmp_path, stored)
    _fails(["worker", "--storage", url, "--study", "stored"], capsys, words)


@pytest.mark.parametrize(
    ("storage", "study", "words"),
    [
        ("redis://me:secret@localhost:1", "x", "rltui: 'redis://me:***@localhost:1' is not a"),
        ("postgres://me@localhost/db", "x", "no database dialect 'postgres' (write postgresql://)"),
        (None, "stord", "rltui: no study named 'stord' in this storage (did you mean 'stored'?)"),
        (None, None, "give a study file, or both --storage URL and --study NAME"),
    ],
)
def test_a_worker_joining_by_name_explains_a_bad_storage_or_name(
    storage: str | None,
    study: str | None,
    words: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["worker", "--storage", storage or _stored(tmp_path, "name: stored\n")]
    if study is not None:
        argv += ["--study", study]
    assert "secret" not in _fails(argv, capsys, words)


# -- every worker has a log file --------------------------------------------------------------

TEE_SCRIPT = """
import os, sys, warnings
from pathlib import Path
from rltui.worker.logfile import Tee

with Tee(Path(sys.argv[1])):
    print("python stdout", flush=True)
    print("python stderr", file=sys.stderr, flush=True)
    warnings.warn("a python warning")
    os.write(2, b"c-level stderr\\n")
    os.write(1, b"c-level stdout\\n")
    if sys.argv[2] == "crash":
        os._exit(3)  # as a worker's second Ctrl-C does: no cleanup at all
print("after the tee", flush=True)
"""


@pytest.mark.parametrize("ending", ["normal", "crash"])
def test_the_tee_copies_python_and_c_level_output_into_the_log(ending: str, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "worker-x.log"
    done = subprocess.run(
        [sys.executable, "-c", TEE_SCRIPT, str(log), ending],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == (3 if ending == "crash" else 0), done.stderr
    # The terminal gets each stream as before, even after a crash: the copier drains them.
    for line in ("python stdout", "c-level stdout"):
        assert line in done.stdout and line not in done.stderr
    for line in ("python stderr", "a python warning", "c-level stderr"):
        assert line in done.stderr and line not in done.stdout
    logged = log.read_text()
    for line in ("python stdout", "python stderr", "a python warning", "c-level stderr"):
        assert line in logged, logged
    if ending == "normal":
        assert "after the tee" in done.stdout and "after the tee" not in logged


def test_pool_workers_are_told_their_log_and_record_it(
    study_file: StudyFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "logs" / "worker-abc.log"
    pool = LocalPool(tmp_path / "logs", storage_url="x.journal", study_name="s")
    cmd = pool.command("abc", 0, log=log)
    assert cmd[-2:] == ["--log", str(log)]
    # The worker passes it on to its record, and copies nothing itself: its output is the file
    # already. (A stand-in for the worker loop, which would load torch.)
    made: list[dict[str, object]] = []

    class Worker:
        def __init__(self, *args: object, **kwargs: object) -> None:
            made.append(kwargs)

        def run(self) -> int:
            return 0

    loop = types.ModuleType("rltui.worker.loop")
    loop.Worker = Worker  # type: ignore[attr-defined]
    loop.DeviceError = type("DeviceError", (Exception,), {})  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rltui.worker.loop", loop)
    path = study_file()
    assert main(["worker", str(path), "--worker-id", "abc", "--log", str(log)]) == 0
    assert made[0]["log"] == str(log)
    assert not StudyHome.beside(path).logs.exists()


@pytest.mark.slow  # starts two real worker processes (that train nothing)
def test_a_worker_started_by_hand_keeps_a_log_named_in_its_record(
    study_file: StudyFile,
) -> None:
    path = study_file(name="logs", n_trials=1)
    home = StudyHome.beside(path)
    ostudy, url = open_study(load_study(path))
    ostudy.add_trial(create_trial(state=TrialState.COMPLETE, value=1.0))  # budget spent
    journal = url.removeprefix("journal:")
    by_hand = {
        "file": [sys.executable, "-m", "rltui", "worker", str(path)],
        "name": [sys.executable, "-m", "rltui", "worker", "--storage", journal, "--study", "logs"],
    }
    procs = {
        form: subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for form, cmd in by_hand.items()
    }
    outputs = {form: proc.communicate(timeout=60) for form, proc in procs.items()}
    for form, proc in procs.items():
        assert proc.returncode == 0, outputs[form]
        assert "joined study 'logs'" in outputs[form][0]  # the terminal still gets everything
    storage = open_storage(url)
    records = read_records(storage.get_study_system_attrs(storage.get_study_id_from_name("logs")))
    assert len(records) == 2
    for record in records:
        assert record.state == "exited" and record.log is not None
        log = Path(record.log)
        # The journal lies in the study's home, so both forms log into the same folder.
        assert log == home.logs / f"worker-{record.id}.log", record
        assert f"worker {record.id} (pid {record.pid}) joined study 'logs'" in log.read_text()
    assert len(list(home.logs.iterdir())) == 2


@pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or __import__("torch").cuda.is_available(),
    reason="needs a host without CUDA",
)
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_a_worker_asked_for_a_gpu_this_host_lacks_refuses_to_start(
    device: str, study_file, capsys
) -> None:
    path = study_file(name="gpu")
    assert main(["worker", str(path), "--device", device]) == 1
    err = capsys.readouterr().err
    assert f"device {device} asked for" in err and "--device cpu" in err


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    # rltui.__version__ and the package metadata (pyproject) say the same.
    assert capsys.readouterr().out.strip() == f"rltui {version('rltui')}"


# -- --json: one document on stdout, the exit status unchanged --------------------------------


def _json(
    argv: list[str], capsys: pytest.CaptureFixture[str], status: int = 0
) -> tuple[dict[str, Any], str]:
    """Run ``rltui ARGV``; it must exit ``status`` with one JSON document as the whole of its
    stdout. Returns the document and the stderr."""
    assert main(argv) == status
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return json.loads(out), err


def test_validate_json_of_a_good_file(study_file: StudyFile, capsys) -> None:
    path = study_file()
    doc, err = _json(["validate", str(path), "--json"], capsys)
    assert doc == {
        "ok": True,
        "file": str(path),
        "study": "tiny",
        "n_trials": 2,
        "searched": ["gamma", "learning_rate"],
        "problems": [],
    }
    assert err == ""


def test_validate_json_locates_each_problem(study_file: StudyFile, capsys) -> None:
    text, _where = BAD_FILES["unknown algorithm"]
    path = study_file(text=text)
    doc, err = _json(["validate", str(path), "--json"], capsys, status=1)
    assert not doc["ok"] and doc["study"] is None and err == ""
    [problem] = doc["problems"]
    assert (problem["line"], problem["column"]) == (2, 9)
    assert problem["key"] == "train.algorithm" and problem["severity"] == "error"
    assert "unknown algorithm 'pppo'" in problem["message"]
    assert "ppo" in (problem["hint"] or problem["message"])
    doc, _err = _json(["validate", str(path.parent / "missing.yaml"), "--json"], capsys, 1)
    [problem] = doc["problems"]
    assert problem["message"] == "no such study file" and problem["line"] is None


def test_run_json_of_a_bad_file_is_a_failure_document(study_file: StudyFile, capsys) -> None:
    text, where = BAD_FILES["unknown algorithm"]
    path = study_file(text=text)
    doc, err = _json(["run", str(path), "--json"], capsys, status=1)
    assert doc["ok"] is False and doc["file"] == str(path)
    assert [(p["line"], p["key"]) for p in doc["problems"]] == [(2, "train.algorithm")]
    assert f"{path}{where}" in err  # the usual message, on stderr


def test_ctl_json_says_what_was_done_to_which_trials(study_file: StudyFile, capsys) -> None:
    path = study_file()
    ostudy, url = open_study(load_study(path))
    ostudy.ask()  # trial 0, running
    ostudy.add_trial(create_trial(state=TrialState.COMPLETE, value=1.0))  # trial 1
    target = ["--storage", url, "--study", "tiny", "--json"]
    doc, err = _json(["ctl", "pause", "0", "1", "9", *target], capsys, status=1)
    assert (doc["ok"], doc["action"], doc["study"]) == (False, "pause", "tiny")
    assert [(t["number"], t["ok"]) for t in doc["trials"]] == [(0, True), (1, False), (9, False)]
    assert doc["trials"][0]["message"] == "trial 0: pause requested"
    assert "trial 1 is COMPLETE" in doc["trials"][1]["message"]
    assert "no trial 9" in doc["trials"][2]["message"]
    assert "rltui ctl pause: no trial 9" in err  # failures are still told on stderr
    doc, _err = _json(["ctl", "pause-all", *target], capsys)
    assert doc["ok"] and [t["number"] for t in doc["trials"]] == [0]
    doc, _err = _json(["ctl", "drain", *target], capsys)
    assert doc == {"ok": True, "action": "drain", "study": "tiny", "draining": True, "trials": []}
    doc, _err = _json(["ctl", "kill", *target], capsys, status=1)
    assert doc == {"ok": False, "error": "rltui ctl kill: name at least one trial number"}


def test_json_failures_before_the_study_opens_are_documents(tmp_path: Path, capsys) -> None:
    url = str(tmp_path / "missing.journal")
    for command in (["ctl", "drain"], ["export"]):
        doc, err = _json([*command, "--storage", url, "--study", "x", "--json"], capsys, 1)
        assert doc["ok"] is False and "no such journal file" in doc["error"]
        assert "rltui: no such journal file" in err


def test_export_json_lists_the_files_it_wrote(study_file: StudyFile, tmp_path, capsys) -> None:
    path = study_file()
    ostudy, _url = open_study(load_study(path))
    ostudy.add_trial(create_trial(state=TrialState.COMPLETE, value=1.0))
    ostudy.add_trial(create_trial(state=TrialState.COMPLETE, value=2.0))
    log = StudyHome.beside(path).trials / "trial-1" / "progress.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text('{"timesteps": 64, "eval/mean_reward": 2.0}\n')
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("kept from before")  # not the export's: not listed
    doc, err = _json(["export", str(path), "--out", str(out), "--json"], capsys)
    assert (doc["ok"], doc["study"], doc["format"]) == (True, "tiny", "csv")
    assert doc["out"] == str(out.resolve()) and err == ""
    written = [str(out.resolve() / "trials" / "trial-1" / "progress.csv")]
    assert doc["files"] == [str(out.resolve() / "trials.csv"), *written]
    assert all(Path(name).is_file() for name in doc["files"])
