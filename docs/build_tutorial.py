"""Keep the tutorials honest: their shown output is the real output, their notebooks are the same pages.

    python docs/build_tutorial.py           # rewrite the ```text blocks of every tutorial, write its .ipynb
    python docs/build_tutorial.py --check   # exit 1 when a page or a notebook is out of date

The tutorials are ``custom_layers.md`` and ``composite_layers.md``. Every
```python block of a page runs in order in one namespace; the ```text block
after one shows what it printed. A page's notebook has a markdown cell for
each stretch of prose and a code cell for each python block (the outputs
appear when it runs).
"""
import argparse
import contextlib
import io
import json
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
TUTORIALS = (HERE / "custom_layers.md", HERE / "composite_layers.md")
BLOCK = re.compile(r"```(python|text)\n(.*?)```\n?", re.S)
SETUP = ("import os, sys\n"
         "sys.path.insert(0, os.path.abspath(\"..\"))   # mtorch from this repository (the notebook is in docs/)")


def run_blocks(text, filename="tutorial"):
    """Execute the python blocks in order (mtorch seeded with 0 first); returns the namespace and
    what each block printed."""
    import mtorch
    mtorch.manual_seed(0)
    namespace, outputs = {"__name__": "tutorial"}, []
    for kind, body in re.findall(r"```(python|text)\n(.*?)```", text, re.S):
        if kind == "python":
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(body, filename, "exec"), namespace)
            outputs.append(buffer.getvalue())
    return namespace, outputs


def with_real_output(text, outputs):
    """``text`` with every ```text block replaced by what the python block before it printed."""
    pieces, last, index = [], 0, -1
    for match in BLOCK.finditer(text):
        kind = match.group(1)
        if kind == "python":
            index += 1
        else:
            pieces.append(text[last:match.start()] + "```text\n" + outputs[index] + "```\n")
            last = match.end()
    return "".join(pieces) + text[last:]


def _lines(source):
    lines = source.strip("\n").splitlines(keepends=True)
    if lines:
        lines[-1] = lines[-1].rstrip("\n")
    return lines


def notebook(text):
    """The tutorial as a Jupyter notebook (nbformat 4.5), as a JSON string."""
    cells, last = [("code", SETUP)], 0
    for match in BLOCK.finditer(text):
        prose = text[last:match.start()].strip("\n")
        if prose:
            cells.append(("markdown", prose))
        if match.group(1) == "python":
            cells.append(("code", match.group(2)))
        last = match.end()
    if text[last:].strip():
        cells.append(("markdown", text[last:]))
    out = []
    for i, (kind, source) in enumerate(cells):
        cell = {"cell_type": kind, "id": f"cell-{i}", "metadata": {}, "source": _lines(source)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        out.append(cell)
    book = {"cells": out, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                      "name": "python3"},
                                       "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(book, indent=1, ensure_ascii=False) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Rewrite the tutorials' shown output from a real run and "
                                                 "write their notebooks.")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when something is out of date")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent))
    updates = {}
    for page in TUTORIALS:
        text = page.read_text(encoding="utf-8")
        _, outputs = run_blocks(text, str(page))
        updates[page] = with_real_output(text, outputs)
        updates[page.with_suffix(".ipynb")] = notebook(updates[page])
    stale = [p for p, content in updates.items() if not p.exists() or p.read_text(encoding="utf-8") != content]
    names = ", ".join(p.name for p in stale)
    if args.check:
        print("out of date: " + names if stale else "up to date")
        return 1 if stale else 0
    for p in stale:
        p.write_text(updates[p], encoding="utf-8")
    print("wrote " + names if stale else "up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
