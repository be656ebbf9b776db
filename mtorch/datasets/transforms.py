"""Turn uint8 images into the float32 a network eats, one batch at a time.

Datasets keep their pixels as uint8 (60,000 MNIST digits are 47 MB; as float32
they would be 188 MB) and apply a transform to each batch as it is taken, so
only one batch ever exists in float32.
"""
import numpy as np

from ..validation import as_real_array, check_bool, check_real


class Normalize:
    """Scale pixels to [0, 1], then standardise: ``y = (x / 255 - mean) / std``, as float32.

    With the training set's mean and std the network sees inputs of mean 0 and
    standard deviation 1, which is what the default initialisation assumes
    (for MNIST: mean 0.1307, std 0.3081, as in the PyTorch examples).
    ``Normalize()`` alone only scales to [0, 1].

    Args:
        mean: subtracted after scaling to [0, 1].
        std: divides after subtracting the mean.
        flatten: also merge the last two axes (rows, columns) into one, for
            fully connected networks: ``(..., 28, 28) -> (..., 784)``.

    Shape:
        input ``(..., H, W)`` of any dtype (usually uint8: one image or a batch);
        output float32 ``(..., H, W)``, or ``(..., H * W)`` with ``flatten``.

    Example:
        >>> Normalize(0.1307, 0.3081, flatten=True)(np.zeros((2, 28, 28), np.uint8)).shape
        (2, 784)
    """

    def __init__(self, mean=0.0, std=1.0, flatten=False):
        self.mean = check_real("Normalize", "mean", mean)
        self.std = check_real("Normalize", "std", std, minimum=0, open_min=True)
        self.flatten = check_bool("Normalize", "flatten", flatten)

    def __call__(self, images):
        x = np.asarray(as_real_array("Normalize", images, "images"), dtype=np.float32)
        if x.ndim < 2:
            raise ValueError(f"Normalize: expected images of shape (..., H, W), got {x.shape}")
        if x is images:
            x = x.copy()
        x *= np.float32(1 / (255 * self.std))
        x -= np.float32(self.mean / self.std)
        return x.reshape(x.shape[:-2] + (x.shape[-2] * x.shape[-1],)) if self.flatten else x

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std}, flatten={self.flatten})"
