"""Seeded, stratified train/test split: every class keeps its share in both parts."""
import numpy as np

from .. import random as mrandom
from ..validation import as_real_array, check_int, check_real


def stratified_split(labels, test_fraction, seed=None):
    """Split sample indices into train and test so that each class is divided in the same proportion.

    The test set gets ``round(test_fraction * N)`` samples. Class ``c`` with
    ``n_c`` samples contributes ``n_c * test_fraction`` of them, rounded so the
    counts add up (largest remainders first, ties to the larger class);
    which of its samples go to the test set is a random permutation.

    Args:
        labels: 1-D integer array of class labels, shape ``(N,)``.
        test_fraction: the share of samples to hold out, ``0 < test_fraction < 1``.
        seed: an integer for a reproducible split; None draws from mtorch's
            generator (so ``mtorch.manual_seed`` makes it reproducible too).

    Returns:
        ``(train_indices, test_indices)``: sorted int64 arrays, disjoint, together ``0..N-1``.

    Example:
        >>> train_idx, test_idx = stratified_split(np.array([0, 0, 0, 1, 1, 1]), 1/3, seed=0)
        >>> len(train_idx), len(test_idx)
        (4, 2)
    """
    labels = as_real_array("stratified_split", labels, "labels")
    if labels.ndim != 1 or labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"stratified_split: expected a non-empty 1-D integer array of labels, "
                         f"got shape {labels.shape} and dtype {labels.dtype}")
    test_fraction = check_real("stratified_split", "test_fraction", test_fraction, minimum=0, maximum=1,
                               open_min=True, open_max=True)
    seed = None if seed is None else check_int("stratified_split", "seed", seed, minimum=0)
    rng = mrandom.generator() if seed is None else np.random.default_rng(seed)

    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    n_test = int(round(test_fraction * len(labels)))
    exact = counts * (n_test / len(labels))
    per_class = np.floor(exact).astype(np.int64)
    order = np.lexsort((-counts, -(exact - per_class)))
    per_class[order[:n_test - per_class.sum()]] += 1

    shuffled = rng.permutation(len(labels))
    by_class = shuffled[np.argsort(inverse[shuffled], kind="stable")]
    rank = np.arange(len(labels)) - np.repeat(np.cumsum(counts) - counts, counts)
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[by_class] = rank < np.repeat(per_class, counts)
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)
