"""The tutorials in docs/ run as written, show their real output, and their notebooks are the same pages."""
import json
import re

import pytest

from doc_blocks import BUILDER, DOCS, report_lines, run_page, without_numbers

PAGES = ["custom_layers.md", "composite_layers.md"]


@pytest.mark.parametrize("name", PAGES)
def test_every_block_runs_and_shows_its_real_output(name):
    _, pairs = run_page(name)
    assert len(pairs) >= 7
    for shown, actual in pairs:
        assert actual, "a text block must follow a python block that prints"
        assert report_lines(shown) == report_lines(actual)
        assert without_numbers(shown) == without_numbers(actual), "run python docs/build_tutorial.py"


@pytest.mark.parametrize("name", PAGES)
def test_the_notebook_is_the_page(name):
    page = (DOCS / name).read_text(encoding="utf-8")
    notebook = (DOCS / name).with_suffix(".ipynb").read_text(encoding="utf-8")
    assert notebook == BUILDER["notebook"](page), "run python docs/build_tutorial.py"
    code = [c for c in json.loads(notebook)["cells"] if c["cell_type"] == "code"]
    assert len(code) == 1 + len(re.findall(r"```python\n", page))


@pytest.mark.parametrize("name, expected", [("custom_layers.md", ["\u2717 reference forward", "9.0 of 10.0"]),
                                            ("composite_layers.md", ["\u2717 gradient of input"])])
def test_the_notebook_runs(name, expected):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    book = nbformat.read(str((DOCS / name).with_suffix(".ipynb")), as_version=4)
    nbclient.NotebookClient(book, timeout=120, resources={"metadata": {"path": str(DOCS)}}).execute()
    printed = "".join(out.get("text", "") for cell in book.cells if cell.cell_type == "code" for out in cell.outputs)
    assert all(text in printed for text in expected)
