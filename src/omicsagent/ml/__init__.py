"""Building blocks for training scripts: encoders, models, metrics, splits.

Generated ``train.py``/``inference.py`` scripts import from here, so everything is importable without
side effects and works on CPU.
"""
