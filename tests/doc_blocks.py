"""Run a markdown page's python blocks in order and pair each text block with the output before it."""
import contextlib
import io
import re

import mtorch


def run_python_blocks(path):
    """Execute ``path``'s python blocks in one namespace (mtorch seeded with 0 first).

    Returns ``(namespace, pairs)``: each ```text block shown on the page, with
    what the python blocks since the previous text block printed.
    """
    mtorch.manual_seed(0)
    text = path.read_text(encoding="utf-8")
    namespace, pairs, output = {"__name__": "tutorial"}, [], ""
    for kind, body in re.findall(r"```(python|text)\n(.*?)```", text, re.S):
        if kind == "python":
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(body, str(path), "exec"), namespace)
            output += buffer.getvalue()
        else:
            pairs.append((body, output))
            output = ""
    return namespace, pairs


def report_lines(text):
    """The mark and name of every check_layer line (numbers may differ in the last digits between machines)."""
    return re.findall(r"^  ([\u2713\u2717-]) (.+?)  ", text, re.M)


def without_numbers(text):
    """``text`` with every number replaced by ``#``, for comparing printed results across machines."""
    return re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "#", text)
