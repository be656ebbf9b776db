"""Fuzz every public loss against PyTorch (see tests/fuzzing.py for what a trial is).

``LOSSES`` gives, per public class of ``mtorch.loss``, valid constructor arguments
``args(d)`` and the forward arguments ``inputs(d, kw)`` (a tuple of ``Arr``: inputs
and targets, in the order of ``forward``). The differentiable inputs are read from
the class (``differentiable_inputs``), the torch class is ``torch.nn.<name>``; targets
drawn as ``index:*`` values are given to torch as int64, the rest as float64. A trial
spoils at most one constructor argument or one forward argument (dtype, form, shape).
``test_every_public_loss_has_a_strategy`` fails for a class without an entry.
"""
import inspect
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtorch.loss as mloss

from fuzzing import (BOOL, SEED, SIZE, SIZE0, VALUES, Arr, attempt, build, check_coverage, corrupted, differences,
                     fuzz_settings, judge, mutation, reference, shapes, to_indices, to_tensor,
                     torch, value_kind)

FAMILY = "losses"


def public_losses():
    """Every Loss class ``mtorch.loss`` exports, by class name (an alias such as SquareLoss is its class)."""
    found = {}
    for name in mloss.__all__:
        obj = getattr(mloss, name)
        if isinstance(obj, type) and issubclass(obj, mloss.Loss) and obj is not mloss.Loss:
            found[obj.__name__] = obj
    return found


# ---------------------------------------------------------------- strategies
REDUCTION = st.sampled_from(("mean", "sum", "none"))
MARGIN = st.sampled_from((0.0, 0.5, 1.0, 2.0))


def _arr(d, shape, values=VALUES):
    return Arr(tuple(shape), d(values) if isinstance(values, st.SearchStrategy) else values, "float64", "array",
               d(SEED))


def same_shape(target_values):
    """input of any shape, target of the same shape."""
    def inputs(d, kw):
        shape = d(shapes())
        return _arr(d, shape), _arr(d, shape, target_values)
    return inputs


def classes(d, kw, unbatched=True, extra_dims=True):
    """An (N, C), (N, C, d) or (C,) shape with C = kw['_C']."""
    c = kw["_C"]
    choices = [(d(SIZE0), c)] + ([(d(SIZE0), c, d(SIZE))] if extra_dims else []) + ([(c,)] if unbatched else [])
    return d(st.sampled_from(choices))


def class_args(d, **extra):
    c = d(SIZE0)
    args = dict(reduction=d(REDUCTION), weight=d(st.sampled_from((None, Arr((c,), "positive")))),
                ignore_index=d(st.sampled_from((-100, 0, 1))), _C=c)
    return dict(args, **extra)


def class_indices(d, kw, probabilities=False):
    shape = classes(d, kw)
    target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    if probabilities and d(BOOL):
        return _arr(d, shape), _arr(d, shape, "unit")
    return _arr(d, shape), _arr(d, target_shape, f"index:{kw['_C']}")


def binary_args(d, pos_weight=False):
    c = d(SIZE)
    args = dict(reduction=d(REDUCTION), weight=d(st.sampled_from((None, Arr((c,), "positive")))), _C=c)
    if pos_weight:
        args["pos_weight"] = d(st.sampled_from((None, Arr((c,), "positive"))))
    return args


def last_axis(values_in, values_target):
    def inputs(d, kw):
        shape = d(shapes(0, 2, 0, 3)) + (kw["_C"],)
        return _arr(d, shape, values_in), _arr(d, shape, values_target)
    return inputs


def poisson_inputs(d, kw):
    """Log-rates (any number) or rates (> 0), and counts."""
    x, counts = same_shape("counts")(d, kw)
    return (x if kw["log_input"] else Arr(x.shape, "positive", seed=x.seed)), counts


def gaussian_inputs(d, kw):
    shape = d(shapes(1, 3))
    var_shape = d(st.sampled_from((shape, shape[:-1], shape[:-1] + (1,), (), (1,) + shape[1:])))
    return _arr(d, shape), _arr(d, shape), _arr(d, var_shape, "positive")


def margin_inputs(d, kw):
    shape = classes(d, kw, extra_dims=False)
    return _arr(d, shape), _arr(d, shape[:-1], f"index:{kw['_C']}")


def multilabel_inputs(d, kw):
    shape = classes(d, kw, extra_dims=False)
    return _arr(d, shape), _arr(d, shape, f"index:{kw['_C']}:-1")


def pair_inputs(d, kw):
    shape = d(st.sampled_from(((d(SIZE0),), ())))
    return _arr(d, shape), _arr(d, shape), _arr(d, shape, "sign")


def embedding_inputs(d, kw):
    dim = d(SIZE)
    shape = d(st.sampled_from(((d(SIZE0), dim), (dim,))))
    return _arr(d, shape), _arr(d, shape), _arr(d, shape[:-1], "sign")


def triplet_inputs(d, kw):
    dim = d(SIZE)
    shape = d(st.sampled_from(((d(SIZE0), dim), (dim,))))
    return _arr(d, shape), _arr(d, shape), _arr(d, shape)


def expand_var(tensors):
    """GaussianNLLLoss: var expanded to the input's shape where torch would refuse its sharing
    (ALLOWED_DIFFERENCES["shared-var"])."""
    x, t, var = tensors
    if var.shape == x.shape or (var.dim() and (var.shape == x.shape[:-1] or
                                               (var.shape[:-1] == x.shape[:-1] and var.shape[-1] == 1))):
        return tensors
    if var.dim() == 0:
        return x, t, var.expand(x.shape)
    if var.dim() != x.dim():
        raise ValueError("var does not fit")
    return x, t, var.expand(x.shape)


@dataclass
class S:
    args: object = lambda d: dict(reduction=d(REDUCTION))
    inputs: object = same_shape(VALUES)
    torch_inputs: object = lambda tensors: tensors          # adapt the tensors torch's forward is given
    indices: object = lambda x, t: False                    # whether target t of input x holds class indices
    cast_to_input: bool = True     # mtorch casts the other arguments to the input's dtype (False: to a common one)


LOSSES = {
    "MSELoss": S(), "L1Loss": S(),
    "SmoothL1Loss": S(lambda d: dict(reduction=d(REDUCTION), beta=d(st.sampled_from((1.0, 0.0, 0.5, 2.0))))),
    "HuberLoss": S(lambda d: dict(reduction=d(REDUCTION), delta=d(st.sampled_from((1.0, 0.5, 2.0))))),
    "CrossEntropyLoss": S(lambda d: class_args(d, label_smoothing=d(st.sampled_from((0.0, 0.1, 1.0)))),
                          lambda d, kw: class_indices(d, kw, probabilities=kw["ignore_index"] < 0),
                          indices=lambda x, t: _shape(t) != _shape(x)),
    "NLLLoss": S(class_args, class_indices),
    "BCELoss": S(binary_args, last_axis("unit", "unit")),
    "BCEWithLogitsLoss": S(lambda d: binary_args(d, pos_weight=True), last_axis(VALUES, "unit")),
    "MultiLabelSoftMarginLoss": S(binary_args, last_axis(VALUES, "binary")),
    "SoftMarginLoss": S(inputs=same_shape("sign")),
    "KLDivLoss": S(lambda d: dict(reduction=d(st.sampled_from(("mean", "batchmean", "sum", "none"))),
                                  log_target=d(BOOL)),
                   lambda d, kw: same_shape("normal" if kw["log_target"] else "unit")(d, kw)),
    "PoissonNLLLoss": S(lambda d: dict(reduction=d(REDUCTION), log_input=d(BOOL), full=d(BOOL),
                                       eps=d(st.sampled_from((1e-8, 0.5)))),
                        poisson_inputs),
    "GaussianNLLLoss": S(lambda d: dict(reduction=d(REDUCTION), full=d(BOOL), eps=d(st.sampled_from((1e-6, 0.5)))),
                         gaussian_inputs, expand_var),
    "MultiMarginLoss": S(lambda d: dict(reduction=d(REDUCTION), p=d(st.sampled_from((1, 2))), margin=d(MARGIN),
                                        **{k: v for k, v in binary_args(d).items() if k in ("weight", "_C")}),
                         margin_inputs),
    "MultiLabelMarginLoss": S(lambda d: dict(reduction=d(REDUCTION), _C=d(SIZE)), multilabel_inputs),
    "HingeEmbeddingLoss": S(lambda d: dict(reduction=d(REDUCTION), margin=d(MARGIN)), same_shape("sign")),
    "MarginRankingLoss": S(lambda d: dict(reduction=d(REDUCTION), margin=d(MARGIN)), pair_inputs, cast_to_input=False),
    "CosineEmbeddingLoss": S(lambda d: dict(reduction=d(REDUCTION), margin=d(st.sampled_from((0.0, 0.5, -0.5)))),
                             embedding_inputs, cast_to_input=False),
    "TripletMarginLoss": S(lambda d: dict(reduction=d(REDUCTION), margin=d(st.sampled_from((1.0, 0.5))),
                                          p=d(st.sampled_from((2.0, 1.0, 3.0))), eps=d(st.sampled_from((1e-6, 0.1))),
                                          swap=d(BOOL)),
                           triplet_inputs, cast_to_input=False),
}


# ---------------------------------------------------------------- cases
@dataclass(frozen=True)
class LossCase:
    name: str
    kwargs: dict
    inputs: tuple
    key: str = "valid"

    def __repr__(self):
        return f"LossCase({self.name!r}, {self.kwargs!r}, {self.inputs!r}, key={self.key!r})"


def mutable_params(cls):
    names = {p for p in inspect.signature(cls.__init__).parameters if p != "self"}
    if torch is not None and hasattr(torch.nn, cls.__name__):
        names |= set(inspect.signature(getattr(torch.nn, cls.__name__).__init__).parameters)
    return names - {"self", "size_average", "reduce", "device", "dtype"}


def draw_case(d, name):
    cls, spec = PUBLIC[name], LOSSES[name]
    kwargs = spec.args(d)
    inputs = spec.inputs(d, kwargs)
    kind = d(st.sampled_from(("valid", "valid", "valid", "ctor", "input")), label="spoil")
    key = "valid"
    if kind == "ctor":
        key, arg, value = d(mutation(mutable_params(cls)))
        kwargs = dict(kwargs, **{arg: value})
    elif kind == "input":
        i = d(st.integers(0, len(inputs) - 1))
        how, spoiled = d(corrupted(inputs[i]))
        inputs = inputs[:i] + (spoiled,) + inputs[i + 1:]
        key = f"input{i}:{how}"
    return LossCase(name, kwargs, inputs, f"{key}/{value_kind(inputs)}")


def differentiable(cls):
    """Positions of the differentiable arguments of ``forward``."""
    names = [p for p in inspect.signature(cls.forward).parameters if p != "self"]
    return [names.index(n) for n in cls.differentiable_inputs]


# ---------------------------------------------------------------- one trial
def run_mtorch(case):
    cls = PUBLIC[case.name]
    kw = {k: build(v) for k, v in case.kwargs.items() if not k.startswith("_")}
    loss = attempt("ctor", cls, **kw)
    inputs = build(case.inputs)
    result = attempt("forward", loss, *inputs)
    grads = result.grad if isinstance(result.grad, tuple) else (result.grad,)
    positions = differentiable(cls)
    precision = _precision(inputs, positions)
    finite = all(np.isfinite(np.asarray(inputs[i], dtype=np.float64)).all() for i in positions)
    return {"value": result.value, "grads": grads, "precision": precision, "finite": finite}


def _precision(inputs, positions):
    """The least precise float dtype among a loss's differentiable inputs (ints and bools: float32):
    what mtorch may compute in (a target is cast to the input's dtype)."""
    dtypes = [np.asarray(inputs[i]).dtype for i in positions if _shape(inputs[i]) is not None]
    return min((t if t.kind == "f" else np.dtype(np.float32) for t in dtypes), key=lambda t: t.itemsize,
               default=np.dtype(np.float64))


def run_torch(case):
    cls = PUBLIC[case.name]
    kw = {k: build(v) for k, v in case.kwargs.items() if not k.startswith("_")}
    func = kw.pop("backward_func", None)
    if func is not None and not callable(func):
        reference("ctor", _raise, "backward_func must be callable")
    kw = {k: reference("ctor", to_tensor, v) if k in TENSOR_ARGS and v is not None else v   # "loss-array-args"
          for k, v in kw.items()}
    loss = reference("ctor", getattr(torch.nn, case.name), **kw)
    positions = differentiable(cls)
    tensors = []
    built = build(case.inputs)
    input_dtype = _precision(built, [0]) if LOSSES[case.name].cast_to_input else None
    for i, (arr, x) in enumerate(zip(case.inputs, built)):
        precision = input_dtype if i else None         # the other arguments as mtorch casts them
        if i in positions:
            tensors.append(reference("input", to_tensor, x, True, precision))
        elif arr.values.startswith("index:") or LOSSES[case.name].indices(built[0], x):
            tensors.append(reference("input", to_indices, x))
        else:
            tensors.append(reference("input", to_tensor, x, False, precision))
    value = reference("forward", loss, *reference("input", LOSSES[case.name].torch_inputs, tuple(tensors)))
    total = value.sum() if value.dim() else value
    if total.requires_grad:
        reference("backward", total.backward)
    return {"value": value, "grads": tuple(tensors[i].grad for i in positions)}


TENSOR_ARGS = {"weight", "pos_weight"}


def _shape(x):
    try:
        return np.shape(x)
    except ValueError:                    # ragged
        return None


def _raise(message):
    raise TypeError(message)


def compare(case, got, expected):
    p, value = got["precision"], expected["value"].detach().numpy()
    x = np.asarray(build(case.inputs[0]))
    if case.name in ("MultiMarginLoss", "MultiLabelMarginLoss") and x.size == 0 and value.ndim == 0:
        value = np.array(np.nan if case.kwargs.get("reduction") == "mean" else 0.0)  # TORCH_WRONG["empty-margin"]
    if case.name in ("BCEWithLogitsLoss", "MultiLabelSoftMarginLoss") and np.isnan(value).any():
        keep = ~np.isnan(value)                          # TORCH_WRONG["infinite-logits"]
        return differences(np.asarray(got["value"])[keep], value[keep], "value", p)
    if case.name == "SoftMarginLoss" and not np.all(np.isfinite(value)):
        finite = np.isfinite(value)                      # TORCH_WRONG["soft-margin-overflow"]
        return differences(np.asarray(got["value"])[finite], value[finite], "value", p)
    if case.name == "CrossEntropyLoss" and case.kwargs.get("label_smoothing") == 1.0 and np.isnan(value).any():
        keep = ~np.isnan(value)                          # TORCH_WRONG["full-label-smoothing"]
        return differences(np.asarray(got["value"])[keep], value[keep], "value", p)
    problems = differences(got["value"], value, "value", p)
    if problems or not np.isfinite(np.asarray(got["value"], dtype=np.float64)).all() or not got["finite"]:
        return problems             # a NaN or inf loss, or infinite inputs: no meaningful (comparable) gradient
    for i, (g, e) in enumerate(zip(got["grads"], expected["grads"])):
        e = np.zeros(np.shape(g)) if e is None else e.numpy()
        problems += differences(g, e, f"grad {i}", p)
    return problems


def check_case(case, tolerate_known=True):
    return judge(FAMILY, case.name, case.key, case, lambda: run_mtorch(case), lambda: run_torch(case),
                 lambda got, expected: compare(case, got, expected), tolerate_known=tolerate_known)



PUBLIC = public_losses()


# ---------------------------------------------------------------- tests
def test_every_public_loss_has_a_strategy():
    check_coverage(PUBLIC, LOSSES, "LOSSES")


@pytest.mark.parametrize("name", sorted(LOSSES))
@fuzz_settings
@given(data=st.data())
def test_fuzz_loss(name, data):
    case = draw_case(data.draw, name)
    check_case(case)

