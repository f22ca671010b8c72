"""The launcher block and GPU choice of a study file: syntax, and messages that say the fix."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rltui.spec.launching import LauncherSpec, parse_gpus


@pytest.mark.parametrize(
    ("value", "parsed"),
    [(None, None), ("all", None), (" ALL ", None), ("none", ()), ("0,2", (0, 2)), ([3, 1], (3, 1))],
)
def test_gpus_forms(value, parsed):
    assert parse_gpus(value) == parsed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0,x", "GPU 'x' is not an index"),
        ([1, 1], "GPU 1 is named twice"),
        ([True], "GPU 'True' is not an index"),
        ([-1], "GPU '-1' is not an index"),
        (3.5, "write all, none, or a list"),
    ],
)
def test_bad_gpus_say_the_accepted_forms(value, message):
    with pytest.raises(ValueError, match=message):
        parse_gpus(value)


def test_local_is_the_default_and_takes_no_remote_options():
    assert LauncherSpec().type == "local"
    with pytest.raises(ValidationError, match="hosts: only for type: ssh"):
        LauncherSpec(hosts=("gpu1",))
    with pytest.raises(ValidationError, match="partition, time: only for type: slurm"):
        LauncherSpec(partition="gpu", time="1:00:00")


def test_ssh_needs_hosts_named_safely():
    assert LauncherSpec(type="ssh", hosts=("gpu1", "me@gpu-2.lab")).hosts == (
        "gpu1",
        "me@gpu-2.lab",
    )
    with pytest.raises(ValidationError, match="type: ssh needs hosts"):
        LauncherSpec(type="ssh")
    # A name starting with '-' would be one of ssh's options (-oProxyCommand runs a command).
    with pytest.raises(ValidationError, match="host '-oProxyCommand=sh' is not a host name"):
        LauncherSpec(type="ssh", hosts=("-oProxyCommand=sh",))


@pytest.mark.parametrize("time", ["30", "4:00:00", "1-12", "2-00:30:00"])
def test_slurm_times(time):
    assert LauncherSpec(type="slurm", time=time).time == time


def test_slurm_refuses_what_sbatch_would():
    with pytest.raises(ValidationError, match="time '4h' is not a Slurm time"):
        LauncherSpec(type="slurm", time="4h")
    with pytest.raises(ValidationError, match="memory '16 GB' is not a Slurm size"):
        LauncherSpec(type="slurm", memory="16 GB")
