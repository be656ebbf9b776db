"""The convolution, pooling, padding, upsampling and pixel-shuffle layers against PyTorch, in float64.

Each case builds the PyTorch module and the mtorch layer with the same
constructor arguments, loads PyTorch's state dict into the mtorch layer,
and compares the output, the input gradient and every parameter gradient
(relative 1e-6). The cases are PyTorch's own sample inputs (``module_db``,
its ``module_inputs_func`` in float64) followed by cases of ours for the
arguments those samples leave out (groups, padding modes, strides, ceil mode...).
"""
import numpy as np
import pytest

from mtorch import layers

torch = pytest.importorskip("torch")
from torch.testing._internal.common_modules import module_db  # noqa: E402  (needs torch)

RTOL, ATOL = 1e-6, 1e-10
CLASSES = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d",
           "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d",
           "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d"]


def _module_db_cases():
    cases = []
    for info in module_db:
        name = info.module_cls.__name__
        if name not in CLASSES:
            continue
        samples = info.module_inputs_func(info, device="cpu", dtype=torch.float64, requires_grad=True,
                                          training=True)
        for index, sample in enumerate(samples):
            x = sample.forward_input.args[0]
            cases.append(pytest.param(name, sample.constructor_input.args, sample.constructor_input.kwargs,
                                      tuple(x.shape), sample.forward_input.kwargs,
                                      id=f"module_db-{name}-{sample.desc or index}"))
    return cases


# (class, constructor args, constructor kwargs, input shape, forward kwargs): what module_db does not sample
OUR_CASES = [
    ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2), (2, 4, 7, 6), {}),
    ("Conv2d", (3, 3, 3), dict(groups=3, bias=False), (2, 3, 5, 5), {}),                      # depthwise
    ("Conv2d", (2, 4, 3), dict(padding=2, padding_mode="reflect"), (2, 2, 5, 6), {}),
    ("Conv2d", (2, 4, 3), dict(padding=(1, 2), padding_mode="replicate", stride=2), (2, 2, 5, 6), {}),
    ("Conv2d", (2, 4, (2, 3)), dict(padding=(2, 1), padding_mode="circular"), (2, 2, 5, 6), {}),
    ("Conv2d", (2, 3, 4), dict(padding="same", dilation=(1, 2)), (2, 2, 6, 7), {}),
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1, dilation=2, groups=2), (3, 4, 11), {}),
    ("Conv1d", (2, 3, 3), dict(padding=2, padding_mode="reflect"), (2, 2, 6), {}),
    ("Conv1d", (2, 3, 3), dict(padding=1, padding_mode="circular"), (2, 6), {}),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2), (2, 4, 4, 5), {}),
    ("ConvTranspose2d", (2, 3, (2, 3)), dict(stride=(1, 2), dilation=(2, 1), bias=False), (2, 2, 3, 4), {}),
    ("ConvTranspose2d", (2, 3, 3), dict(stride=1, padding=1, output_padding=1, dilation=2), (2, 2, 4, 4), {}),
    ("ConvTranspose2d", (2, 3, 3), dict(stride=2, padding=1), (2, 2, 4, 4), {"output_size": (8, 8)}),
    ("ConvTranspose1d", (4, 2, 3), dict(stride=3, padding=2, output_padding=2, groups=2), (2, 4, 5), {}),
    ("ConvTranspose1d", (3, 2, 4), dict(stride=2, padding=1), (3, 6), {"output_size": [13]}),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 8, 7), {}),
    ("MaxPool2d", ((2, 3),), dict(stride=(1, 2), padding=(1, 0), dilation=(2, 1)), (2, 3, 7, 9), {}),
    ("MaxPool2d", (2,), dict(return_indices=True, ceil_mode=True), (2, 3, 5, 5), {}),
    ("MaxPool1d", (3,), dict(stride=2, padding=1, dilation=2, ceil_mode=True, return_indices=True), (2, 3, 10), {}),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 8, 7), {}),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False), (2, 3, 8, 7), {}),
    ("AvgPool2d", ((3, 2),), dict(stride=(2, 1), padding=(1, 1), count_include_pad=False), (3, 5, 6), {}),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False), (2, 3, 8), {}),
    ("AdaptiveAvgPool2d", ((4, 7),), {}, (2, 3, 3, 5), {}),                  # more outputs than inputs
    ("AdaptiveMaxPool2d", ((4, 2),), dict(return_indices=True), (2, 3, 7, 5), {}),
    ("AdaptiveMaxPool1d", (4,), dict(return_indices=True), (2, 3, 3), {}),
    ("ConstantPad2d", ((1, -1, -2, 2), 0.5), {}, (2, 3, 4, 5), {}),
    ("ReflectionPad2d", ((3, 0, 1, 2),), {}, (2, 4, 5), {}),
    ("ReplicationPad2d", ((3, 0, 1, 2),), {}, (2, 4, 5), {}),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 4), {}),
    ("PixelShuffle", (3,), {}, (2, 2, 9, 2, 3), {}),                        # more leading axes
    ("PixelUnshuffle", (2,), {}, (2, 3, 4, 6), {}),
    ("PixelUnshuffle", (3,), {}, (3, 6, 3), {}),
]
# not in module_db: torch.nn.Upsample against mtorch's, every mode
UPSAMPLE_CASES = [
    (dict(scale_factor=2), (2, 3, 4, 5)),
    (dict(size=(5, 7)), (2, 3, 4, 5)),
    (dict(scale_factor=(1.7, 2.3), mode="nearest-exact"), (2, 3, 4, 5)),
    (dict(scale_factor=3), (2, 3, 4)),
    (dict(scale_factor=2, mode="linear"), (2, 3, 4)),
    (dict(size=7, mode="linear", align_corners=True), (2, 3, 4)),
    (dict(scale_factor=(1.7, 2.3), mode="bilinear"), (2, 3, 4, 5)),
    (dict(scale_factor=2.5, mode="bilinear", align_corners=True), (2, 3, 4, 5)),
    (dict(scale_factor=0.6, mode="bilinear"), (2, 3, 4, 5)),                 # downsampling
    (dict(size=(3, 9), mode="bicubic"), (2, 3, 4, 5)),
    (dict(scale_factor=1.5, mode="bicubic", align_corners=True), (2, 3, 4, 5)),
    (dict(scale_factor=2.2, mode="bicubic", recompute_scale_factor=True), (2, 3, 4, 5)),
]


def _unpack(out):
    return out if isinstance(out, tuple) else (out, None)


def check_against_torch(name, args, kwargs, shape, forward_kwargs, rng, make_ours=None):
    ref = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = (make_ours or getattr(layers, name))(*args, **kwargs).double()
    ours.load_state_dict({key: value.detach().numpy() for key, value in ref.state_dict().items()})
    x = rng.standard_normal(shape)
    xt = torch.from_numpy(x.copy()).requires_grad_()
    y_ref, indices_ref = _unpack(ref(xt, **forward_kwargs))
    y, indices = _unpack(ours(x, **forward_kwargs))
    np.testing.assert_allclose(y, y_ref.detach().numpy(), rtol=RTOL, atol=ATOL)
    if indices_ref is not None:
        np.testing.assert_array_equal(indices, indices_ref.numpy())
        assert indices.dtype == np.int64
    g = rng.standard_normal(y.shape)
    y_ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours.backward(g), xt.grad.numpy(), rtol=RTOL, atol=ATOL)
    grads = dict(ours.named_parameters())
    assert sorted(grads) == sorted(name for name, _ in ref.named_parameters())
    for key, p in ref.named_parameters():
        np.testing.assert_allclose(grads[key].grad, p.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=key)


@pytest.mark.parametrize("name, args, kwargs, shape, forward_kwargs", _module_db_cases())
def test_module_db_samples(name, args, kwargs, shape, forward_kwargs, rng):
    check_against_torch(name, args, kwargs, shape, forward_kwargs, rng)


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("name, args, kwargs, shape, forward_kwargs", OUR_CASES,
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(OUR_CASES)])
def test_more_arguments(name, args, kwargs, shape, forward_kwargs, rng):
    check_against_torch(name, args, kwargs, shape, forward_kwargs, rng)


def test_every_class_has_module_db_samples():
    covered = {case.values[0] for case in _module_db_cases()}
    assert covered == set(CLASSES)


@pytest.mark.parametrize("kwargs, shape", UPSAMPLE_CASES, ids=[str(case[0]) for case in UPSAMPLE_CASES])
def test_upsample(kwargs, shape, rng):
    check_against_torch("Upsample", (), kwargs, shape, {}, rng)
