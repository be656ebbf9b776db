"""Run a tutorial page of docs/ as its builder does, and compare what it shows with what it prints."""
import pathlib
import re
import runpy

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
BUILDER = runpy.run_path(str(DOCS / "build_tutorial.py"))


def run_page(name):
    """Execute ``docs/<name>``'s python blocks; returns ``(namespace, pairs)``, each pair a text block
    shown on the page and what the python block right before it printed."""
    path = DOCS / name
    text = path.read_text(encoding="utf-8")
    namespace, outputs = BUILDER["run_blocks"](text, str(path))
    pairs, index = [], -1
    for kind, body in re.findall(r"```(python|text)\n(.*?)```", text, re.S):
        if kind == "python":
            index += 1
        else:
            pairs.append((body, outputs[index]))
    return namespace, pairs


def report_lines(text):
    """The mark and name of every check line (the numbers may differ in the last digits between machines)."""
    return re.findall(r"^  ([\u2713\u2717-]) (.+?)  ", text, re.M)


def without_numbers(text):
    """The text with every number replaced by '#' (the last digits may differ between machines)."""
    return re.sub(r"-?\d[\d.]*(e[-+]?\d+)?", "#", text)
