"""The trainer tests' shared fixture: import it into a test module to run that module with
one torch intra-op thread."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """One intra-op thread: on a shared CPU, spinning OpenMP threads cost far more than they
    give to models this small."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
