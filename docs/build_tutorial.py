"""Keep the custom-layer tutorial honest: its reports are the real output, its notebook is the same page.

    python docs/build_tutorial.py           # rewrite the ```text blocks of custom_layers.md, write custom_layers.ipynb
    python docs/build_tutorial.py --check   # exit 1 when either is out of date

Every ```python block of ``custom_layers.md`` runs in order in one namespace;
the ```text block after one shows what it printed. The notebook has a
markdown cell for each stretch of prose and a code cell for each python
block (the outputs appear when it runs).
"""
import argparse
import contextlib
import io
import json
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
TUTORIAL = HERE / "custom_layers.md"
NOTEBOOK = HERE / "custom_layers.ipynb"
BLOCK = re.compile(r"```(python|text)\n(.*?)```\n?", re.S)
SETUP = ("import os, sys\n"
         "sys.path.insert(0, os.path.abspath(\"..\"))   # mtorch from this repository (the notebook is in docs/)")


def run_blocks(text):
    """Execute the python blocks in order; returns the namespace and what each block printed."""
    import mtorch
    mtorch.manual_seed(0)
    namespace, outputs = {"__name__": "tutorial"}, []
    for kind, body in re.findall(r"```(python|text)\n(.*?)```", text, re.S):
        if kind == "python":
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(body, str(TUTORIAL), "exec"), namespace)
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
    parser = argparse.ArgumentParser(description="Rewrite the tutorial's shown output from a real run and "
                                                 "write its notebook.")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when something is out of date")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent))
    text = TUTORIAL.read_text(encoding="utf-8")
    _, outputs = run_blocks(text)
    new_text = with_real_output(text, outputs)
    new_book = notebook(new_text)
    stale = [p.name for p, content in ((TUTORIAL, new_text), (NOTEBOOK, new_book))
             if not p.exists() or p.read_text(encoding="utf-8") != content]
    if args.check:
        print("out of date: " + ", ".join(stale) if stale else "up to date")
        return 1 if stale else 0
    TUTORIAL.write_text(new_text, encoding="utf-8")
    NOTEBOOK.write_text(new_book, encoding="utf-8")
    print("wrote " + ", ".join(stale) if stale else "up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
