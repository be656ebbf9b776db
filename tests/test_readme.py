"""The README's code runs as written."""
import os
import re
from pathlib import Path

import numpy as np
import pytest

import mtorch
from mtorch.testing import check_layer

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def python_block_after(heading):
    section = README[README.index(heading):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_layer_written_in_the_readme_is_right(rng):
    namespace = {}
    exec(python_block_after("## Writing a layer"), namespace)
    layer = namespace["Scale"](3)
    layer.gamma.data[...] = rng.uniform(0.5, 1.5, 3)          # at gamma = 1, dL/dx = dL/dy hides mistakes
    assert mtorch.gradcheck(layer, rng.standard_normal((4, 3)))
    assert check_layer(layer, input_shape=(4, 3), verbose=False)


@pytest.mark.skipif(not os.path.isdir(os.path.join(os.environ.get("MTORCH_DATA_DIR", "/nonexistent"), "mnist")),
                    reason="the tour trains on MNIST: set MTORCH_DATA_DIR")
def test_the_tour_trains(capsys):
    code = python_block_after("## A tour").replace("range(3)", "range(1)")
    exec(code, {})
    epoch, loss = capsys.readouterr().out.split()
    assert epoch == "0" and float(loss) < 0.6


def test_the_residual_block_in_the_readme_is_right(rng):
    namespace = {}
    exec("from mtorch import Layer, Sequential, layers\n" + python_block_after("### Networks beyond a chain"),
         namespace)
    block = namespace["Block"]()
    assert mtorch.gradcheck(block, rng.standard_normal((3, 8)))
    reference = mtorch.layers.Residual(block.body)
    x = rng.standard_normal((3, 8)).astype(np.float32)
    np.testing.assert_allclose(block(x), reference(x), rtol=1e-6)
