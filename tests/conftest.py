import sys

import numpy as np
import pytest

import mtorch


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same mtorch seed, so results never depend on test order."""
    mtorch.manual_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_terminal_summary(terminalreporter):
    """The fuzz tests' trial counts (tests/fuzzing.py), when they ran."""
    fuzzing = sys.modules.get("fuzzing")
    lines = fuzzing.summary_lines() if fuzzing is not None else []
    if lines:
        terminalreporter.write_sep("=", "fuzz trials (tests/test_fuzz_*.py)")
        for line in lines:
            terminalreporter.write_line(line)
