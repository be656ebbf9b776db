"""Iris reader (real and generated files), the stratified split, the linear SVM's gradients, and training."""
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.data import stratified_split
from mtorch.datasets import Iris
from mtorch.loss import MultiMarginLoss

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "iris.py"
REAL_ROOT = os.environ.get("MTORCH_DATA_DIR")
needs_real_iris = pytest.mark.skipif(
    not REAL_ROOT or not os.path.isfile(os.path.join(REAL_ROOT, "iris", "iris.csv")),
    reason="MTORCH_DATA_DIR does not hold iris/iris.csv")


def write_iris(root, text):
    folder = Path(root) / "iris"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "iris.csv").write_text(text)
    return folder / "iris.csv"


GOOD = "3,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n6.4,3.2,4.5,1.5,1\n6.3,3.3,6.0,2.5,2\n"


# ------------------------------------------------------------------ reader
@needs_real_iris
def test_real_file():
    iris = Iris()
    assert iris.features.shape == (150, 4) and iris.features.dtype == np.float32
    assert iris.labels.shape == (150,) and iris.labels.dtype == np.int64
    assert iris.class_names == ("setosa", "versicolor", "virginica")
    assert iris.feature_names[0] == "sepal length (cm)" and len(iris.feature_names) == 4
    np.testing.assert_array_equal(np.bincount(iris.labels), [50, 50, 50])
    np.testing.assert_allclose(iris.features[0], [5.1, 3.5, 1.4, 0.2], rtol=1e-6)
    np.testing.assert_allclose(iris.features[-1], [5.9, 3.0, 5.1, 1.8], rtol=1e-6)
    # Fisher's published column means, in cm
    np.testing.assert_allclose(iris.features.mean(axis=0), [5.8433, 3.0573, 3.7580, 1.1993], atol=1e-4)
    x, y = iris[np.array([0, 149])]
    assert x.shape == (2, 4) and list(y) == [0, 2]


def test_generated_file_values_and_order(tmp_path, monkeypatch):
    monkeypatch.setenv("MTORCH_DATA_DIR", str(tmp_path / "elsewhere"))
    write_iris(tmp_path, GOOD)
    iris = Iris(root=tmp_path)
    np.testing.assert_array_equal(iris.features, np.array(
        [[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.3, 3.3, 6.0, 2.5]], dtype=np.float32))
    np.testing.assert_array_equal(iris.labels, [0, 1, 2])
    assert len(iris) == 3 and iris.path == tmp_path / "iris" / "iris.csv"


def test_root_from_environment(tmp_path, monkeypatch):
    write_iris(tmp_path, GOOD.replace("6.3,3.3", "7.7,3.3"))
    monkeypatch.setenv("MTORCH_DATA_DIR", str(tmp_path))
    assert Iris().features[2, 0] == np.float32(7.7)


def test_no_trailing_newline_and_windows_line_ends(tmp_path):
    write_iris(tmp_path, GOOD.rstrip("\n").replace("\n", "\r\n"))
    assert Iris(root=tmp_path).labels.tolist() == [0, 1, 2]


@pytest.mark.parametrize("text, message", [
    ("", "empty file"),
    ("species,a,b\n5.1,3.5,1.4,0.2,0\n", "line 1: expected a header"),
    ("1,3,setosa\n5.1,3.5,1.4,0\n", "line 1: expected 4 features"),
    ("1,4\n5.1,3.5,1.4,0.2,0\n", "line 1: expected 4 features and at least one class name"),
    ("4,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n6.4,3.2,4.5,1.5,1\n6.3,3.3,6.0,2.5,2\n",
     "announces 4 rows, but the file has 3"),
    (GOOD.replace("6.4,3.2,4.5,1.5,1", "6.4,3.2,4.5,1"), "line 3: expected 4 features and a class index"),
    (GOOD.replace("6.4,3.2", "6.4,abc"), "line 3: features must be numbers"),
    (GOOD.replace("6.4,3.2", "6.4,nan"), "line 3: features must be finite"),
    (GOOD.replace("2.5,2", "2.5,3"), "line 4: class index 3 is out of range"),
    (GOOD.replace("2.5,2", "2.5,-1"), "line 4: class index -1 is out of range"),
    (GOOD.replace("0.2,0", "0.2,0.5"), "line 2: the class index must be an integer"),
])
def test_malformed_file_names_file_and_line(tmp_path, text, message):
    path = write_iris(tmp_path, text)
    with pytest.raises(ValueError, match=message) as info:
        Iris(root=tmp_path)
    assert str(path) in str(info.value)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "iris" / "iris.csv"
    path.parent.mkdir()
    path.write_bytes(GOOD.encode().replace(b"6.4,3.2", b"6.4,\xff3.2"))
    with pytest.raises(ValueError, match=r"iris.csv, line 3: not UTF-8 text \(byte 0xff\)"):
        Iris(root=tmp_path)


def test_damaged_files_always_give_a_value_error_naming_the_file(tmp_path):
    rng = np.random.default_rng(0)
    data = GOOD.encode()
    path = tmp_path / "iris" / "iris.csv"
    path.parent.mkdir()
    for trial in range(300):
        damaged = bytearray(data)
        for position in rng.integers(0, len(data), 1 + trial % 3):
            damaged[position] = int(rng.integers(256))
        path.write_bytes(bytes(damaged[:len(data) - trial % 7]))
        try:
            iris = Iris(root=tmp_path)
        except ValueError as error:
            assert str(error).startswith(f"{path}"), error
        else:
            assert iris.features.shape == (len(iris.labels), 4) and np.isfinite(iris.features).all()


def test_missing_file_says_where_to_put_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="MTORCH_DATA_DIR") as info:
        Iris(root=tmp_path)
    assert str(tmp_path / "iris" / "iris.csv") in str(info.value)


# ------------------------------------------------------------------- split
def test_split_is_disjoint_complete_and_stratified():
    labels = np.repeat([0, 1, 2], 50)
    train, test = stratified_split(labels, 0.3, seed=0)
    assert train.dtype == np.int64 and test.dtype == np.int64
    assert len(np.intersect1d(train, test)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(150))
    np.testing.assert_array_equal(np.bincount(labels[test]), [15, 15, 15])


def test_split_unbalanced_classes_keep_their_proportions():
    labels = np.array([2] * 60 + [5] * 30 + [7] * 10)
    rng = np.random.default_rng(3)
    labels = labels[rng.permutation(100)]
    train, test = stratified_split(labels, 0.25, seed=1)
    counts = {c: int(np.sum(labels[test] == c)) for c in (2, 5, 7)}
    assert counts == {2: 15, 5: 8, 7: 2}        # 15, 7.5, 2.5: the tie goes to the larger class
    assert len(test) == 25 and len(train) == 75


def test_split_rounding_adds_up():
    labels = np.array([0] * 7 + [1] * 3 + [2] * 1)          # 5.5 test samples -> 6
    _, test = stratified_split(labels, 0.5, seed=0)
    np.testing.assert_array_equal(np.bincount(labels[test], minlength=3), [4, 2, 0])


def test_split_is_seeded():
    labels = np.repeat([0, 1, 2], 50)
    a = stratified_split(labels, 0.3, seed=7)
    b = stratified_split(labels, 0.3, seed=7)
    c = stratified_split(labels, 0.3, seed=8)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    mtorch.manual_seed(5)
    d = stratified_split(labels, 0.3)
    mtorch.manual_seed(5)
    np.testing.assert_array_equal(d[1], stratified_split(labels, 0.3)[1])


@pytest.mark.parametrize("labels, fraction, message", [
    (np.zeros(10, dtype=np.int64), 0.0, "test_fraction"),
    (np.zeros(10, dtype=np.int64), 1.0, "test_fraction"),
    (np.zeros(10), 0.3, "integer"),
    (np.zeros((5, 2), dtype=np.int64), 0.3, "1-D"),
    (np.zeros(0, dtype=np.int64), 0.3, "non-empty"),
])
def test_split_rejects_bad_arguments(labels, fraction, message):
    with pytest.raises(ValueError, match=message):
        stratified_split(labels, fraction, seed=0)
    with pytest.raises(TypeError, match=r"^stratified_split: test_fraction must be a number in \(0, 1\)"):
        stratified_split(np.zeros(10, dtype=np.int64), "0.3")
    with pytest.raises(TypeError, match="seed must be an int"):
        stratified_split(np.zeros(10, dtype=np.int64), 0.3, seed=0.5)


# ------------------------------------------------------- the linear SVM
class SVMObjective(mtorch.Layer):
    """The SVM's training objective as one layer: ``x -> mean hinge(Linear(x), y)``, output shape (1,)."""

    def __init__(self, linear, target):
        super().__init__()
        self.linear, self.target, self.loss = linear, target, MultiMarginLoss()
        self._grad = None

    def forward(self, x):
        result = self.loss(self.linear(x), self.target)
        self._grad = result.grad
        return np.array([result.value])

    def backward(self, grad_out):
        g = self.check_grad_out(grad_out, None if self._grad is None else (1,))
        return self.linear.backward(g[0] * self._grad)


def test_linear_svm_gradient_through_the_layer(rng):
    x = rng.standard_normal((8, 4))
    target = rng.integers(0, 3, size=8)
    assert mtorch.gradcheck(SVMObjective(layers.Linear(4, 3), target), x)


def test_linear_svm_gradient_by_hand():
    # one sample, W = 0, b = 0: every score is 0, so both wrong classes violate the margin by 1
    linear = layers.Linear(2, 3)
    linear.weight.data[:] = 0
    linear.bias.data[:] = 0
    x = np.array([[1.0, 2.0]])
    loss = MultiMarginLoss(backward_func=linear.backward)(linear(x), np.array([1]))
    assert loss.value == pytest.approx(2 / 3)                   # (1 + 1) / C
    loss.backward()
    # dL/dscores = [1/3, -2/3, 1/3]; dL/dW = dL/dscores^T x
    np.testing.assert_allclose(linear.weight.grad, [[1 / 3, 2 / 3], [-2 / 3, -4 / 3], [1 / 3, 2 / 3]], rtol=1e-6)
    np.testing.assert_allclose(linear.bias.grad, [1 / 3, -2 / 3, 1 / 3], rtol=1e-6)


# ---------------------------------------------------------------- training
def load_example():
    spec = importlib.util.spec_from_file_location("iris_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_real_iris
@pytest.mark.parametrize("model", ["svm", "mlp"])
def test_iris_training_reaches_93_percent(model, tmp_path, capsys):
    example = load_example()
    accuracy = example.main(["--model", model, "--no-plots", "--out", str(tmp_path)])
    assert accuracy >= 0.93
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"test accuracy: {accuracy:.4f}"
