"""What the fuzz tests (tests/test_fuzz_*.py) found and what was fixed: one plain test per finding."""
import io
import math

import numpy as np
import pytest

import mtorch
from mtorch import Parameter, layers
from mtorch.data import DataLoader, TensorDataset
from mtorch.datasets import Iris, MNIST, Normalize, SineWaves
from mtorch.errors import BackwardBeforeForwardError, ShapeError
from mtorch.loss import BCEWithLogitsLoss, CrossEntropyLoss, MultiLabelSoftMarginLoss, NLLLoss
from mtorch.optim import SGD, Adam, clip_grad_norm, lr_scheduler


# ------------------------------------------------------------------ containers
@pytest.mark.parametrize("make, error, message", [
    (lambda: mtorch.ModuleList([layers.ReLU()])[3], IndexError, "ModuleList: index 3 is out of range for 1 layers"),
    (lambda: mtorch.ModuleList([layers.ReLU()])["0"], TypeError, "ModuleList: an index must be an int, got '0'"),
    (lambda: mtorch.ModuleList([layers.ReLU()]).__delitem__(-2), IndexError, "ModuleList: index -2"),
    (lambda: mtorch.Sequential(layers.ReLU())[1.5], TypeError, "Sequential: an index must be an int"),
    (lambda: mtorch.ModuleDict()["a"], KeyError, "ModuleDict: no layer named 'a'"),
    (lambda: mtorch.ModuleDict().__delitem__("a"), KeyError, "ModuleDict: no layer named 'a'"),
    (lambda: mtorch.ModuleList(None), TypeError, "ModuleList: expected an iterable of Layers, got NoneType"),
    (lambda: mtorch.ModuleDict([1]), TypeError, r"ModuleDict: expected a dict or an iterable of \(name, layer\) pairs"),
])
def test_containers_refuse_bad_indices_and_contents_by_name(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_containers_index_like_lists():
    blocks = mtorch.ModuleList([layers.ReLU(), layers.Tanh()])
    assert isinstance(blocks[-1], layers.Tanh) and len(blocks[::-1]) == 2
    blocks.insert(10, layers.Sigmoid())                # any int is a place to insert at, as for a list
    del blocks[0]
    assert [type(b).__name__ for b in blocks] == ["Tanh", "Sigmoid"]


def test_a_module_with_nothing_to_learn_still_checks_grad_out():
    model = mtorch.Module(mtorch.Sequential([layers.ReLU()]))
    with pytest.raises(BackwardBeforeForwardError):
        model.backward(np.ones((2, 3)))
    model(np.ones((2, 3)))
    with pytest.raises(TypeError, match="got None for grad_out"):
        model.backward(None)
    assert model.backward(np.ones((2, 3))) is None


# ------------------------------------------------------------------ layers
def test_gru_on_an_infinite_input_gives_the_limit():
    gru = layers.GRU(1, 1, bias=False).double()
    gru.weight_ih_l0.data[:] = [[1.0], [1.0], [-1.0]]         # at x = -inf: r = z = 0, n = tanh(+inf) = 1
    y = gru(np.full((1, 1, 1), -np.inf))                      # h = (1 - z) n + z h_0 = 1 (it was NaN)
    assert y.ravel().tolist() == [1.0]


def test_gru_with_an_infinite_initial_state_keeps_the_finite_units():
    gru = layers.GRU(1, 2, bias=False).double()
    gru.weight_hh_l0.data[:] = 1.0                              # r = z = 1 and n = 1 from h_1 = inf
    y = gru(np.zeros((1, 1, 1)), np.array([[[0.5, np.inf]]]))
    assert y.ravel().tolist() == [0.5, np.inf]                  # h = (1 - z) n + z h_0 (it was NaN)


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.BatchNorm1d(2, track_running_stats=False).eval()(np.ones((1, 2))), ValueError,
     "more than 1 value per channel for batch statistics"),
    (lambda: layers.BatchNorm2d(2, eps=0)(np.ones((2, 2, 1, 1))), ValueError, "eps must be positive"),
    (lambda: layers.AdaptiveAvgPool2d(None), TypeError, "AdaptiveAvgPool2d: output_size must be an int or a tuple"),
    (lambda: layers.AdaptiveMaxPool2d((3, None))(np.ones((2, 3, 1, 0))), ShapeError, "an empty region has no max"),
    (lambda: layers.ReplicationPad1d((2, 1))(np.ones((0, 1, 0))), ShapeError, r"ReplicationPad1d\(\(2, 1\)\)"),
    (lambda: layers.Upsample(size=2)(np.ones((4, 0, 0, 0))), ShapeError, "nothing to interpolate from"),
    (lambda: layers.Reshape((1, 1))(np.ones(())), ShapeError, r"Reshape\(shape=\(1, 1\)\): cannot reshape"),
])
def test_window_and_shape_layers_refuse_what_has_no_result(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("norm", [layers.BatchNorm1d(2, affine=False), layers.BatchNorm1d(2, affine=False,
                                                                                     track_running_stats=False)])
def test_a_layer_without_parameters_computes_float16_input_in_float32(norm):
    x = np.array([[1000.0, -3000.0], [3000.0, -1000.0]], dtype=np.float16)      # squares pass float16's 65504
    y = norm(x)
    assert y.dtype == np.float32 and np.allclose(y, [[-1, -1], [1, 1]], atol=1e-3)


def test_zero_padding_an_empty_axis_has_a_backward():
    pad = layers.ZeroPad2d((0, 1, 1, 0))
    y = pad(np.ones((3, 0, 3, 0)))
    assert y.shape == (3, 0, 4, 1) and pad.backward(np.ones(y.shape)).shape == (3, 0, 3, 0)


def test_max_pool_gives_a_window_of_minus_inf_to_its_first_input_not_the_padding():
    pool = layers.MaxPool2d(2, padding=1, return_indices=True)
    x = np.full((1, 1, 2, 2), -np.inf)
    y, indices = pool(x)
    assert indices.ravel().tolist() == [0, 1, 2, 3]             # PyTorch's: each window's first input
    assert pool.backward(np.ones(y.shape)).ravel().tolist() == [1.0, 1.0, 1.0, 1.0]


def test_embedding_of_width_0_has_a_backward():
    emb = layers.Embedding(3, 0)
    assert emb(np.array([[0, 2]])).shape == (1, 2, 0)
    assert emb.backward(np.zeros((1, 2, 0))) is None and emb.weight.grad.shape == (3, 0)


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.MultiheadAttention(4, 2)([[0.0] * 4, [0.0]]), TypeError, "MultiheadAttention.*query must be"),
    (lambda: layers.TransformerEncoderLayer(6, "3"), TypeError, "TransformerEncoderLayer: nhead must be an int"),
    (lambda: layers.TransformerEncoder(layers.TransformerEncoderLayer(4, 2, dim_feedforward=8), 1)(np.zeros((1, 2, 3, 4))),
     ShapeError, r"TransformerEncoderLayer\(\): expected src of shape \(S, N, 4\)"),
])
def test_attention_layers_refuse_bad_input_by_name(make, error, message):
    with pytest.raises(error, match=message):
        make()


# ------------------------------------------------------------------ losses
def test_cross_entropy_with_a_minus_inf_logit_is_finite():
    result = CrossEntropyLoss()(np.array([[0.5, -np.inf, 1.0]]), np.array([0]))
    expected = -(0.5 - np.log(np.exp(0.5) + np.exp(1.0)))
    assert result.value == pytest.approx(expected) and np.isfinite(result.grad).all()


def test_cross_entropy_ignored_samples_add_nothing_even_from_nan_logits():
    x = np.array([[np.nan, 0.0], [1.0, 2.0]])
    result = CrossEntropyLoss(reduction="none", ignore_index=1)(x, np.array([1, 0]))
    assert result.value[0] == 0 and (result.grad[0] == 0).all() and np.isfinite(result.value[1])


@pytest.mark.parametrize("loss", [CrossEntropyLoss(label_smoothing=0.1), NLLLoss(ignore_index=0)])
def test_class_losses_need_a_class(loss):
    with pytest.raises(ShapeError, match=r"expected at least one class \(axis 1 of the input\), got input of "
                                         r"shape \(2, 0, 3\)"):
        loss(np.zeros((2, 0, 3)), np.zeros((2, 3), int))


def test_cross_entropy_reads_a_ragged_target_as_an_error_by_name():
    with pytest.raises(TypeError, match="CrossEntropyLoss: target must be an array of real numbers"):
        CrossEntropyLoss()(np.zeros((2, 3)), [[1, 2], [3]])


@pytest.mark.parametrize("loss", [BCEWithLogitsLoss(reduction="none"), MultiLabelSoftMarginLoss(reduction="none"),
                                  BCEWithLogitsLoss(reduction="none", pos_weight=np.array([2.0, 2.0]))])
def test_infinite_logits_give_the_limits_not_nan(loss):
    x, y = np.array([[-np.inf, np.inf], [np.inf, -np.inf]]), np.array([[1.0, 0.0], [1.0, 0.0]])
    value = loss(x[:1], y[:1]).value, loss(x[1:], y[1:]).value
    assert np.all(np.isinf(value[0])) and np.all(value[1] == 0)


# ------------------------------------------------------------------ optim
def test_clip_grad_norm_inf_norm_propagates_nan():
    params = [Parameter(np.zeros(2)), Parameter(np.zeros(1))]
    params[0].grad, params[1].grad = np.array([3.0, 1.0]), np.array([np.nan])
    assert math.isnan(clip_grad_norm(params, 1.0, norm_type=math.inf))


def test_one_cycle_phase_without_steps_is_a_clear_error():
    optimizer = SGD([Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="OneCycleLR: step 0 falls in phase 1 of 2, which spans no steps"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=1, pct_start=1.0)


@pytest.mark.parametrize("make", [lambda p: Adam([p], lr=0.0), lambda p: SGD([p], lr=0.0, momentum=0.9)])
def test_optimizers_let_nan_and_inf_propagate_silently(make):
    p = Parameter(np.ones(2), dtype=np.float64)
    optimizer = make(p)
    p.grad = np.array([np.inf, -np.inf])
    optimizer.step()                                  # RuntimeWarnings are errors in this suite
    p.grad = np.array([np.inf, 1.0])
    layers.Linear(1, 1).step(0.0)
    assert p.data.shape == (2,)


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(momentum=0.9, weight_decay=0.01)), ("SGD", dict(momentum=0.9, nesterov=True)),
    ("Adam", dict(amsgrad=True, weight_decay=0.1)), ("AdamW", dict(weight_decay=0.1)),
    ("RMSprop", dict(centered=True, momentum=0.5)), ("Adagrad", dict(weight_decay=0.1, lr_decay=0.01)),
])
def test_optimizers_update_a_0d_parameter_as_a_1_element_one(name, kwargs):
    scalar, vector = Parameter(np.array(0.5), dtype=np.float64), Parameter(np.array([0.5]), dtype=np.float64)
    optimizers = [getattr(mtorch.optim, name)([p], lr=0.1, **kwargs) for p in (scalar, vector)]
    for g in (1.0, -2.0, 0.25):
        scalar.grad, vector.grad = np.array(g), np.array([g])
        for optimizer in optimizers:
            optimizer.step()
    assert scalar.data.shape == () and scalar.data == vector.data[0] != 0.5


# ------------------------------------------------------------------ data and datasets
@pytest.mark.parametrize("index, error, message", [
    (3, IndexError, "TensorDataset: index 3 is out of range for 3 samples"),
    (np.array([0, 5]), IndexError, "TensorDataset: index 5 is out of range"),
    (1.5, TypeError, "TensorDataset: an index must be an int, a slice, or an array of ints or bools"),
    (None, TypeError, "TensorDataset: an index must be"),
    ((0, 0), TypeError, "TensorDataset: an index must be"),
    (np.array([0.5]), TypeError, "TensorDataset: an index array must hold ints"),
])
def test_dataset_indices_are_checked_by_name(index, error, message):
    with pytest.raises(error, match=message):
        TensorDataset(np.zeros((3, 2)))[index]


def test_datasets_index_like_numpy_arrays():
    data = SineWaves(4, seq_len=2, seed=0)
    assert np.array_equal(data[::-1][0], data.inputs[::-1])
    assert np.array_equal(data[np.array([True, False, True, False])][1], data.targets[[0, 2]])
    assert len(list(TensorDataset(np.zeros((3, 2))))) == 3          # iteration stops at the IndexError


@pytest.mark.parametrize("samples, error, message", [
    ([None, None], TypeError, "DataLoader: cannot stack the samples into a batch: .* got NoneType"),
    ([np.zeros(2), {"x": 1}], TypeError, "got dict, ndarray"),
    ([np.float64(1.0), "text"], TypeError, "got float64, str"),
    ([np.zeros(2), np.zeros(3)], ValueError, r"they differ in shape \(\(2,\), \(3,\)\)"),
])
def test_default_collate_refuses_what_does_not_make_a_batch(samples, error, message):
    with pytest.raises(error, match=message):
        next(iter(DataLoader(samples, batch_size=2)))


def test_default_collate_batches_text():
    assert list(next(iter(DataLoader(["a", "bc"], batch_size=2)))) == ["a", "bc"]


def test_normalize_flattens_an_empty_batch():
    assert Normalize(flatten=True)(np.zeros((0, 28, 28), np.uint8)).shape == (0, 784)


@pytest.mark.parametrize("make", [lambda: Iris(root=3), lambda: MNIST(root=2.5, download=False)])
def test_a_wrong_root_is_reported_by_the_dataset(make):
    with pytest.raises(TypeError, match=r"^(Iris|MNIST): root must be a folder"):
        make()


# ------------------------------------------------------------------ save/load
def test_a_nul_or_a_lone_surrogate_in_a_key_round_trips():
    obj = {"a\x00b": np.zeros(1), "a": np.ones(1), "\ud800": np.arange(2)}
    buffer = io.BytesIO()
    mtorch.save(obj, buffer)
    buffer.seek(0)
    loaded = mtorch.load(buffer)
    assert list(loaded) == list(obj) and all(np.array_equal(loaded[k], obj[k]) for k in obj)


def test_a_numpy_string_scalar_stays_one():
    buffer = io.BytesIO()
    mtorch.save({"s": np.str_("ab")}, buffer)
    buffer.seek(0)
    assert type(mtorch.load(buffer)["s"]) is np.str_
