"""Training tests run on one torch thread, as workers train: on a busy machine two threads
contend for the cores and make tiny networks (and off-policy training, a gradient step per env
step) many times slower."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
