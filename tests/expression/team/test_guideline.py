"""Guidelines are data: shipped per role, printable, editable, validated, and they change the result."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from omicsagent.errors import ConfigError
from omicsagent.expression.team.checks import CHECKS
from omicsagent.expression.team.guideline import ROLES, load_guidelines, parse_guideline, shipped_text

from . import cohorts
from .conftest import cli


def test_shipped_guidelines_follow_the_method():
    guides = load_guidelines()
    assert set(guides) == set(ROLES)
    assert guides["geo"].unit_names == ["load", "clinical_features", "initial_filter", "gene_identifiers",
                                        "annotation", "gene_mapping", "link_and_save"]  # the 7 GEO steps
    assert [u.name for u in guides["geo"].units if u.optional] == ["annotation", "gene_mapping"]
    assert guides["tcga"].unit_names == [
        "select_cohort",
        "choose_columns",
        "clinical_features",
        "link_and_save",
    ]
    assert guides["statistician"].unit_names == ["select_cohorts", "regress"]
    clinical = guides["geo"].unit("clinical_features")
    assert clinical.reviewer == "domain_expert" and "trait_row" in clinical.produces
    assert guides["geo"].unit("gene_identifiers").produces["requires_gene_mapping"] == "bool"
    for g in guides.values():
        assert all(c in CHECKS for u in g.units for c in u.checks)
    # methodological choices live in the guideline
    assert (
        guides["geo"].settings["max_gene_missing"] == 0.2
        and guides["geo"].settings["log_transform"] == "never"
    )
    assert guides["statistician"].settings["penalty_grid"][0] == 1e-6
    assert guides["statistician"].settings["reference_compatible"] is False


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('role = "geo"', 'role = "chemist"'), "role"),
        (lambda t: t.replace("max_gene_missing = 0.2", "max_gene_missing = 2"), "max_gene_missing"),
        (lambda t: t.replace("log_transform = \"never\"", "log_transform = \"sometimes\""), "log_transform"),
        (lambda t: t.replace("max_gene_missing = 0.2", "max_gene_missings = 0.2"), "max_gene_missings"),
        (lambda t: t.replace('checks = ["symbol_fraction"]', 'checks = ["telepathy"]'), "telepathy"),
        (lambda t: t.replace('n_genes = "int"', 'n_genes = "integer"'), "integer"),
        (lambda t: t + "\n[[units]\n", "TOML"),
    ],
)
def test_bad_edits_are_one_sentence_config_errors(edit, message):
    with pytest.raises(ConfigError, match=message) as err:
        parse_guideline(edit(shipped_text("geo")), source="my-geo.toml")
    assert "\n" not in str(err.value)


def test_show_prints_the_shipped_file_and_a_bad_one_is_refused(tmp_path, team_env):
    res = cli("expr", "guideline", "show", "geo", cwd=tmp_path, env=team_env)
    assert res.returncode == 0 and res.stdout == shipped_text("geo")
    assert parse_guideline(res.stdout, source="stdout").unit_names == load_guidelines()["geo"].unit_names
    (tmp_path / "bad.toml").write_text(
        res.stdout.replace("max_sample_missing = 0.05", "max_sample_missing = -1")
    )
    cohorts.task_info(
        tmp_path / "task_info.json", {"Colorectal_Cancer": {"related_genes": [], "conditions": []}}
    )
    cohorts.geo_plain(tmp_path / "input" / "GEO" / "Colorectal_Cancer" / "GSE10", "GSE10")
    res = cli("expr", "run", "--problems", "task_info.json", "--cohorts", "input", "--out", "out",
              "--gene-info", "gene_info.gz", "--guideline", "bad.toml", cwd=tmp_path, env=team_env)
    assert res.returncode == 2, res.stderr
    assert "max_sample_missing" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr and not (tmp_path / "out").exists()  # nothing written
    res = cli("expr", "run", "--problems", "tasks.json", "--cohorts", "input", "--out", "out", cwd=tmp_path,
              env=team_env)
    assert res.returncode == 2 and "--problems" in res.stderr and not (tmp_path / "out").exists()
    res = cli("expr", "guideline", "show", "chemist", cwd=tmp_path, env=team_env)
    assert res.returncode == 2 and "roles are" in res.stderr


@pytest.mark.slow
def test_editing_a_guideline_changes_the_result_as_the_edit_says(tmp_path, team_env):
    """Three edits: stricter missing-value threshold, log2 of linear data, a one-value penalty grid."""
    cohorts.geo_plain(tmp_path / "input" / "GEO" / "Colorectal_Cancer" / "GSE20", "GSE20", linear=True,
                      nan_genes={"GENE10": 0.1})
    cohorts.task_info(tmp_path / "task_info.json",
                      {"Colorectal_Cancer": {"related_genes": ["GENE1", "GENE2"], "conditions": []}})
    geo = cli("expr", "guideline", "show", "geo", cwd=tmp_path, env=team_env).stdout
    (tmp_path / "my-geo.toml").write_text(geo.replace("max_gene_missing = 0.2", "max_gene_missing = 0.05")
                                          .replace('log_transform = "never"', 'log_transform = "if_linear"'))
    stat = cli("expr", "guideline", "show", "statistician", cwd=tmp_path, env=team_env).stdout
    (tmp_path / "my-stat.toml").write_text(
        stat.replace("penalty_grid = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]", "penalty_grid = [1e-6]")
    )
    common = [
        "--problems",
        "task_info.json",
        "--cohorts",
        "input",
        "--gene-info",
        "gene_info.gz",
        "--no-report",
    ]
    res = cli("expr", "run", *common, "--out", "default", cwd=tmp_path, env=team_env)
    assert res.returncode == 0, res.stderr
    res = cli("expr", "run", *common, "--out", "edited", "--guideline", "my-geo.toml", "--guideline",
              "my-stat.toml", cwd=tmp_path, env=team_env)
    assert res.returncode == 0, res.stderr

    def linked(out):
        return pd.read_csv(tmp_path / out / "preprocess" / "Colorectal_Cancer" / "GSE20.csv", index_col=0)

    def genes(out):
        return pd.read_csv(tmp_path / out / "preprocess" / "Colorectal_Cancer" / "gene_data" / "GSE20.csv",
                           index_col=0)

    def regress(out):
        path = tmp_path / out / "regress" / "Colorectal_Cancer" / "significant_genes_condition_None.json"
        return json.loads(path.read_text())

    # missing values: GENE10 is 9% missing, kept under 20%, dropped under 5%
    assert "GENE10" in linked("default").columns and "GENE10" not in linked("edited").columns
    # scale: values as deposited (2**x, median about 256) by default, log2(x + 1) when edited
    assert genes("default").loc["GENE20"].median() > 100
    assert genes("edited").loc["GENE20"].median() == pytest.approx(8.0, abs=1.0)
    # penalty grid: the only penalty of the edited grid is the one used, and it keeps more genes
    edited, default = regress("edited"), regress("default")
    assert edited["provenance"]["penalty"] == 1e-6 and default["provenance"]["penalty"] != 1e-6
    assert len(edited["significant_genes"]["Variable"]) > len(default["significant_genes"]["Variable"])
    journal = json.loads((tmp_path / "edited" / "team" / "journal.json").read_text())
    assert journal["settings"]["guidelines"]["geo"]["source"].endswith("my-geo.toml")
