"""Torch networks (pure modules, no I/O): a 1-D sequence CNN (optionally reverse-complement aware),
a 2-D CNN for pairing matrices and an MLP. Each may take flat side features into its head."""
from __future__ import annotations

import torch
from torch import nn


def _head(n_in: int, hidden: int, n_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_out))


class FlatEncoder(nn.Module):
    """Side input for flat features: a small dense layer (or nothing when there are none)."""

    def __init__(self, n_flat: int, width: int, dropout: float) -> None:
        super().__init__()
        self.n_flat = n_flat
        self.out_dim = width if n_flat else 0
        self.net = nn.Sequential(nn.Linear(n_flat, width), nn.ReLU(), nn.Dropout(dropout)) if n_flat else None

    def forward(self, flat: torch.Tensor | None) -> torch.Tensor | None:
        return None if self.net is None or flat is None else self.net(flat)


class ResBlock1d(nn.Module):
    def __init__(self, channels: int, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm1d(channels), nn.ReLU(),
            nn.Conv1d(channels, channels, kernel, padding=dilation * (kernel // 2), dilation=dilation),
            nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SeqNet(nn.Module):
    """Stem conv (-> max pool) -> dilated residual blocks -> global max+mean pooling -> head. With
    ``rc`` the same trunk also reads the reverse complement (one-hot channels A,C,G,T reversed) and
    the two pooled vectors are max-combined, so predictions are strand-symmetric."""

    def __init__(self, *, in_channels: int, n_flat: int, channels: int, stem_kernel: int, kernel: int,
                 n_blocks: int, dropout: float, n_out: int, rc: bool, pool: int = 1) -> None:
        super().__init__()
        self.rc = rc
        stem: list[nn.Module] = [nn.Conv1d(in_channels, channels, stem_kernel, padding=stem_kernel // 2),
                                 nn.BatchNorm1d(channels), nn.ReLU()]
        if pool > 1:
            stem.append(nn.MaxPool1d(pool, ceil_mode=True))
        self.stem = nn.Sequential(*stem)
        self.blocks = nn.Sequential(*[ResBlock1d(channels, kernel, 2 ** min(i, 4), dropout)
                                      for i in range(n_blocks)])
        self.flat = FlatEncoder(n_flat, 64, dropout)
        self.head = _head(2 * channels + self.flat.out_dim, channels, n_out, dropout)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(x))
        return torch.cat([h.amax(dim=2), h.mean(dim=2)], dim=1)

    def forward(self, seq: torch.Tensor, flat: torch.Tensor | None = None) -> torch.Tensor:
        if self.rc:  # both strands in one batch through the shared trunk, then max over strands
            n = seq.shape[0]
            both = self.trunk(torch.cat([seq, torch.flip(seq, dims=(1, 2))], dim=0))
            z = torch.maximum(both[:n], both[n:])
        else:
            z = self.trunk(seq)
        f = self.flat(flat)
        return self.head(z if f is None else torch.cat([z, f], dim=1))


class GridNet(nn.Module):
    """Conv2d-BN-ReLU blocks with 2x2 max pooling between them -> global max+mean pool -> head."""

    def __init__(self, *, in_channels: int, n_flat: int, channels: int, n_blocks: int, kernel: int,
                 dropout: float, n_out: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = in_channels
        for i in range(n_blocks):
            c_out = channels * (2 ** min(i, 2))
            layers += [nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2), nn.BatchNorm2d(c_out), nn.ReLU()]
            if i < n_blocks - 1:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            c_in = c_out
        self.body = nn.Sequential(*layers)
        self.drop = nn.Dropout(dropout)
        self.flat = FlatEncoder(n_flat, 64, dropout)
        self.head = _head(2 * c_in + self.flat.out_dim, 2 * channels, n_out, dropout)

    def forward(self, grid: torch.Tensor, flat: torch.Tensor | None = None) -> torch.Tensor:
        h = self.body(grid)
        z = self.drop(torch.cat([h.amax(dim=(2, 3)), h.mean(dim=(2, 3))], dim=1))
        f = self.flat(flat)
        return self.head(z if f is None else torch.cat([z, f], dim=1))


class MLPNet(nn.Module):
    def __init__(self, *, n_flat: int, hidden: int, n_layers: int, dropout: float, n_out: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        n_in = n_flat
        for _ in range(n_layers):
            layers += [nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(dropout)]
            n_in = hidden
        layers.append(nn.Linear(n_in, n_out))
        self.net = nn.Sequential(*layers)

    def forward(self, flat: torch.Tensor) -> torch.Tensor:
        return self.net(flat)


def _sum_by(index: torch.Tensor, rows: torch.Tensor, n: int) -> torch.Tensor:
    """``n`` sums of ``rows``: row ``i`` is added to sum ``index[i]``."""
    return torch.zeros(n, rows.shape[1], dtype=rows.dtype).index_add_(0, index, rows)


class MPNNet(nn.Module):
    """Directed-bond message passing on molecular graphs (``molgraph.collate`` batches): each directed bond
    keeps a hidden state, updated ``depth - 1`` times from the states entering its source atom except its
    own reverse; atoms then sum their incoming bond states, are mean-pooled per molecule, and a head (with
    the flat side features, if any) predicts."""

    def __init__(self, *, atom_features: int, bond_features: int, n_flat: int, hidden: int, depth: int,
                 dropout: float, n_out: int) -> None:
        super().__init__()
        self.depth = depth
        self.w_in = nn.Linear(atom_features + bond_features, hidden, bias=False)
        self.w_msg = nn.Linear(hidden, hidden, bias=False)
        self.w_atom = nn.Linear(atom_features + hidden, hidden)
        self.drop = nn.Dropout(dropout)
        self.flat = FlatEncoder(n_flat, 64, dropout)
        self.head = nn.Sequential(nn.Dropout(dropout),
                                  _head(hidden + self.flat.out_dim, hidden, n_out, dropout))

    def forward(self, g: dict[str, torch.Tensor], flat: torch.Tensor | None = None) -> torch.Tensor:
        atoms, src, dst, rev, mol = g["atoms"], g["src"], g["dst"], g["rev"], g["mol"]
        n_atoms, n_mols = atoms.shape[0], int(g["n_mols"])
        start = self.w_in(torch.cat([atoms[src], g["bonds"]], dim=1))
        h = torch.relu(start)
        for _ in range(self.depth - 1):
            h = self.drop(torch.relu(start + self.w_msg(_sum_by(dst, h, n_atoms)[src] - h[rev])))
        a = self.drop(torch.relu(self.w_atom(torch.cat([atoms, _sum_by(dst, h, n_atoms)], dim=1))))
        counts = _sum_by(mol, torch.ones(n_atoms, 1, dtype=a.dtype), n_mols)
        z = _sum_by(mol, a, n_mols) / counts.clamp(min=1)
        f = self.flat(flat)
        return self.head(z if f is None else torch.cat([z, f], dim=1))
