"""Embedding: lookup, scatter-add backward, padding_idx, max_norm, scale_grad_by_freq, parity with torch."""
import numpy as np
import pytest

import mtorch
from mtorch.errors import BackwardBeforeForwardError, ShapeError
from mtorch.layers import Embedding, Linear
from torch_parity import assert_close, load_torch_state, module_db_samples


def test_forward_picks_rows_for_indices_of_any_shape():
    emb = Embedding(5, 3)
    idx = np.array([[[4, 0], [2, 2]]])
    y = emb(idx)
    assert y.shape == (1, 2, 2, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y[0, 1, 0], emb.weight.data[2])
    assert emb(np.int64(3)).shape == (3,)
    assert emb(np.zeros((0, 4), dtype=np.int32)).shape == (0, 4, 3)


def test_backward_adds_the_gradients_of_repeated_indices_and_returns_none(rng):
    emb = Embedding(6, 4)
    idx = np.array([[1, 3, 1], [5, 1, 3]])
    g = rng.standard_normal((2, 3, 4)).astype(np.float32)
    emb(idx)
    assert emb.backward(g) is None
    expected = np.zeros((6, 4), np.float32)
    for position, row in np.ndenumerate(idx):          # the plain loop: one row at a time
        expected[row] += g[position]
    np.testing.assert_allclose(emb.weight.grad, expected, rtol=1e-6)
    np.testing.assert_allclose(emb.weight.grad[1], g[0, 0] + g[0, 2] + g[1, 1], rtol=1e-6)
    assert not emb.weight.grad[[0, 2, 4]].any()


@pytest.mark.parametrize("padding_idx, row", [(0, 0), (2, 2), (-1, 4)])
def test_padding_row_starts_at_zero_and_gets_no_gradient(padding_idx, row, rng):
    emb = Embedding(5, 3, padding_idx=padding_idx)
    assert emb.padding_idx == row
    assert not emb.weight.data[row].any() and emb.weight.data[(row + 1) % 5].any()
    idx = np.array([[row, 1, row], [1, 3, row]])
    emb(idx)
    emb.backward(rng.standard_normal((2, 3, 3)))
    assert not emb.weight.grad[row].any() and emb.weight.grad[1].any()


def test_gradcheck_through_the_integer_input():
    """gradcheck passes integer input unchanged and checks the weight. (padding_idx and
    scale_grad_by_freq change the gradient on purpose, so they are checked against torch.)"""
    assert mtorch.gradcheck(Embedding(4, 3), np.array([[0, 2, 2], [3, 0, 1]]))


def test_gradients_of_a_weight_shared_with_a_linear_layer_add_up(rng):
    emb, head = Embedding(5, 3), Linear(3, 5, bias=False)
    head.weight = emb.weight                                   # tied, as in a language model
    idx = np.array([1, 4, 1])
    h = emb(idx)
    g = rng.standard_normal((3, 5)).astype(np.float32)
    head(h)
    dh = head.backward(g)
    from_head = emb.weight.grad.copy()
    emb.backward(dh)
    from_embedding = np.zeros((5, 3), np.float32)
    np.add.at(from_embedding, idx, dh)
    np.testing.assert_allclose(emb.weight.grad, from_head + from_embedding, rtol=1e-5)


# --------------------------------------------------------------- against torch
def _compare_with_torch(torch, ours, theirs, idx, rng):
    load_torch_state(ours, theirs)
    g = rng.standard_normal(idx.shape + (ours.embedding_dim,))
    y = ours(idx)
    ours.backward(g)
    yt = theirs(torch.from_numpy(idx))
    (yt * torch.from_numpy(g)).sum().backward()
    assert_close(y, yt, "output")
    assert_close(ours.weight.grad, theirs.weight.grad, "weight gradient")
    assert_close(ours.weight.data, theirs.weight, "weight after forward (max_norm renormalises)")


def test_matches_torch_on_its_module_db_samples(rng):
    torch = pytest.importorskip("torch")
    samples = module_db_samples(torch, torch.nn.Embedding)
    assert samples
    for sample in samples:
        kwargs = sample.constructor_input.kwargs
        idx = sample.forward_input.args[0].numpy()
        _compare_with_torch(torch, Embedding(**kwargs).double(), torch.nn.Embedding(**kwargs).double(), idx, rng)


@pytest.mark.parametrize("kwargs", [
    dict(padding_idx=0), dict(padding_idx=-2), dict(scale_grad_by_freq=True),
    dict(max_norm=1.0), dict(max_norm=0.5, norm_type=1.0, padding_idx=3),
])
def test_matches_torch_with_repeated_and_padding_indices(kwargs, rng):
    torch = pytest.importorskip("torch")
    idx = np.array([[0, 3, 3, 1], [4, 0, 3, 6], [1, 1, 1, 1]])
    theirs = torch.nn.Embedding(7, 5, **kwargs).double()
    _compare_with_torch(torch, Embedding(7, 5, **kwargs).double(), theirs, idx, rng)


def test_state_dict_and_init_follow_torch():
    emb = Embedding(1000, 64)
    assert list(emb.state_dict()) == ["weight"]
    assert abs(emb.weight.data.std() - 1) < 0.02 and abs(emb.weight.data.mean()) < 0.02      # N(0, 1)
    assert repr(Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"


# ---------------------------------------------------------------------- errors
def test_bad_input_is_refused_with_the_class_name():
    emb = Embedding(4, 2)
    with pytest.raises(TypeError, match="Embedding.*integer indices.*float"):
        emb(np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="Embedding.*integer indices.*bool"):
        emb(np.array([True]))
    with pytest.raises(IndexError, match=r"Embedding.*index 4 is out of range.*\[0, 3\]"):
        emb(np.array([1, 4]))
    with pytest.raises(IndexError, match="index -1"):
        emb(np.array([-1]))
    with pytest.raises(BackwardBeforeForwardError):
        Embedding(4, 2).backward(np.zeros((1, 2)))
    emb(np.array([1, 2]))
    with pytest.raises(ShapeError, match=r"expected grad_out of shape \(2, 2\)"):
        emb.backward(np.zeros((2, 3)))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(num_embeddings=0, embedding_dim=2), ValueError, "Embedding: num_embeddings must be an int >= 1"),
    (dict(num_embeddings=4.0, embedding_dim=2), TypeError, "num_embeddings must be an int"),
    (dict(num_embeddings=4, embedding_dim=2, padding_idx=4), ValueError, r"padding_idx must be an int in \[-4, 3\]"),
    (dict(num_embeddings=4, embedding_dim=2, max_norm=-1.0), ValueError, "max_norm"),
    (dict(num_embeddings=4, embedding_dim=2, sparse=True), ValueError, "Embedding: sparse=True is not supported"),
])
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        Embedding(**kwargs)
