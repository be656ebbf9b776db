"""What training scripts share: checkpoints, evaluation in batches, a metric history,
progress bars that suit the output, command-line argument types, and weights to and
from PyTorch.

- ``save_checkpoint`` / ``load_checkpoint``: model, optimizer, scheduler and random
  state in one file; loading is all or nothing.
- ``evaluate(model, data, loss_func)``: eval mode, in batches: ``(mean loss, outputs)``.
- ``History``: per-epoch metrics, for the checkpoint and the curves figure.
- ``progress``, ``shows_bars``: a tqdm bar on a terminal, silence in a log file.
- ``positive_int``, ``positive_float``, ``nonnegative_int``, ``nonnegative_float``,
  ``writable_dir``: ``argparse`` types that fail with a one-line usage error.
- ``to_torch_state_dict`` / ``from_torch_state_dict``: state dicts between mtorch and PyTorch.
"""
from .checkpoint import load_checkpoint, save_checkpoint
from .cli import nonnegative_float, nonnegative_int, positive_float, positive_int, writable_dir
from .progress import progress, shows_bars
from .torch_bridge import from_torch_state_dict, to_numpy, to_torch_state_dict
from .training import History, evaluate
