"""The single-cell representation on a sparse matrix: it takes and returns sparse matrices and never
densifies the cells x genes matrix (checked under an address-space limit below the dense size), and it
gives the features of the same cells stored densely."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
from scipy import sparse

from omicsagent.ml.io import gene_matrix, read_table, sparse_columns, write_table
from omicsagent.ml.singlecell import ExpressionBlock, mean_var
from omicsagent.testing import singlecell_frames, write_h5ad

EXCLUDE = ["cell_type", "batch"]


def _frames(tmp_path, n_cells=200, n_genes=150):
    counts, obs = singlecell_frames(n_cells, n_genes, seed=3)
    sp_path = write_h5ad(tmp_path / "sparse.h5ad", counts, obs, sparse=True)
    de_path = write_h5ad(tmp_path / "dense.h5ad", counts, obs, sparse=False)
    return read_table(sp_path), read_table(de_path)


def _dense(m):
    return m.toarray() if sparse.issparse(m) else np.asarray(m)


def test_sparse_and_dense_copies_give_the_same_features(tmp_path):
    s, d = _frames(tmp_path)
    genes = [c for c in s.columns if c not in EXCLUDE]
    assert sparse_columns(s) == genes and sparse.issparse(gene_matrix(s, genes))
    m, v = mean_var(gene_matrix(s, genes))
    assert np.allclose(m, gene_matrix(d, genes).mean(axis=0)) and np.allclose(v, gene_matrix(d, genes).var(0))
    for spec in ({"n_components": 20, "marker_genes": 5, "target": "cell_type"}, {"n_components": 0}):
        bs = ExpressionBlock(exclude=EXCLUDE, **spec).fit(s)
        bd = ExpressionBlock(exclude=EXCLUDE, **spec).fit(d)
        assert np.array_equal(bs._hvg, bd._hvg) and np.array_equal(bs._markers, bd._markers)
        xs, xd = bs.transform(s), bd.transform(d)
        assert sparse.issparse(xs) and not sparse.issparse(xd)  # the scaled genes or markers stay sparse
        if spec["n_components"]:  # principal components agree up to each component's sign
            k = bs._pca.n_components_
            pcs, pcd = _dense(xs)[:, :k], xd[:, :k]
            signs = np.sign((pcs * pcd).sum(axis=0))
            assert np.allclose(pcs * signs, pcd, atol=1e-3)
            assert np.allclose(_dense(xs)[:, k:], xd[:, k:])  # marker genes: the same values
        else:  # zeros stay zero: each scaled gene is the dense one minus a constant
            assert np.allclose(_dense(xs) + bs._offset, xd, atol=1e-5)
        # a model fitted on sparse genes predicts the same on the dense copy, and the other way round
        assert np.allclose(_dense(bs.transform(d)), _dense(xs), atol=1e-5)
        assert np.allclose(_dense(bd.transform(s)), xd, atol=1e-5)


def test_write_table_keeps_sparse_genes_sparse_and_round_trips(tmp_path):
    s, _ = _frames(tmp_path, n_cells=40, n_genes=30)
    path = write_table(s.iloc[:25].reset_index(drop=True), tmp_path / "train.csv", layer="counts")
    back = read_table(path)
    assert sparse_columns(back) == sparse_columns(s)
    assert back["cell_type"].tolist() == s["cell_type"][:25].tolist()
    genes = sparse_columns(s)
    assert np.array_equal(gene_matrix(back, genes).toarray(), gene_matrix(s, genes)[:25].toarray())
    assert sparse.issparse(gene_matrix(read_table(path, layer="counts"), genes))  # the task's layer is there
    plain = write_table(pd.DataFrame({"a": [1, 2]}), tmp_path / "plain.csv")
    assert plain.read_text() == "a\n1\n2\n"


def test_representation_never_densifies_the_cell_matrix(tmp_path):
    """120,000 cells x 3,000 genes at 0.2% density (720,000 stored counts): the dense float64 matrix
    would take 2.9 GB, its 2,000 most variable genes 1.9 GB. The fit and transform run in a process whose
    address space is capped at what it uses plus 1.5 GB, so any ``toarray()`` of the cells x genes matrix
    (or of its highly variable genes) on the path raises MemoryError and fails this test."""
    code = textwrap.dedent("""
        import resource
        import numpy as np
        import pandas as pd
        from scipy import sparse
        from omicsagent.ml.features import build_featurizer

        n, g = 120_000, 3_000
        rng = np.random.default_rng(0)
        nnz = int(n * g * 0.002)
        rows, cols = rng.integers(0, n, nnz), rng.integers(0, g, nnz)
        counts = sparse.csr_matrix((rng.integers(1, 6, nnz).astype(np.float32), (rows, cols)), shape=(n, g))
        genes = pd.DataFrame.sparse.from_spmatrix(counts, columns=[f"G{j}" for j in range(g)])
        labels = np.where(np.asarray(counts[:, :50].sum(axis=1)).ravel() > 0.5, "a", "b")
        df = pd.concat([pd.DataFrame({"cell_type": labels}), genes], axis=1)
        with open("/proc/self/status") as fh:
            used_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmSize:"))
        cap = used_kb * 1024 + 1536 * 1024 ** 2
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        for spec in ({"n_components": 30, "marker_genes": 5, "target": "cell_type"}, {"n_components": 0}):
            block = {"kind": "expression", "exclude": ["cell_type"], **spec}
            f = build_featurizer({"blocks": [block]})
            x = f.fit_transform(df).flat
            kind = "sparse" if sparse.issparse(x) else "dense"
            print(spec["n_components"], kind, x.shape)
        try:
            counts.toarray()
        except MemoryError:
            print("dense refused")
    """)
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PATH": "/usr/bin:/bin"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    lines = [ln for ln in res.stdout.splitlines() if not ln.startswith("expression:")]
    # 30 components + 5 marker genes of each of the two classes; the 2,000 scaled genes stay sparse
    assert lines == ["30 sparse (120000, 40)", "0 sparse (120000, 2000)", "dense refused"], res.stdout
