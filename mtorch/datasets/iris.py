"""Iris: Fisher's 150 flowers, 4 measurements each, 3 species.

The file is scikit-learn's ``iris.csv`` (``sklearn/datasets/data/iris.csv``),
kept at ``<root>/iris/iris.csv``. Its first line is a header giving the
number of rows, the number of features and the class names; every other line
is one flower's four measurements followed by its class index::

    150,4,setosa,versicolor,virginica
    5.1,3.5,1.4,0.2,0
    ...
"""
import numpy as np

from ..data.dataset import Dataset, check_index
from .paths import ENV_VAR, DatasetNotFoundError, data_root

FEATURE_NAMES = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)")


def read_iris_csv(path):
    """Parse a scikit-learn style Iris file; returns ``(features, labels, class_names)``.

    ``features`` is float32 ``(N, 4)``, ``labels`` int64 ``(N,)`` with values in
    ``[0, len(class_names))``. Raises ``ValueError`` naming the file and line
    when the file is not UTF-8 text, the header's counts disagree with the
    rows, a field is not a number, a row has the wrong number of fields or a
    class index is out of range.
    """
    with open(path, "rb") as f:
        data = f.read()
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ValueError(f"{path}, line {line}: not UTF-8 text (byte {data[error.start]:#04x}); "
                         "expected a CSV file") from None
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ValueError(f"{path}: empty file, expected the header '150,4,setosa,versicolor,virginica'")

    header = [field.strip() for field in lines[0].split(",")]
    try:
        n_rows, n_features = int(header[0]), int(header[1])
    except (ValueError, IndexError):
        raise ValueError(f"{path}, line 1: expected a header 'n_samples,n_features,class names...' "
                         f"such as '150,4,setosa,versicolor,virginica', got {lines[0]!r}") from None
    class_names = tuple(header[2:])
    if n_features != len(FEATURE_NAMES) or not class_names:
        raise ValueError(f"{path}, line 1: expected {len(FEATURE_NAMES)} features and at least one "
                         f"class name in the header, got {lines[0]!r}")
    if len(lines) - 1 != n_rows:
        raise ValueError(f"{path}: the header (line 1) announces {n_rows} rows, "
                         f"but the file has {len(lines) - 1}")

    features = np.empty((n_rows, n_features), dtype=np.float32)
    labels = np.empty(n_rows, dtype=np.int64)
    for row, line in enumerate(lines[1:]):
        where = f"{path}, line {row + 2}"
        fields = line.split(",")
        if len(fields) != n_features + 1:
            raise ValueError(f"{where}: expected {n_features} features and a class index "
                             f"({n_features + 1} fields), got {len(fields)}: {line!r}")
        try:
            values = [float(v) for v in fields[:n_features]]
        except ValueError:
            raise ValueError(f"{where}: features must be numbers, got {line!r}") from None
        if not all(np.isfinite(values)):
            raise ValueError(f"{where}: features must be finite numbers, got {line!r}")
        try:
            label = int(fields[n_features])
        except ValueError:
            raise ValueError(f"{where}: the class index must be an integer, "
                             f"got {fields[n_features].strip()!r}") from None
        if not 0 <= label < len(class_names):
            raise ValueError(f"{where}: class index {label} is out of range "
                             f"[0, {len(class_names)}) for classes {class_names}")
        features[row], labels[row] = values, label
    return features, labels, class_names


class Iris(Dataset):
    """The Iris data set: 150 samples of 4 features, 3 classes (50 each).

    Args:
        root: the data directory holding ``iris/iris.csv``; default
            ``MTORCH_DATA_DIR``, else the repository's ``datasets/`` folder.

    Attributes:
        features: float32 array ``(150, 4)``, in centimetres.
        labels: int64 array ``(150,)``, class indices 0, 1, 2.
        feature_names: ``("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)")``.
        class_names: from the file's header, ``("setosa", "versicolor", "virginica")``.
        path: the file that was read.

    ``dataset[i]`` is ``(features[i], labels[i])``; ``get_batch(indices)``
    gathers a whole batch at once (``DataLoader`` uses it).

    Example:
        >>> iris = Iris()
        >>> train_idx, test_idx = mtorch.data.stratified_split(iris.labels, 0.3, seed=0)
        >>> x_train, y_train = iris[train_idx]
    """

    feature_names = FEATURE_NAMES

    def __init__(self, root=None):
        self.path = data_root(root, "Iris") / "iris" / "iris.csv"
        if not self.path.is_file():
            raise DatasetNotFoundError(
                f"Iris: {self.path} not found. Put scikit-learn's iris.csv there (it is "
                f"sklearn/datasets/data/iris.csv in the scikit-learn sources), or set the environment "
                f"variable {ENV_VAR} (or pass root=) to a folder that has iris/iris.csv.")
        self.features, self.labels, self.class_names = read_iris_csv(self.path)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        index = check_index("Iris", index, len(self))
        return self.features[index], self.labels[index]

    def get_batch(self, indices):
        """``(features[indices], labels[indices])`` for an int array ``indices``."""
        indices = check_index("Iris.get_batch", indices, len(self))
        return self.features[indices], self.labels[indices]

    def __repr__(self):
        return f"Iris(samples={len(self)}, features={len(self.feature_names)}, classes={len(self.class_names)})"
