"""The window, matrix-product and mask kernels (mtorch.kernels) against the plain math they stand for."""
import numpy as np
import pytest

from mtorch.kernels.im2col import as_matrix, col2im, from_matrix, im2col, like_layout
from mtorch.kernels.matmul import matmul_nt
from mtorch.kernels.select import masked

# (N, C, H, W), kernel, stride, dilation
WINDOWS = [((2, 3, 5, 6), (2, 3), (1, 1), (1, 1)),
           ((3, 2, 7, 7), (3, 3), (2, 1), (1, 2)),
           ((1, 1, 1, 9), (1, 4), (1, 3), (1, 1))]


def out_hw(shape, kernel, stride, dilation):
    return tuple((size - d * (k - 1) - 1) // s + 1 for size, k, s, d in zip(shape[2:], kernel, stride, dilation))


def plain_im2col(x, kernel, stride, dilation):
    """cols[(c, i, j), (p, q, n)] = x[n, c, p*sH + i*dH, q*sW + j*dW], one number at a time."""
    n, c, _, _ = x.shape
    ho, wo = out_hw(x.shape, kernel, stride, dilation)
    cols = np.zeros((c, kernel[0], kernel[1], ho, wo, n))
    for ci in range(c):
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                for p in range(ho):
                    for q in range(wo):
                        cols[ci, i, j, p, q] = x[:, ci, p * stride[0] + i * dilation[0], q * stride[1] + j * dilation[1]]
    return cols.reshape(c * kernel[0] * kernel[1], -1)


@pytest.mark.parametrize("shape, kernel, stride, dilation", WINDOWS)
def test_im2col_is_the_definition(shape, kernel, stride, dilation, rng):
    x = rng.standard_normal(shape)
    cols = im2col(x, kernel, stride, dilation, out_hw(shape, kernel, stride, dilation))
    np.testing.assert_array_equal(cols, plain_im2col(x, kernel, stride, dilation))
    channels_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(im2col(channels_last, kernel, stride, dilation, out_hw(shape, kernel, stride, dilation)),
                                  cols)


@pytest.mark.parametrize("shape, kernel, stride, dilation", WINDOWS)
def test_col2im_is_the_adjoint_of_im2col(shape, kernel, stride, dilation, rng):
    """<im2col(x), c> = <x, col2im(c)> for all x and c, and col2im adds overlapping windows."""
    hw = out_hw(shape, kernel, stride, dilation)
    x = rng.standard_normal(shape)
    c = rng.standard_normal(plain_im2col(x, kernel, stride, dilation).shape)
    back = col2im(c, shape, kernel, stride, dilation, hw)
    assert back.shape == shape
    np.testing.assert_allclose(np.sum(im2col(x, kernel, stride, dilation, hw) * c), np.sum(x * back), rtol=1e-12)
    counts = col2im(np.ones_like(c), shape, kernel, stride, dilation, hw)     # how many windows see each pixel
    expected = np.zeros(shape)
    for p in range(hw[0]):
        for q in range(hw[1]):
            for i in range(kernel[0]):
                for j in range(kernel[1]):
                    expected[:, :, p * stride[0] + i * dilation[0], q * stride[1] + j * dilation[1]] += 1
    np.testing.assert_array_equal(counts, expected)


def test_as_matrix_and_back(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    m = as_matrix(x)
    assert m.shape == (3, 4 * 5 * 2)
    np.testing.assert_array_equal(m[1, (2 * 5 + 3) * 2 + 1], x[1, 1, 2, 3])     # M[c, (h, w, n)]
    y = from_matrix(m, 2, (4, 5))
    np.testing.assert_array_equal(y, x)
    assert np.shares_memory(as_matrix(y), m)                                  # batch-last: no copy


def test_like_layout(rng):
    like = np.ascontiguousarray(rng.standard_normal((4, 5, 3)).transpose(1, 2, 0)).transpose(2, 0, 1)
    a = rng.standard_normal((4, 5, 3))
    out = like_layout(a, like)
    np.testing.assert_array_equal(out, a)
    assert out.strides == like.strides
    assert like_layout(like, like) is like


@pytest.mark.parametrize("groups, m, k, length", [(1, 3, 5, 40), (1, 7, 2, 30), (3, 2, 4, 10)])
def test_matmul_nt_is_the_plain_product(groups, m, k, length, rng):
    a, b = rng.standard_normal((groups, m, length)), rng.standard_normal((groups, k, length))
    nt = matmul_nt(a, b)
    np.testing.assert_allclose(nt, np.einsum("gml,gkl->gmk", a, b), rtol=1e-12)
    assert nt.flags.c_contiguous


def test_masked_is_where_even_for_inf_and_nan(rng):
    mask = rng.random((3, 4, 5)) < 0.5
    for g in (rng.standard_normal((3, 4, 5)), np.where(rng.random((3, 4, 5)) < 0.2, np.inf, 1.0),
              np.full((3, 4, 5), np.nan)):
        np.testing.assert_array_equal(masked(g, mask), np.where(mask, g, 0))
        out = np.empty_like(g)
        assert masked(g, mask, out=out) is out
        np.testing.assert_array_equal(out, np.where(mask, g, 0))
