"""The Example sections of the convolution, pooling, padding, upsampling and pixel-shuffle docstrings run as written."""
import doctest
import importlib

import numpy as np
import pytest

MODULES = ["mtorch.layers.conv", "mtorch.layers.pooling", "mtorch.layers.padding", "mtorch.layers.upsampling",
           "mtorch.layers.pixelshuffle"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, extraglobs={"np": np}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
