"""docs/composite_layers.md runs as written and shows its real output."""
import pathlib

import pytest

from doc_blocks import report_lines, run_python_blocks, without_numbers

PAGE = pathlib.Path(__file__).resolve().parent.parent / "docs" / "composite_layers.md"


@pytest.fixture(scope="module")
def page():
    return run_python_blocks(PAGE)


def test_every_block_runs_and_shows_its_real_output(page):
    _, pairs = page
    assert len(pairs) >= 7
    for shown, actual in pairs:
        assert actual, "a text block must follow a python block that prints"
        if shown.startswith("check_layer:"):
            assert report_lines(shown) == report_lines(actual)
            assert shown.splitlines()[0] == actual.splitlines()[0]
        else:
            assert without_numbers(shown) == without_numbers(actual)


def test_the_composite_layers_are_right_and_the_forgotten_branch_is_caught(page):
    namespace, _ = page
    assert namespace["report"].failures and [c.name for c in namespace["report"].failures] == ["gradient of input"]
    assert namespace["loss"].item() < 0.2 * namespace["points"].var()     # the tied autoencoder learned
