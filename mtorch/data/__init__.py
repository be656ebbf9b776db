"""Datasets and mini-batch loading: ``Dataset``, ``TensorDataset``, ``DataLoader``.

    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    for xb, yb in loader:                      # one epoch, new order every time
        ...
"""
from .dataloader import DataLoader, default_collate
from .dataset import Dataset, TensorDataset
from .split import stratified_split
