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
