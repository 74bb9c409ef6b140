"""Molecules as graphs (``molgraph`` block) and the message passing network (``mpnn``): the graph and its
batching are right (every directed bond paired with its reverse), the network's prediction of a molecule
does not depend on how its SMILES orders the atoms or on its batch mates, it learns a structural property,
handles a multi-label target with missing labels, blends with trees on their own blocks, round-trips
through ``save``/``load``, and is planned for SMILES as the third draft."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from omicsagent.brains.expert import recipes
from omicsagent.errors import InputError
from omicsagent.ml.features import build_featurizer
from omicsagent.ml.metrics import auroc
from omicsagent.ml.models.base import build_model, quiet
from omicsagent.ml.molgraph import ATOM_FEATURES, BOND_FEATURES, BONDS, collate, mol_graph
from omicsagent.ml.pipeline import TrainedModel

GRAPH = {"blocks": [{"kind": "molgraph", "column": "smiles"}]}
SMALL = {"kind": "mpnn", "hidden": 32, "depth": 3, "epochs": 40, "patience": 40, "batch_size": 16,
         "lr": 3e-3, "dropout": 0.0}

# molecules with and without an amide or amine nitrogen bonded to a carbonyl carbon (a two-bond pattern)
AMIDES = ["CC(=O)N", "CC(=O)NC", "O=C(N)c1ccccc1", "CCC(=O)NCC", "NC(=O)CCO", "CN(C)C(=O)C", "O=C(NC)CCl",
          "CC(=O)Nc1ccccc1", "NC(=O)C(C)C", "CCCC(=O)N"]
OTHERS = ["CCN", "CCOC(=O)C", "NCCO", "CC(=O)O", "c1ccncc1", "CCC(N)CO", "NCC(=O)O", "CC(C)=O", "CCCCN",
          "OC(=O)c1ccccc1"]


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(AMIDES if k else OTHERS)[i] for k, i in zip(rng.integers(0, 2, n), rng.integers(0, 10, n))]
    return pd.DataFrame({"smiles": rows, "label": [int(s in AMIDES) for s in rows]})


def test_a_graph_pairs_each_directed_bond_with_its_reverse_across_a_batch():
    graphs = [mol_graph(Chem.MolFromSmiles(s)) for s in ("CCO", "c1ccccc1", "CC(=O)N")]
    graphs.insert(1, mol_graph(None))  # a SMILES that did not parse: one all-zero atom, no bonds
    assert graphs[0].atoms.shape == (3, ATOM_FEATURES) and graphs[0].bonds.shape == (4, BOND_FEATURES)
    empty = graphs[1]
    assert empty.atoms.shape == (1, ATOM_FEATURES) and not empty.atoms.any() and len(empty.src) == 0
    b = collate(graphs)
    assert len(b["atoms"]) == 3 + 1 + 6 + 4 and len(b["src"]) == 4 + 0 + 12 + 6
    np.testing.assert_array_equal(b["src"][b["rev"]], b["dst"])  # the reverse runs the other way
    np.testing.assert_array_equal(b["dst"][b["rev"]], b["src"])
    np.testing.assert_array_equal(b["rev"][b["rev"]], np.arange(len(b["src"])))
    np.testing.assert_array_equal(b["mol"][b["src"]], b["mol"][b["dst"]])  # bonds stay inside a molecule
    np.testing.assert_array_equal(np.bincount(b["mol"]), [3, 1, 6, 4])
    # aromatic ring bonds are marked aromatic, the ethanol ones single
    aromatic = BONDS.index("AROMATIC")
    assert b["bonds"][4:16, aromatic].all() and not b["bonds"][:4, aromatic].any()


def test_the_block_reads_smiles_and_refuses_two_graph_blocks():
    df = pd.DataFrame({"smiles": ["CCO", "not a molecule", None, "c1ccccc1"]})
    X = build_featurizer(GRAPH).fit_transform(df)
    assert X.graph is not None and len(X) == 4 and X.flat is None and "graph(4,)" in X.describe()
    assert [len(g.atoms) for g in X.graph] == [3, 1, 1, 6]
    assert [len(g.atoms) for g in X.subset(np.array([3, 0])).graph] == [6, 3]
    with pytest.raises(InputError, match="one graph block"):
        build_featurizer({"blocks": GRAPH["blocks"] * 2})
    with pytest.raises(InputError, match="molgraph"):
        fingerprints = build_featurizer({"blocks": [{"kind": "smiles", "column": "smiles"}]})
        build_model({"kind": "mpnn"}, task_type="binary").fit(
            fingerprints.fit_transform(df.iloc[[0, 3]]), np.array([0, 1]), log=quiet)


def test_the_network_learns_a_two_bond_pattern_whatever_the_atom_order_and_round_trips(tmp_path):
    train, test = frame(240, 0), frame(120, 1)
    f = build_featurizer(GRAPH)
    model = build_model(SMALL, task_type="binary", seed=0)
    model.fit(f.fit_transform(train), train["label"].to_numpy(), log=quiet)
    trained = TrainedModel(featurizer=f, model=model, task_type="binary", target="label",
                           representation=GRAPH, model_spec=SMALL)
    p = trained.predict_frame(test)["probability_1"].to_numpy()
    assert auroc(test["label"].to_numpy(), p) > 0.95
    # the same molecule written with its atoms in another order, alone or among others: the same prediction
    same = pd.DataFrame({"smiles": ["CC(=O)NC", "CNC(C)=O", "O=C(C)NC", "CCO"]})
    q = trained.predict_frame(same)["probability_1"].to_numpy()
    np.testing.assert_allclose(q[:3], q[0], atol=1e-5)
    alone = trained.predict_frame(same.iloc[[1]])["probability_1"].to_numpy()
    np.testing.assert_allclose(alone, q[1], atol=1e-5)
    trained.save(tmp_path / "m")
    again = TrainedModel.load(tmp_path / "m").predict_frame(test)["probability_1"].to_numpy()
    np.testing.assert_allclose(again, p, atol=1e-6)


def test_a_multilabel_network_learns_from_measured_labels_and_blends_with_per_label_trees():
    train, test = frame(240, 2), frame(120, 3)

    def labels(df: pd.DataFrame, seed: int) -> np.ndarray:
        y = np.column_stack([df["label"], [int("c1" in s) for s in df["smiles"]]]).astype(float)
        y[np.random.default_rng(seed).random(y.shape) < 0.3] = np.nan  # a third of the labels unmeasured
        return y

    y_train, y_test = labels(train, 0), labels(test, 1)
    smiles = {"kind": "smiles", "column": "smiles", "radius": 2, "n_bits": 256, "descriptors": "none"}
    gnn = recipes.Candidate("g", "gnn", GRAPH, SMALL, "", 1.0)
    trees = recipes.Candidate("t", "gbm", {"blocks": [smiles]},
                              {"kind": "per_label", "base": {"kind": "lgbm", "max_rounds": 50}}, "", 1.0)
    blend = recipes.blend(trees, gnn)
    assert blend is not None and blend.model["kind"] == "ensemble"
    assert blend.model["member_blocks"] == [[0], [1]]  # each member reads its own block
    for spec, rep in ((SMALL, GRAPH), (blend.model, blend.representation)):
        f = build_featurizer(rep)
        model = build_model(spec, task_type="multilabel", seed=0)
        model.fit(f.fit_transform(train), y_train, log=quiet)
        p = model.predict_proba(f.transform(test))
        assert p.shape == (len(test), 2) and np.isfinite(p).all()
        for j in range(2):
            m = ~np.isnan(y_test[:, j])
            assert auroc(y_test[m, j], p[m, j]) > 0.9, (spec["kind"], j)


def test_smiles_plans_draft_the_graph_network_third_and_multilabel_plans_keep_it_one_network():
    profile = recipes.DataProfile(task_type="binary", n_rows=5000, n_classes=2, smiles_columns=["smiles"])
    names = [c.name for c in recipes.plan(profile)]
    assert names[:3] == ["morgan_descriptors_lgbm", recipes.FLOOR, recipes.GRAPH_NET]
    assert names.index("morgan_descriptors_lgbm" + recipes.WITH_STRINGS) == 3
    gnn = recipes.plan(profile)[2]
    assert gnn.family == "gnn" and gnn.representation == GRAPH and "use_flat" not in gnn.model
    assert recipes.bag(gnn) is not None and recipes.cheaper(gnn).model["epochs"] < gnn.model["epochs"]
    multi = recipes.plan(recipes.DataProfile(task_type="multilabel", n_rows=5000, n_classes=None,
                                             smiles_columns=["smiles"], n_labels=12))
    net = next(c for c in multi if c.name.startswith(recipes.GRAPH_NET))
    assert net.name == recipes.GRAPH_NET + "_multitask" and net.model["kind"] == "mpnn"
    with_numbers = recipes.plan(recipes.DataProfile(task_type="regression", n_rows=500, n_classes=None,
                                                    smiles_columns=["smiles"], numeric_columns=["dose"]))
    gnn = next(c for c in with_numbers if c.name == recipes.GRAPH_NET)
    kinds = [b["kind"] for b in gnn.representation["blocks"]]
    assert gnn.model["use_flat"] and kinds == ["molgraph", "tabular"]


def test_a_bond_receives_messages_from_its_source_atoms_other_bonds_only():
    import torch

    from omicsagent.ml.models.nets import MPNNet

    torch.manual_seed(0)
    kw = dict(atom_features=ATOM_FEATURES, bond_features=BOND_FEATURES, n_flat=0, hidden=16, dropout=0.0,
              n_out=1)
    shallow, deep = MPNNet(depth=1, **kw).eval(), MPNNet(depth=4, **kw).eval()
    deep.load_state_dict(shallow.state_dict())

    def out(net, smiles: list[str]) -> np.ndarray:
        g = collate([mol_graph(Chem.MolFromSmiles(s)) for s in smiles])
        with torch.no_grad():
            return net({k: torch.from_numpy(np.asarray(v)) for k, v in g.items()}).numpy()[:, 0]

    # in a two-atom molecule a bond's source has no other bond: passing messages changes nothing...
    np.testing.assert_allclose(out(deep, ["CO", "C#N"]), out(shallow, ["CO", "C#N"]), atol=1e-6)
    # ...while in a longer chain the neighbours' bonds reach it
    assert not np.allclose(out(deep, ["CCO"]), out(shallow, ["CCO"]), atol=1e-4)
