"""Subtly wrong student layers: each one fails, with the check that names its mistake; each fix passes.

Every mistake here passed the checks of the first coursework kit (parameters
at their initial values, no reference, one float input).
"""
import numpy as np
import pytest

import mtorch
from mtorch import Layer, Module, Parameter, layers
from mtorch.loss import CrossEntropyLoss, Loss
from mtorch.testing import check_layer, check_loss


def _failed(report):
    return [c.name for c in report.failures]


def _rng():
    return mtorch.random.generator()


# ------------------------------------------------------------------ LayerNorm


class LayerNorm(Layer):
    """y = (x - mean) / sqrt(var + eps) * gamma + beta over the last axis (biased var)."""

    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.normalized_shape, self.eps = (d,), eps
        self.weight = Parameter(np.ones(d))
        self.bias = Parameter(np.zeros(d))
        self._cache = None

    def _normalise(self, x):
        mu = x.mean(axis=-1, keepdims=True)
        inv = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + x.dtype.type(self.eps))
        return (x - mu) * inv, inv

    def forward(self, x):
        x = self.check_input(x, (..., self.normalized_shape[0]))
        x_hat, inv = self._normalise(x)
        self._cache = (x_hat, inv)
        return x_hat * self.weight.data + self.bias.data

    def _gx_hat(self, g):
        return g * self.weight.data

    def backward(self, grad_out):
        x_hat, inv = self._cache
        g = self.check_grad_out(grad_out, x_hat.shape)
        d = x_hat.shape[-1]
        self.weight.add_grad((g * x_hat).reshape(-1, d).sum(axis=0))
        self.bias.add_grad(g.reshape(-1, d).sum(axis=0))
        gh = self._gx_hat(g)
        return inv * (gh - gh.mean(axis=-1, keepdims=True) - x_hat * (gh * x_hat).mean(axis=-1, keepdims=True))


class LayerNormForgetsGamma(LayerNorm):
    def _gx_hat(self, g):
        return g                                           # the mistake: dL/dx_hat = g * gamma


class RMSNormAsLayerNorm(LayerNorm):
    """x / rms(x) * gamma + beta, with its own (right) backward: a different function."""

    def _normalise(self, x):
        inv = 1 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + x.dtype.type(self.eps))
        return x * inv, inv

    def backward(self, grad_out):
        x_hat, inv = self._cache
        g = self.check_grad_out(grad_out, x_hat.shape)
        d = x_hat.shape[-1]
        self.weight.add_grad((g * x_hat).reshape(-1, d).sum(axis=0))
        self.bias.add_grad(g.reshape(-1, d).sum(axis=0))
        gh = g * self.weight.data
        return inv * (gh - x_hat * (gh * x_hat).mean(axis=-1, keepdims=True))


def layer_norm(state, x):
    """The reference: LayerNorm of the last axis, eps 1e-5."""
    mu, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * state["weight"] + state["bias"]


def test_layer_norm_that_forgets_gamma_fails_the_input_gradient():
    assert check_layer(LayerNorm(5), reference=layer_norm, verbose=False)
    report = check_layer(LayerNormForgetsGamma(5), reference=layer_norm, verbose=False)
    assert _failed(report) == ["gradient of input"]
    assert check_layer(LayerNormForgetsGamma(5), randomize=False, verbose=False), \
        "at gamma = 1 the mistake is invisible: the randomised parameters are what catch it"


def test_rms_norm_handed_in_as_layer_norm_fails_the_reference():
    assert check_layer(RMSNormAsLayerNorm(5), verbose=False), "its backward is right for what it computes"
    report = check_layer(RMSNormAsLayerNorm(5), reference=layer_norm, verbose=False)
    assert _failed(report) == ["reference forward"]
    assert report["reference forward"].numbers["wrong"] > 0


def test_a_torch_module_is_a_reference():
    torch = pytest.importorskip("torch")
    assert check_layer(LayerNorm(5), reference=torch.nn.LayerNorm(5), verbose=False)
    report = check_layer(RMSNormAsLayerNorm(5), reference=torch.nn.LayerNorm(5), verbose=False)
    assert _failed(report) == ["reference forward", "reference gradients"]
    report = check_layer(LayerNorm(5), reference=torch.nn.Linear(5, 5), verbose=False)
    assert "does not load into the reference" in report["reference forward"].message


# ------------------------------------------------------------------ Embedding


class Embedding(Layer):
    """y[...] = W[idx[...]]; dL/dW[k] = sum of g over the positions where idx == k; no dL/didx."""

    def __init__(self, num_embeddings, embedding_dim, zeros_for_indices=False):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(_rng().standard_normal((num_embeddings, embedding_dim)))
        self.zeros_for_indices = zeros_for_indices
        self._idx = None

    def forward(self, idx):
        self._idx = np.asarray(idx)
        return self.weight.data[self._idx]

    def _scatter(self, d_weight, g):
        np.add.at(d_weight, self._idx, g)

    def backward(self, grad_out):
        g = self.check_grad_out(grad_out, None if self._idx is None else self._idx.shape + (self.embedding_dim,))
        d_weight = np.zeros_like(self.weight.data)
        self._scatter(d_weight, g)
        self.weight.add_grad(d_weight)
        return np.zeros(self._idx.shape) if self.zeros_for_indices else None


class EmbeddingAssigns(Embedding):
    def _scatter(self, d_weight, g):
        d_weight[self._idx] = g                            # the mistake: a repeated index keeps one g


def test_an_embedding_is_graded_and_repeated_indices_must_accumulate():
    report = check_layer(Embedding(10, 3), verbose=False)
    assert report and report["backward shape"].message == "no dL/dx, as it should"
    assert report.header[0].startswith("input: (4, 6) int64 (random integers in [0, 10)")
    assert check_layer(Embedding(10, 3, zeros_for_indices=True), verbose=False)
    report = check_layer(EmbeddingAssigns(10, 3), verbose=False)
    assert _failed(report) == ["gradient of weight"]


def test_given_indices_are_not_differentiated_and_a_gradient_for_them_is_refused():
    idx = np.array([[1, 2, 2], [0, 1, 1]])
    assert check_layer(Embedding(3, 2), x=idx, verbose=False)

    class ReturnsOnes(Embedding):
        def backward(self, grad_out):
            super().backward(grad_out)
            return np.ones(self._idx.shape)

    report = check_layer(ReturnsOnes(3, 2), x=idx, verbose=False)
    assert _failed(report) == ["backward shape"] and "should be None" in report["backward shape"].message


# ---------------------------------------------------------------- two inputs


class Gate(Layer):
    """y = a * sigmoid(b)."""

    def __init__(self):
        super().__init__()
        self._cache = None

    def forward(self, a, b):
        a, b = self.check_input(a, (...,)), self.check_input(b, (...,))
        s = 1 / (1 + np.exp(-b))
        self._cache = (a, s)
        return a * s

    def backward(self, grad_out):
        a, s = self._cache
        g = self.check_grad_out(grad_out, a.shape)
        return self._order(g * s, g * a * s * (1 - s))

    def _order(self, da, db):
        return da, db


class GateSwapsGradients(Gate):
    def _order(self, da, db):
        return db, da                                      # the mistake: the gradients in the wrong order


def test_a_two_input_layer_is_graded_input_by_input():
    report = check_layer(Gate(), input_shapes=[(4, 3), (4, 3)], verbose=False)
    assert report and [c.name for c in report.checks if c.name.startswith("gradient")] == \
        ["gradient of input 0", "gradient of input 1"]
    report = check_layer(GateSwapsGradients(), input_shapes=[(4, 3), (4, 3)], verbose=False)
    assert _failed(report) == ["gradient of input 0", "gradient of input 1"]


def test_a_mask_input_marked_without_gradient():
    class Masked(Gate):
        def backward(self, grad_out):
            da, _ = super().backward(grad_out)
            return da, None

    x = (np.random.default_rng(0).standard_normal((4, 3)), np.ones((4, 3)))
    assert check_layer(Masked(), x=x, requires_grad=[True, False], verbose=False)
    report = check_layer(Masked(), x=x, verbose=False)
    assert "backward shape" in _failed(report)


# -------------------------------------------------------------------- dtype


class ScaledProjection(Layer):
    """y = x W / sqrt(d)."""

    def __init__(self, d):
        super().__init__()
        self.d = d
        self.weight = Parameter(_rng().standard_normal((d, d)))
        self._x = None

    def _scale(self):
        return self.weight.dtype.type(1 / np.sqrt(self.d))

    def forward(self, x):
        self._x = self.check_input(x, ("N", self.d))
        return self._x @ self.weight.data * self._scale()

    def backward(self, grad_out):
        g = self.check_grad_out(grad_out, None if self._x is None else self._x.shape)
        self.weight.add_grad(self._x.T @ g * self._scale())
        return g @ self.weight.data.T * self._scale()


class ScaledProjectionPromotes(ScaledProjection):
    def _scale(self):
        return 1 / np.sqrt(self.d)                         # the mistake: a float64 NumPy scalar


def test_promotion_to_float64_is_named_with_its_cause():
    assert check_layer(ScaledProjection(4), input_shape=(3, 4), verbose=False)
    report = check_layer(ScaledProjectionPromotes(4), input_shape=(3, 4), verbose=False)
    assert _failed(report) == ["dtype"]
    assert "the output is float64" in report["dtype"].message and "np.sqrt(d)" in report["dtype"].message


# ------------------------------------------------------------ residual block


class ResidualBlock(Module):
    """y = x + W2 relu(W1 x): backward adds the skip path's gradient to the body's."""

    def __init__(self, d):
        super().__init__()
        self.fc1, self.act, self.fc2 = layers.Linear(d, d), layers.ReLU(), layers.Linear(d, d)

    def forward(self, x):
        return x + self.fc2(self.act(self.fc1(x)))

    def backward(self, grad_out):
        body = self.fc1.backward(self.act.backward(self.fc2.backward(grad_out)))
        return body + grad_out


class ResidualBlockForgetsSkip(ResidualBlock):
    def backward(self, grad_out):
        return self.fc1.backward(self.act.backward(self.fc2.backward(grad_out)))   # the mistake: + grad_out


def test_a_residual_block_missing_the_skip_gradient_fails_the_input_gradient():
    assert check_layer(ResidualBlock(4), input_shape=(3, 4), verbose=False)
    report = check_layer(ResidualBlockForgetsSkip(4), input_shape=(3, 4), verbose=False)
    assert _failed(report) == ["gradient of input"]
    built_in = layers.Residual(layers.Sequential(layers.Linear(4, 4), layers.ReLU(), layers.Linear(4, 4)))
    assert check_layer(built_in, reference=None, verbose=False)


# ------------------------------------------------------------------ attention


def causal_attention(state, x):
    """Single-head causal self-attention of (N, T, E), PyTorch's parameter names."""
    e = x.shape[-1]
    q, k, v = np.split(x @ state["in_proj_weight"].T + state["in_proj_bias"], 3, axis=-1)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(e)
    scores = np.where(np.tril(np.ones(scores.shape[-2:], bool)), scores, -np.inf)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return (p @ v) @ state["out_proj.weight"].T + state["out_proj.bias"]


class CausalSelfAttention(Layer):
    """y = softmax(mask(Q K^T / sqrt(E))) V W_o^T + b_o with [Q K V] = x W_in^T + b_in."""

    def __init__(self, embed_dim):
        super().__init__()
        self.embed_dim = embed_dim
        bound = 1 / np.sqrt(embed_dim)
        self.in_proj_weight = Parameter(_rng().uniform(-bound, bound, (3 * embed_dim, embed_dim)))
        self.in_proj_bias = Parameter(np.zeros(3 * embed_dim))
        self.out_proj = layers.Linear(embed_dim, embed_dim)
        self._cache = None

    def forward(self, x):
        x = self.check_input(x, ("N", "T", self.embed_dim))
        q, k, v = np.split(x @ self.in_proj_weight.data.T + self.in_proj_bias.data, 3, axis=-1)
        scale = x.dtype.type(1 / np.sqrt(self.embed_dim))
        scores = q @ np.swapaxes(k, -1, -2) * scale
        scores = np.where(np.tril(np.ones(scores.shape[-2:], bool)), scores, -np.inf)
        p = np.exp(scores - scores.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        self._cache = (x, q, k, v, p, scale)
        return self.out_proj(p @ v)

    def _d_keys(self, d_scores, q):
        return np.swapaxes(d_scores, -1, -2) @ q

    def backward(self, grad_out):
        x, q, k, v, p, scale = self._cache
        d_att = self.out_proj.backward(grad_out)
        d_v = np.swapaxes(p, -1, -2) @ d_att
        d_p = d_att @ np.swapaxes(v, -1, -2)
        d_scores = p * (d_p - (d_p * p).sum(axis=-1, keepdims=True)) * scale
        d_q, d_k = d_scores @ k, self._d_keys(d_scores, q)
        d_qkv = np.concatenate([d_q, d_k, d_v], axis=-1)
        e = self.embed_dim
        self.in_proj_weight.add_grad(d_qkv.reshape(-1, 3 * e).T @ x.reshape(-1, e))
        self.in_proj_bias.add_grad(d_qkv.reshape(-1, 3 * e).sum(axis=0))
        return d_qkv @ self.in_proj_weight.data


class AttentionMissingTranspose(CausalSelfAttention):
    def _d_keys(self, d_scores, q):
        return d_scores @ q                                # the mistake: dK = dS^T Q


def test_attention_with_a_missing_transpose_fails_its_gradients_only():
    assert check_layer(CausalSelfAttention(4), input_shape=(2, 5, 4), reference=causal_attention, verbose=False)
    report = check_layer(AttentionMissingTranspose(4), input_shape=(2, 5, 4), reference=causal_attention,
                         verbose=False)
    assert _failed(report) == ["gradient of input", "gradient of in_proj_weight", "gradient of in_proj_bias"]


# ------------------------------------------------------------------ BatchNorm


class BatchNormSwapsVariances(layers.BatchNorm1d):
    """Normalises with the unbiased variance and tracks the biased one: PyTorch does the reverse."""

    def forward(self, x):
        x = self._check(x)
        if not self.training:
            return super().forward(x)
        m = x.shape[0]
        mean, var = x.mean(axis=0), x.var(axis=0) * (m / (m - 1))
        f = self.momentum
        self.running_mean = ((1 - f) * self.running_mean + f * mean).astype(self.running_mean.dtype)
        self.running_var = ((1 - f) * self.running_var + f * var * (m - 1) / m).astype(self.running_var.dtype)
        self.num_batches_tracked = self.num_batches_tracked + 1
        inv_std = 1 / np.sqrt(var + x.dtype.type(self.eps))
        x_hat = (x - mean) * inv_std
        self._cache = (x_hat, inv_std, True, (1, -1))
        return x_hat * self.weight.data + self.bias.data


def test_batch_norm_with_the_variances_swapped_fails_the_reference():
    report = check_layer(BatchNormSwapsVariances(3), input_shape=(6, 3), reference=layers.BatchNorm1d(3),
                         verbose=False)
    assert _failed(report) == ["gradient of input", "reference forward", "reference gradients", "reference buffers",
                               "reference eval"]
    assert check_layer(layers.BatchNorm1d(3), input_shape=(6, 3), reference=layers.BatchNorm1d(3), verbose=False)


# ----------------------------------------------------------- softmax cross-entropy


class SoftmaxCrossEntropy(Loss):
    """mean_n -log softmax(x_n)[y_n]; dL/dx = (softmax(x) - onehot(y)) / N."""

    def forward(self, input, target):
        x = np.asarray(input)
        n = x.shape[0]
        z = x - x.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        grad = np.exp(log_p)
        grad[np.arange(n), target] -= 1
        return float(-log_p[np.arange(n), target].mean()), self._scale(grad, n)

    def _scale(self, grad, n):
        return grad / grad.dtype.type(n)


class SoftmaxCrossEntropyNotAveraged(SoftmaxCrossEntropy):
    def _scale(self, grad, n):
        return grad                                        # the mistake: the value is a mean, the gradient a sum


def test_softmax_cross_entropy_gradient_not_divided_by_n():
    assert check_loss(SoftmaxCrossEntropy(), reference=CrossEntropyLoss(), verbose=False)
    report = check_loss(SoftmaxCrossEntropyNotAveraged(), reference=CrossEntropyLoss(), verbose=False)
    assert _failed(report) == ["gradient of input", "reference gradient"]
    assert "a factor of the batch size N=4" in report["gradient of input"].message


def test_a_softmax_that_overflows_fails_large_inputs():
    class Naive(SoftmaxCrossEntropy):
        def forward(self, input, target):
            x = np.asarray(input)
            p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
            n = x.shape[0]
            grad = p.copy()
            grad[np.arange(n), target] -= 1
            return float(-np.log(p[np.arange(n), target]).mean()), grad / grad.dtype.type(n)

    report = check_loss(Naive(), reference=CrossEntropyLoss(), verbose=False)
    assert _failed(report) == ["large inputs"]


# --------------------------------------------------------------- shared weights


class Affine(layers.Linear):
    def backward(self, grad_out):
        x = self._x
        g = self.check_grad_out(grad_out, None if x is None else x.shape[:-1] + (self.out_features,))
        self._store(self.weight, g.T @ x)
        self._store(self.bias, g.sum(axis=0))
        return g @ self.weight.data

    def _store(self, p, g):
        p.add_grad(g)


class AffineAssigns(Affine):
    def _store(self, p, g):
        p.grad = g                                         # the mistake: assign where gradients add


class AffineOverwrites(Affine):
    def _store(self, p, g):
        p.zero_grad()                                      # the same mistake, without the error
        p.add_grad(g)


@pytest.mark.parametrize("layer, words", [
    (AffineAssigns(3, 2), "raised GradientError"),
    (AffineOverwrites(3, 2), "weight.grad holds only the second use's gradient"),
], ids=["assigns", "overwrites"])
def test_a_layer_that_does_not_add_its_gradients_fails_the_shared_weights_check(layer, words):
    report = check_layer(layer, verbose=False)
    assert _failed(report) == ["shared weights add up"]
    assert words in report["shared weights add up"].message
    assert check_layer(Affine(3, 2), verbose=False)


# ------------------------------------------------------------- convolution and pooling


class Conv2dNaive(Layer):
    """y[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] x[n, c, i + p, j + q] (stride 1, no padding)."""

    def __init__(self, in_channels, out_channels, kernel_size):
        super().__init__()
        self.in_channels, self.kernel_size = in_channels, kernel_size
        bound = 1 / np.sqrt(in_channels * kernel_size ** 2)
        self.weight = Parameter(_rng().uniform(-bound, bound, (out_channels, in_channels, kernel_size, kernel_size)))
        self.bias = Parameter(_rng().uniform(-bound, bound, out_channels))
        self._x = None

    def _kernel(self):
        return self.weight.data

    def forward(self, x):
        self._x = x = self.check_input(x, ("N", self.in_channels, "H", "W"))
        k, w = self.kernel_size, self._kernel()
        out = np.zeros((x.shape[0], w.shape[0], x.shape[2] - k + 1, x.shape[3] - k + 1), x.dtype)
        for i in range(out.shape[2]):
            for j in range(out.shape[3]):
                out[:, :, i, j] = np.tensordot(x[:, :, i:i + k, j:j + k], w, axes=([1, 2, 3], [1, 2, 3]))
        return out + self.bias.data[:, None, None]

    def backward(self, grad_out):
        x, k, w = self._x, self.kernel_size, self._kernel()
        g = self.check_grad_out(grad_out, None if x is None else
                                (x.shape[0], w.shape[0], x.shape[2] - k + 1, x.shape[3] - k + 1))
        dx, dw = np.zeros_like(x), np.zeros_like(w)
        for i in range(g.shape[2]):
            for j in range(g.shape[3]):
                dx[:, :, i:i + k, j:j + k] += np.tensordot(g[:, :, i, j], w, axes=(1, 0))
                dw += np.tensordot(g[:, :, i, j], x[:, :, i:i + k, j:j + k], axes=(0, 0))
        self.weight.add_grad(self._unkernel(dw))
        self.bias.add_grad(g.sum(axis=(0, 2, 3)))
        return dx

    def _unkernel(self, dw):
        return dw


class Conv2dFlipsKernel(Conv2dNaive):
    """A true convolution (the kernel flipped), with a backward right for it: not PyTorch's Conv2d."""

    def _kernel(self):
        return self.weight.data[:, :, ::-1, ::-1]

    def _unkernel(self, dw):
        return dw[:, :, ::-1, ::-1].copy()


def test_a_convolution_that_flips_its_kernel_fails_the_reference():
    reference = layers.Conv2d(2, 3, 3)
    assert check_layer(Conv2dNaive(2, 3, 3), input_shape=(2, 2, 5, 5), reference=reference, verbose=False)
    report = check_layer(Conv2dFlipsKernel(2, 3, 3), input_shape=(2, 2, 5, 5), reference=reference, verbose=False)
    assert _failed(report) == ["reference forward", "reference gradients"]


class MaxPoolEveryEntry(layers.MaxPool2d):
    """Sends each window's gradient to all its entries, not to the maximum only."""

    def backward(self, grad_out):
        super().backward(grad_out)                         # (for its checks of grad_out)
        return np.repeat(np.repeat(grad_out, 2, axis=2), 2, axis=3)


def test_a_max_pool_that_spreads_the_gradient_fails_the_input_gradient():
    report = check_layer(MaxPoolEveryEntry(2), input_shape=(2, 2, 4, 4), reference=layers.MaxPool2d(2),
                         verbose=False)
    assert _failed(report) == ["gradient of input", "reference gradients"]


# ------------------------------------------------------------------- recurrence


class RNNForgetsRecurrence(layers.RNN):
    """Backpropagates each step on its own: dh_{t-1} gets nothing from step t."""

    def _recurrence_backward(self, dout, dfinals, hs, cache, w_hh):
        h = hs[1:]
        da = dout * (1 - h * h)
        return da, da, [np.zeros_like(dfinals[0])]


def test_bptt_that_forgets_the_recurrent_path_fails_the_gradients():
    report = check_layer(RNNForgetsRecurrence(3, 4), input_shape=(5, 2, 3), reference=layers.RNN(3, 4),
                         verbose=False)
    assert _failed(report) == ["gradient of input", "gradient of weight_ih_l0", "gradient of weight_hh_l0",
                               "gradient of bias_ih_l0", "gradient of bias_hh_l0", "reference gradients"]
