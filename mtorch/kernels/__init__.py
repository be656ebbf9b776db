"""Kernels: the speed of mtorch, kept apart from the layers' math.

A layer file reads as its math; when a memory layout, a BLAS call shape or
a fusion makes a training step measurably faster, the trick lives here, in
a named function that states the plain math it computes, is tested against
that plain math (``tests/test_kernels_<family>.py``), and records its
measured gain on a benchmark step. A trick that saves less than 10% of a
training step does not stay.

* ``im2col``: sliding windows as matrix columns and back (convolution,
  transposed convolution), in a batch-last layout; ``like_layout``.
* ``matmul``: ``matmul_nt``, a convolution's weight gradient in the
  orientation OpenBLAS computes fastest.
* ``select``: ``masked``, max pooling's gradient selection as a product.
* ``recurrence``: RNN, LSTM and GRU in columns, one stacked product per
  step (and one sum for the weight gradients), and a workspace of buffers
  kept between calls.
* ``blocks``: ``blockwise``, a long element-wise formula (``erfc``, exact
  GELU) computed block by block, its temporaries kept in the cache.
"""
