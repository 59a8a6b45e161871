"""Shared fixtures of the model's tests."""

import pytest
import torch


@pytest.fixture
def one_thread():
    """torch on one intra-op thread for the test (restored after): the model tests compare
    numbers, and one thread keeps them stable and the shared CI machine free."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
