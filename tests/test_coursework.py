"""The coursework kit: every skeleton fails cleanly with score 0, every built-in layer handed in as a
submission gets full marks, and the grading command works on a folder of submissions."""
import ast
import json
import os
import pathlib
import subprocess
import sys

import pytest

from mtorch.testing.grading import grade, load_specs

ROOT = pathlib.Path(__file__).resolve().parent.parent
COURSEWORK = ROOT / "coursework"
SPECS = load_specs(str(COURSEWORK / "specs.py"))


def _skeleton_classes():
    """{class name: file} for the public classes of the assignment skeletons."""
    found = {}
    for path in sorted((COURSEWORK / "assignments").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                found[node.name] = path
    return found


SKELETONS = _skeleton_classes()


def _cases(table):
    return [pytest.param(name, table[name], id=name) for name in table]


def test_every_skeleton_has_a_spec_and_every_spec_a_skeleton():
    assert sorted(SKELETONS) == sorted(SPECS)
    assert len(SPECS) == 13
    for name, path in SKELETONS.items():
        source = path.read_text(encoding="utf-8")
        assert f"raise NotImplementedError(\"{name}.forward\")" in source
        assert "Backward" in source or "backward" in source.split("def forward")[0]


@pytest.mark.parametrize("name, path", _cases(SKELETONS))
def test_a_skeleton_fails_cleanly_with_score_0(name, path):
    report = grade(str(path), SPECS[name])
    assert report.score == 0 and report.max_score == SPECS[name].max_score > 0
    assert [c.name for c in report.failures] == ["forward"]
    assert f"raised NotImplementedError: {name}.forward" in report["forward"].message


ATTENTION = '''
import numpy as np
from mtorch import Layer, Parameter
from mtorch.layers import Linear


class CausalSelfAttention(Layer):
    def __init__(self, embed_dim):
        super().__init__()
        self.embed_dim = embed_dim
        self.in_proj_weight = Parameter(np.random.default_rng(0).uniform(-0.5, 0.5, (3 * embed_dim, embed_dim)))
        self.in_proj_bias = Parameter(np.zeros(3 * embed_dim))
        self.out_proj = Linear(embed_dim, embed_dim)
        self._cache = None

    def forward(self, x):
        x = self.check_input(x, ("N", "T", self.embed_dim))
        q, k, v = np.split(x @ self.in_proj_weight.data.T + self.in_proj_bias.data, 3, axis=-1)
        scale = x.dtype.type(1 / np.sqrt(self.embed_dim))
        s = np.where(np.tril(np.ones((x.shape[1],) * 2, bool)), q @ np.swapaxes(k, 1, 2) * scale, -np.inf)
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        self._cache = (x, q, k, v, p, scale)
        return self.out_proj(p @ v)

    def backward(self, grad_out):
        x, q, k, v, p, scale = self._cache
        d_pv = self.out_proj.backward(grad_out)
        d_p = d_pv @ np.swapaxes(v, 1, 2)
        d_s = p * (d_p - (d_p * p).sum(axis=-1, keepdims=True)) * scale
        d_qkv = np.concatenate([d_s @ k, np.swapaxes(d_s, 1, 2) @ q, np.swapaxes(p, 1, 2) @ d_pv], axis=-1)
        rows = d_qkv.reshape(-1, 3 * self.embed_dim)
        self.in_proj_weight.add_grad(rows.T @ x.reshape(-1, self.embed_dim))
        self.in_proj_bias.add_grad(rows.sum(axis=0))
        return d_qkv @ self.in_proj_weight.data
'''

SOLUTIONS = {
    "Linear": "from mtorch.layers import Linear",
    "ReLU": "from mtorch.layers import ReLU",
    "SoftmaxCrossEntropy": "from mtorch.loss import CrossEntropyLoss as SoftmaxCrossEntropy",
    "Conv2dNaive": "from mtorch.layers import Conv2d as Conv2dNaive",
    "Conv2d": "from mtorch.layers import Conv2d",
    "MaxPool2d": "from mtorch.layers import MaxPool2d",
    "BatchNorm1d": "from mtorch.layers import BatchNorm1d",
    "Dropout": "from mtorch.layers import Dropout",
    "RNN": "from mtorch.layers import RNN",
    "LSTM": "from mtorch.layers import LSTM",
    "LayerNorm": "from mtorch.layers import LayerNorm",
    "Embedding": "from mtorch.layers import Embedding",
    "CausalSelfAttention": ATTENTION,
}


def test_every_assignment_has_a_solution_here():
    assert sorted(SOLUTIONS) == sorted(SPECS)


@pytest.mark.parametrize("name, source", _cases(SOLUTIONS))
def test_the_built_in_layer_handed_in_gets_full_marks(name, source, tmp_path):
    path = tmp_path / f"{name.lower()}.py"
    path.write_text(source + "\n", encoding="utf-8")
    report = grade(str(path), SPECS[name])
    assert report.ok, report.text
    assert report.score == report.max_score == SPECS[name].max_score


def _submit(tmp_path, name, source):
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return str(path)


def test_dropout_without_the_scaling_fails_its_statistics(tmp_path):
    path = _submit(tmp_path, "dropout", '''
import numpy as np
from mtorch.layers import Dropout as BuiltIn


class Dropout(BuiltIn):
    def forward(self, x):
        return super().forward(x) * (1 - self.p) if self.training else super().forward(x)

    def backward(self, grad_out):
        return super().backward(grad_out) * (1 - self.p)
''')
    report = grade(path, SPECS["Dropout"])
    assert [c.name for c in report.failures] == ["dropout statistics"]
    assert "scale the kept entries by 1 / (1 - p)" in report["dropout statistics"].message
    assert report.score == SPECS["Dropout"].max_score - 3


NAIVE_CONV = '''
import numpy as np
from mtorch.layers import Conv2d as BuiltIn


class Conv2d(BuiltIn):
    """The built-in's parameters; forward and backward with a loop over every sample, channel and pixel."""

    def forward(self, x):
        x = self.check_input(x, ("N", self.in_channels, "H", "W"))
        (k, _), (s, _), (p, _) = self.kernel_size, self.stride, self.padding
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        h, w = (xp.shape[2] - k) // s + 1, (xp.shape[3] - k) // s + 1
        y = np.zeros((x.shape[0], self.out_channels, h, w), x.dtype)
        for n in range(x.shape[0]):
            for o in range(self.out_channels):
                for i in range(h):
                    for j in range(w):
                        y[n, o, i, j] = np.sum(xp[n, :, i * s:i * s + k, j * s:j * s + k] * self.weight.data[o])
        self._naive = (xp, x.shape)
        return y + self.bias.data[:, None, None]

    def backward(self, grad_out):
        xp, shape = self._naive
        (k, _), (s, _), (p, _) = self.kernel_size, self.stride, self.padding
        dxp, dw = np.zeros_like(xp), np.zeros_like(self.weight.data)
        for n in range(grad_out.shape[0]):
            for o in range(self.out_channels):
                for i in range(grad_out.shape[2]):
                    for j in range(grad_out.shape[3]):
                        g = grad_out[n, o, i, j]
                        dxp[n, :, i * s:i * s + k, j * s:j * s + k] += g * self.weight.data[o]
                        dw[o] += g * xp[n, :, i * s:i * s + k, j * s:j * s + k]
        self.weight.add_grad(dw)
        self.bias.add_grad(grad_out.sum(axis=(0, 2, 3)))
        return dxp[:, :, p:p + shape[2], p:p + shape[3]]
'''


def test_loops_pass_the_naive_assignment_and_are_too_slow_for_the_vectorised_one(tmp_path):
    naive = _submit(tmp_path, "naive", NAIVE_CONV.replace("class Conv2d(", "class Conv2dNaive("))
    assert grade(naive, SPECS["Conv2dNaive"]).score == SPECS["Conv2dNaive"].max_score
    report = grade(_submit(tmp_path, "conv", NAIVE_CONV), SPECS["Conv2d"])
    assert [c.name for c in report.failures] == ["speed"]
    assert report["speed"].numbers["ratio"] > 20


# ------------------------------------------------------------------ the command

CORRECT = "from mtorch.layers import Linear\n"
WRONG_BACKWARD = '''
from mtorch.layers import Linear as BuiltIn


class Linear(BuiltIn):
    def backward(self, grad_out):
        self.weight.add_grad(grad_out.T @ self._x)
        self.bias.add_grad(grad_out.mean(axis=0))        # wrong: b is used by every sample, so a sum
        return grad_out @ self.weight.data
'''
CRASHING = '''
import numpy as np
from mtorch import Layer


class Linear(Layer):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weights = [np.zeros((out_features, in_features))]

    def forward(self, x):
        return x @ self.weights[1]
'''


def _grader(*args, env=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-m", "mtorch.testing", *args], capture_output=True, text=True,
                          env=env, cwd=str(ROOT), timeout=600)


def test_the_grading_command_on_a_folder_writes_json_and_exits_1(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name, source in [("correct", CORRECT), ("wrong_backward", WRONG_BACKWARD), ("crashing", CRASHING)]:
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
    out = tmp_path / "grades.json"
    done = _grader(f"{folder}::Linear", "--spec", "coursework/specs.py", "--json", str(out), "--quiet")
    assert done.returncode == 1, done.stderr
    grades = json.loads(out.read_text(encoding="utf-8"))
    by_name = {os.path.basename(s["submission"]): s for s in grades["submissions"]}
    assert sorted(by_name) == ["correct.py", "crashing.py", "wrong_backward.py"]
    assert grades["specs"]["Linear"]["max_score"] == 14
    assert by_name["correct.py"]["passed"] and by_name["correct.py"]["score"] == 14
    wrong = by_name["wrong_backward.py"]
    assert [c["name"] for c in wrong["checks"] if c["passed"] is False] == ["gradient of bias", "reference gradients"]
    bias = next(c for c in wrong["checks"] if c["name"] == "gradient of bias")
    assert bias["numbers"]["wrong"] == 3 and bias["max_points"] > 0 and bias["points"] == 0
    assert "a factor of the batch size N=4" in bias["message"]
    crashing = by_name["crashing.py"]
    assert crashing["score"] == 0 and crashing["checks"][0]["name"] == "forward"
    assert "IndexError" in crashing["checks"][0]["message"]
    assert "14/14" in done.stdout and "FAILED: forward" in done.stdout


def test_a_submission_that_kills_the_interpreter_or_never_returns_costs_only_its_own_grade(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "exits.py").write_text("import os\nos._exit(3)\n", encoding="utf-8")
    (folder / "loops.py").write_text(CORRECT + "Linear.forward = lambda self, x: [0 for _ in iter(int, 1)]\n",
                                     encoding="utf-8")
    (folder / "correct.py").write_text(CORRECT, encoding="utf-8")
    out = tmp_path / "grades.json"
    done = _grader(f"{folder}::Linear", "--args", "3, 2", "--timeout", "1", "--json", str(out), "--quiet")
    assert done.returncode == 1
    by_name = {os.path.basename(s["submission"]): s for s in json.loads(out.read_text())["submissions"]}
    assert by_name["correct.py"]["passed"]
    assert by_name["exits.py"]["checks"][0]["name"] == "grading"
    assert "exit status 3" in by_name["exits.py"]["checks"][0]["message"]
    assert "timed out after 1 s" in by_name["loops.py"]["checks"][0]["message"]


def test_the_command_on_one_file_with_options(tmp_path):
    path = _submit(tmp_path, "emb", '''
import numpy as np
from mtorch import Layer, Parameter


class Embedding(Layer):
    def __init__(self, n, d):
        super().__init__()
        self.weight = Parameter(np.random.default_rng(0).standard_normal((n, d)))
        self._idx = None

    def forward(self, idx):
        self._idx = np.asarray(idx)
        return self.weight.data[self._idx]

    def backward(self, grad_out):
        g = self.check_grad_out(grad_out, None if self._idx is None else self._idx.shape + (self.weight.shape[1],))
        d = np.zeros_like(self.weight.data)
        np.add.at(d, self._idx, g)
        self.weight.add_grad(d)
        return None
''')
    done = _grader(f"{path}::Embedding", "--args", "10, 3", "--index-input", "4,6:10", env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "input: (4, 6) int64 (given)" in done.stdout
    assert "  + gradient of weight" in done.stdout and "\u2713" not in done.stdout


def test_help_and_usage_errors():
    done = _grader("--help")
    assert done.returncode == 0 and "FILE.py::ClassName" in done.stdout and "--index-input" in done.stdout
    done = _grader("no_such_file.py::Linear")
    assert done.returncode == 2 and "no_such_file.py does not exist" in done.stderr
    done = _grader("coursework/specs.py")
    assert done.returncode == 2 and "FILE.py::ClassName" in done.stderr


# -------------------------------------------------------------- the pytest plugin

TEACHER_TESTS = '''
from mtorch.testing.grading import load_specs

SPECS = load_specs("{specs}")


def test_linear(grade, submission):
    grade(submission, SPECS["Linear"])
'''


def test_the_pytest_plugin_grades_each_submission(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice.py").write_text(CORRECT, encoding="utf-8")
    (folder / "bob.py").write_text(WRONG_BACKWARD, encoding="utf-8")
    tests = tmp_path / "test_grades.py"
    tests.write_text(TEACHER_TESTS.format(specs=COURSEWORK / "specs.py"), encoding="utf-8")
    out = tmp_path / "grades.json"
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "mtorch.testing.pytest_plugin", str(tests),
                           "--submissions", str(folder), "--grades-json", str(out), "-q", "-p", "no:cacheprovider"],
                          capture_output=True, text=True, cwd=str(tmp_path), timeout=600,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    assert "test_linear[bob]" in done.stdout and "score 11.6667 of 14" in done.stdout
    grades = {g["test"].split("[")[1].rstrip("]"): g for g in json.loads(out.read_text())["grades"]}
    assert grades["alice"]["score"] == 14 and not grades["bob"]["passed"]


def test_the_teachers_readme_states_each_assignments_points():
    table = (COURSEWORK / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and cells[1].startswith("`") and cells[3].isdigit():
            rows[cells[1].strip("`").split("(")[0]] = int(cells[3])
    assert rows == {name: spec.max_score for name, spec in SPECS.items()}
