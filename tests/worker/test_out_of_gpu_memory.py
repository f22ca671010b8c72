"""A trial that runs out of GPU memory ends FAIL with that reason, and its worker goes on to
the next trial. The training function raises torch's own OutOfMemoryError on its first trial,
as CUDA's allocator does (this machine has no GPU to fill)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from rltui.search.lifecycle import TrialStatus
from tests.worker.helpers import HANG, Lab

pytestmark = pytest.mark.slow  # starts a real worker

FUNCTION = """
import torch

def train(params, ctx):
    if ctx.params["x"] > 0.5:
        raise torch.cuda.OutOfMemoryError(
            "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.10 GiB total capacity)"
        )
    ctx.progress(1)
    ctx.report(1, 1.0)
"""

STUDY = """
name: oom
n_trials: 2
sampler: {type: random, seed: 0}
pruner: {type: none}
train: {function: "oomfn:train", timesteps: 1}
search_space:
  x: grid_search([1.0, 0.0])
"""


def test_out_of_gpu_memory_fails_the_trial_with_the_reason_and_the_worker_goes_on(
    tmp_path: Path,
) -> None:
    (tmp_path / "oomfn.py").write_text(textwrap.dedent(FUNCTION), encoding="utf-8")
    path = tmp_path / "oom.yaml"
    path.write_text(STUDY, encoding="utf-8")
    lab = Lab(path)
    lab.pool.start(1, extra_env={"RLTUI_GPU": "3"})
    try:
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    rows = lab.snap().rows
    failed = [r for r in rows.values() if r.status == TrialStatus.FAIL]
    assert len(failed) == 1 and failed[0].params["x"] == 1.0
    assert failed[0].error is not None
    assert failed[0].error.startswith("out of GPU memory on GPU 3: CUDA out of memory."), failed[0]
    assert "workers_per_gpu" in failed[0].error
    # The same worker ran the other trial to its end.
    assert [r.status for r in rows.values() if r.params["x"] == 0.0] == [TrialStatus.COMPLETE]
