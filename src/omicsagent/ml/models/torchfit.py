"""Torch models behind the ``Model`` protocol: one training loop (AdamW, cosine schedule, early
stopping on an inner split, wall-clock limit keeping the best epoch, one log line per epoch).

Fitted weights are kept as numpy arrays with the network's constructor arguments, so a pickled model
holds no torch objects or closures and rebuilds its network on first use.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from omicsagent.errors import InputError
from omicsagent.ml.features import FeatureSet
from omicsagent.ml.models.base import Log, Model, inner_split, need_flat

MAX_DENSE_FLAT = 20000
MAX_DENSE_CELLS = 150_000_000  # 600 MB of float32


@dataclass
class TorchModel(Model):
    """A multi-label target gets one output per label and a loss on the measured labels only: one network
    shares what the labels have in common (a multi-task network)."""

    multilabel = True
    epochs: int = 30
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-2
    dropout: float = 0.2
    patience: int = 5
    val_fraction: float = 0.1
    use_flat: bool = False
    threads: int = 2
    _net_args: dict = field(default_factory=dict, init=False, repr=False)
    _state: dict = field(default_factory=dict, init=False, repr=False)
    _flat_mean: np.ndarray | None = field(default=None, init=False, repr=False)
    _flat_std: np.ndarray | None = field(default=None, init=False, repr=False)
    _y_mean: float = field(default=0.0, init=False, repr=False)
    _y_std: float = field(default=1.0, init=False, repr=False)
    _net: Any = field(default=None, init=False, repr=False)
    history_: list = field(default_factory=list, init=False, repr=False)

    def check(self) -> None:
        if self.epochs < 1 or self.batch_size < 2 or self.lr <= 0 or self.patience < 1:
            raise InputError(
                "epochs, batch_size (>= 2), lr and patience must be positive; fix the model spec."
            )
        if not 0.0 < self.val_fraction < 0.5:
            raise InputError("val_fraction must be between 0 and 0.5; fix the model spec.")

    # --- subclasses ------------------------------------------------------------------------
    def _main_input(self, X: FeatureSet) -> np.ndarray | None:
        raise NotImplementedError

    def _net_kwargs(self, main: np.ndarray | None, n_flat: int, n_out: int) -> dict:
        raise NotImplementedError

    def _build_net(self, args: dict):
        raise NotImplementedError

    def _augment(self, main, rng: np.random.Generator):
        return main

    def _tensor(self, rows):
        """The network's main input for some rows of ``_main_input``."""
        import torch

        return torch.from_numpy(np.ascontiguousarray(rows))

    # --- pickling: no torch objects ---------------------------------------------------------
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_net"] = None
        return state

    # --- inputs -----------------------------------------------------------------------------
    def _flat_input(self, X: FeatureSet, *, fit: bool) -> np.ndarray | None:
        if not self.use_flat:
            return None
        flat = need_flat(X, self.kind)
        if self.kind != "mlp" and X.dense_columns is not None:
            # CNN heads take the dense side features only (numbers, pair features, descriptors): sparse
            # k-mer blocks in the same representation are for the tree/linear members of an ensemble
            if len(X.dense_columns) == 0:
                return None
            flat = flat[:, X.dense_columns]
        if flat.shape[1] > MAX_DENSE_FLAT or flat.shape[0] * flat.shape[1] > MAX_DENSE_CELLS:
            raise InputError(
                f"{flat.shape[0]} rows x {flat.shape[1]} flat features are too many for a torch "
                f"model (limits {MAX_DENSE_FLAT} columns, {MAX_DENSE_CELLS:.0e} cells); use fewer "
                f"k-mer sizes or set use_flat false."
            )
        dense = flat.toarray() if sparse.issparse(flat) else np.asarray(flat)
        dense = dense.astype(np.float32)
        if fit:
            self._flat_mean = dense.mean(axis=0)
            self._flat_std = dense.std(axis=0) + 1e-6
        return np.clip((dense - self._flat_mean) / self._flat_std, -10, 10).astype(np.float32)

    def _n_out(self) -> int:
        return 1 if self.task_type in ("binary", "regression") else self.n_classes

    # --- training ---------------------------------------------------------------------------
    def _fit(self, X: FeatureSet, y: np.ndarray, *, time_limit_s: float | None, log: Log) -> None:
        import torch

        start = time.monotonic()
        deadline = None if time_limit_s is None else start + 0.92 * time_limit_s
        torch.set_num_threads(max(1, self.threads))
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        main = self._main_input(X)
        flat = self._flat_input(X, fit=True)
        if self.task_type == "regression":
            self._y_mean, self._y_std = float(y.mean()), float(y.std() + 1e-8)
            target = ((y - self._y_mean) / self._y_std).astype(np.float32)
        elif self.task_type == "multilabel":
            target = y.astype(np.float32)  # NaN: not measured, left out of the loss
        else:
            target = y.astype(np.int64)
        fit_idx, val_idx = inner_split(
            y, task_type=self.task_type, fraction=self.val_fraction, seed=self.seed
        )
        self._net_args = self._net_kwargs(main, 0 if flat is None else flat.shape[1], self._n_out())
        net = self._build_net(self._net_args)
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        steps_per_epoch = max(1, math.ceil(len(fit_idx) / self.batch_size))
        total = steps_per_epoch * self.epochs
        warm = min(steps_per_epoch, total // 10 + 1)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
        best_score, best_state, bad = -math.inf, None, 0
        self.history_ = []
        for epoch in range(1, self.epochs + 1):
            t0 = time.monotonic()
            net.train()
            order = rng.permutation(fit_idx)
            losses = []
            out_of_time = False
            for b in range(0, len(order), self.batch_size):
                idx = order[b:b + self.batch_size]
                if len(idx) < 2:
                    continue
                if deadline is not None and best_state is not None and time.monotonic() > deadline:
                    out_of_time = True  # an epoch longer than the time left: stop inside it
                    break
                xb = self._tensor(self._augment(main[idx], rng)) if main is not None else None
                fb = None if flat is None else torch.from_numpy(flat[idx])
                loss = self._loss(net(*self._args(xb, fb)), torch.from_numpy(target[idx]))
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                losses.append(loss.item())
            val_out = self._forward(net, main, flat, val_idx)
            val_loss, score, score_name = self._val_score(val_out, target[val_idx], y[val_idx])
            improved = score > best_score or best_state is None
            if improved:
                best_score, best_state, bad = score, copy.deepcopy(net.state_dict()), 0
            else:
                bad += 1
            took = time.monotonic() - t0
            self.history_.append(
                {
                    "epoch": epoch,
                    "train_loss": float(np.mean(losses or [math.nan])),
                    "val_loss": val_loss,
                    score_name: score if score_name != "neg_loss" else None,
                    "seconds": took,
                }
            )
            log(
                f"{self.kind} epoch {epoch}/{self.epochs} train_loss {np.mean(losses or [math.nan]):.4f} "
                f"val_loss {val_loss:.4f}"
                + (f" val_{score_name} {score:.4f}" if score_name != "neg_loss" else "")
                + f"{' *' if improved else ''} ({took:.1f}s)"
            )
            if bad >= self.patience:
                log(f"{self.kind}: early stop, best epoch {epoch - bad}")
                break
            if not np.isfinite(losses[-1] if losses else 0.0):
                log(f"{self.kind}: training diverged (loss is not finite); keeping the best epoch, lower lr")
                break
            if out_of_time or (
                deadline is not None and time.monotonic() + took > deadline and epoch < self.epochs
            ):
                log(f"{self.kind}: time limit reached after epoch {epoch}; keeping the best epoch")
                break
        net.load_state_dict(best_state)
        net.eval()
        self._state = {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}
        self._net = net

    @staticmethod
    def _args(main, flat) -> tuple:
        return (flat,) if main is None else (main, flat)

    def _loss(self, out, target):
        import torch.nn.functional as F

        if self.task_type == "binary":
            return F.binary_cross_entropy_with_logits(out[:, 0], target.float())
        if self.task_type == "multilabel":
            measured = ~target.isnan()
            if not measured.any():
                return out.sum() * 0.0
            return F.binary_cross_entropy_with_logits(out[measured], target[measured])
        if self.task_type == "multiclass":
            return F.cross_entropy(out, target)
        return F.mse_loss(out[:, 0], target)

    def _forward(self, net, main, flat, idx: np.ndarray, batch: int = 1024) -> np.ndarray:
        import torch

        net.eval()
        outs = []
        with torch.no_grad():
            for b in range(0, len(idx), batch):
                sel = idx[b:b + batch]
                xb = None if main is None else self._tensor(main[sel])
                fb = None if flat is None else torch.from_numpy(flat[sel])
                outs.append(net(*self._args(xb, fb)).numpy())
        return np.concatenate(outs) if outs else np.zeros((0, self._n_out()), np.float32)

    def _val_score(self, out: np.ndarray, target: np.ndarray, y: np.ndarray) -> tuple[float, float, str]:
        import torch

        loss = float(self._loss(torch.from_numpy(out), torch.from_numpy(target)))
        if not np.isfinite(out).all():
            return loss, -math.inf, "auroc" if self.task_type == "binary" else "neg_loss"
        if self.task_type == "binary" and len(np.unique(y)) == 2:
            from omicsagent.ml.metrics import auroc

            return loss, auroc(y, out[:, 0]), "auroc"
        if self.task_type == "multilabel":
            from omicsagent.ml.metrics import evaluate

            mean_auroc = evaluate("multilabel", y, None, out)["mean_auroc"]  # logits rank like probabilities
            if np.isfinite(mean_auroc):
                return loss, float(mean_auroc), "mean_auroc"
        return loss, -loss, "neg_loss"

    # --- prediction -------------------------------------------------------------------------
    def _predict_raw(self, X: FeatureSet) -> np.ndarray:
        import torch

        if self._net is None:
            torch.set_num_threads(max(1, self.threads))
            net = self._build_net(self._net_args)
            net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in self._state.items()})
            net.eval()
            self._net = net
        main = self._main_input(X)
        flat = self._flat_input(X, fit=False)
        out = self._forward(self._net, main, flat, np.arange(len(X)))
        if self.task_type == "regression":
            return out[:, 0] * self._y_std + self._y_mean
        if self.task_type == "binary":
            p = 1.0 / (1.0 + np.exp(-out[:, 0].astype(np.float64)))
            return np.column_stack([1.0 - p, p])
        if self.task_type == "multilabel":
            return 1.0 / (1.0 + np.exp(-out.astype(np.float64)))
        e = np.exp(out - out.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


@dataclass
class SeqCNN(TorchModel):
    """1-D CNN on one-hot sequences; ``rc``: strand-symmetric (DNA only); ``augment_rc``: random
    reverse-complement flips during training instead."""

    kind = "cnn1d"
    channels: int = 64
    stem_kernel: int = 11
    kernel: int = 5
    n_blocks: int = 3
    pool: int = 1
    rc: bool = False
    augment_rc: bool = False

    def _main_input(self, X: FeatureSet) -> np.ndarray:
        if X.seq is None:
            raise InputError('Model "cnn1d" needs a one-hot sequence block (kind "onehot"); add one.')
        return X.seq

    def _net_kwargs(self, main, n_flat: int, n_out: int) -> dict:
        return dict(in_channels=main.shape[1], n_flat=n_flat, channels=self.channels,
                    stem_kernel=self.stem_kernel, kernel=self.kernel, n_blocks=self.n_blocks,
                    dropout=self.dropout, n_out=n_out, rc=self.rc, pool=self.pool)

    def _build_net(self, args: dict):
        from omicsagent.ml.models.nets import SeqNet

        return SeqNet(**args)

    def _augment(self, main, rng: np.random.Generator):
        if not self.augment_rc:
            return main
        flip = rng.random(len(main)) < 0.5
        out = main.copy()
        out[flip] = main[flip][:, ::-1, ::-1]
        return out


@dataclass
class GridCNN(TorchModel):
    """2-D CNN on pairing matrices (``pair_matrix`` block)."""

    kind = "cnn2d"
    channels: int = 32
    n_blocks: int = 3
    kernel: int = 3

    def _main_input(self, X: FeatureSet) -> np.ndarray:
        if X.grid is None:
            raise InputError('Model "cnn2d" needs a pairing-matrix block (kind "pair_matrix"); add one.')
        return X.grid

    def _net_kwargs(self, main, n_flat: int, n_out: int) -> dict:
        return dict(in_channels=main.shape[1], n_flat=n_flat, channels=self.channels, n_blocks=self.n_blocks,
                    kernel=self.kernel, dropout=self.dropout, n_out=n_out)

    def _build_net(self, args: dict):
        from omicsagent.ml.models.nets import GridNet

        return GridNet(**args)


@dataclass
class MLP(TorchModel):
    """Multi-layer perceptron on flat features (always uses them)."""

    kind = "mlp"
    hidden: int = 256
    n_layers: int = 2
    use_flat: bool = True

    def _main_input(self, X: FeatureSet) -> None:
        return None

    def _net_kwargs(self, main, n_flat: int, n_out: int) -> dict:
        return dict(
            n_flat=n_flat, hidden=self.hidden, n_layers=self.n_layers, dropout=self.dropout, n_out=n_out
        )

    def _build_net(self, args: dict):
        from omicsagent.ml.models.nets import MLPNet

        return MLPNet(**args)

    def _flat_input(self, X: FeatureSet, *, fit: bool) -> np.ndarray:
        self.use_flat = True
        return super()._flat_input(X, fit=fit)


@dataclass
class MPNN(TorchModel):
    """Message passing network on molecular graphs (a ``molgraph`` block): learns its own features of
    atoms and their neighbourhoods instead of reading fixed fingerprints, which makes it a different kind
    of error than trees on fingerprints (a good blend partner). ``use_flat`` adds the dense flat
    features (numbers, descriptors) to its head."""

    kind = "mpnn"
    hidden: int = 300
    depth: int = 3
    epochs: int = 50
    batch_size: int = 50
    lr: float = 1e-3
    patience: int = 10

    def check(self) -> None:
        super().check()
        if self.hidden < 8 or not 1 <= self.depth <= 8:
            raise InputError("mpnn needs hidden >= 8 and depth between 1 and 8; fix the model spec.")

    def _main_input(self, X: FeatureSet) -> np.ndarray:
        if X.graph is None:
            raise InputError('Model "mpnn" needs a molecular graph block (kind "molgraph"); add one.')
        return X.graph

    def _tensor(self, rows):
        import torch

        from omicsagent.ml.molgraph import collate

        return {k: torch.from_numpy(np.asarray(v)) for k, v in collate(rows).items()}

    def _net_kwargs(self, main, n_flat: int, n_out: int) -> dict:
        from omicsagent.ml.molgraph import ATOM_FEATURES, BOND_FEATURES

        return dict(atom_features=ATOM_FEATURES, bond_features=BOND_FEATURES, n_flat=n_flat,
                    hidden=self.hidden, depth=self.depth, dropout=self.dropout, n_out=n_out)

    def _build_net(self, args: dict):
        from omicsagent.ml.models.nets import MPNNet

        return MPNNet(**args)
