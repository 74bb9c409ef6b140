"""Fast unit logic of the team: terms, memory classification, expert planning, checks, problems, executor."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from omicsagent.errors import ConfigError, InputError
from omicsagent.expression.pp.converters import trait_converter
from omicsagent.expression.team.brain import PlanContext, Review, TaskInfo, UnitContext, UnitView
from omicsagent.expression.team.checks import CheckContext, run_checks
from omicsagent.expression.team.executor import ProcessExecutor, SerialExecutor
from omicsagent.expression.team.expert import ExpertBrain, read_params, render
from omicsagent.expression.team.guideline import load_guidelines
from omicsagent.expression.team.memory import CodeMemory, classify_reuse, code_sha
from omicsagent.expression.team.problems import discover_cohorts, load_problems
from omicsagent.expression.team.roles import build_brains
from omicsagent.expression.team.terms import (
    TermSet,
    find_trait_rows,
    match_cohorts,
    mentions,
    row_names_trait,
    trait_terms,
)

GUIDES = load_guidelines()


def test_terms_match_names_loosely_and_abbreviations_strictly():
    terms = TermSet("Alzheimers_Disease", ["Alzheimers Disease"], ["AD"])
    assert mentions("diagnosis: Alzheimer's disease", terms) == ["Alzheimers Disease"]
    assert mentions("AD patient 3", terms) == ["AD"]
    assert mentions("fed ad libitum", terms) == [] and mentions("ADVANCED", terms) == []
    synonyms = trait_terms(
        "Renal_Cell_Carcinoma",
        synonyms={"Renal Cell Carcinoma": ["RCC", "kidney cancer"]},
        use_knowledge=False,
    )
    assert synonyms.abbreviations == ["RCC"] and "kidney cancer" in synonyms.names
    rows = {"0": ["gender: F", "gender: M"], "2": ["diagnosis: RCC", "diagnosis: healthy control"]}
    hit = find_trait_rows(rows, "Renal_Cell_Carcinoma", synonyms)[0]
    assert hit.key == "2" and hit.terms == ["RCC"] and hit.classes == 2


def test_a_row_read_through_yes_no_alone_is_not_about_the_trait():
    terms = TermSet("Crohns_Disease", ["Crohns Disease"], [])
    conv = trait_converter("Crohns_Disease")
    ok, why = row_names_trait(["smoking status: yes", "smoking status: no"], conv, "Crohns_Disease", terms)
    assert not ok and "yes/positive" in why
    assert row_names_trait(["disease: patient", "disease: control"], conv, "Crohns_Disease", terms)[0]
    assert row_names_trait(["Crohn's disease 1", "healthy 2"], conv, "Crohns_Disease", terms)[0]


def test_tcga_cohorts_match_by_name_or_code_not_by_generic_words():
    names = ["TCGA_Bile_Duct_Cancer_(CHOL)", "TCGA_Large_Bcell_Lymphoma_(DLBC)"]
    assert [m.name for m in match_cohorts(names, ["Large B-cell Lymphoma"])] == [names[1]]
    assert [m.name for m in match_cohorts(names, ["Bile Duct Cancer"])] == [names[0]]
    assert match_cohorts(names, ["Colorectal Cancer"]) == []
    assert match_cohorts(names, ["Cholangiocarcinoma", "CHOL"])[0].how.startswith("the cohort code CHOL")


def test_reuse_is_judged_from_the_code_not_claimed(tmp_path):
    mem = CodeMemory(tmp_path / "mem")
    code = render("geo", "load")
    entry = mem.store("geo", "load", code, approval={"trait": "T", "cohort": "GSE1"})
    mem.store("geo", "load", code, approval={"trait": "T", "cohort": "GSE2"})
    offers = mem.offers("geo", "load")
    assert len(offers) == 1 and offers[0].cohorts == ["T/GSE1", "T/GSE2"] and entry.sha == code_sha(code)
    assert classify_reuse(code, offers, None) == ("as_is", entry.sha)
    changed = render("geo", "load", {"include_sample_fields": True})
    assert classify_reuse(changed, offers, entry.sha) == ("adapted", entry.sha)
    assert classify_reuse(changed, offers, None) == ("new", None)  # not said where it came from
    assert classify_reuse("print('hello')", offers, entry.sha) == ("new", None)  # too far from it
    assert read_params(changed) == {"include_sample_fields": True}
    assert mem.clear("geo") == 1 and mem.entries() == []


def _plan(outputs, last, nxt, backtracks=2):
    units = [UnitView(u.name, u.title, u.optional, "approved" if u.name in outputs else "pending")
             for u in GUIDES["geo"].units]
    return PlanContext(role="geo", task=TaskInfo("cohort", "T", "GSE1"), guideline=GUIDES["geo"], units=units,
                       next_unit=nxt, last_unit=last, outputs=outputs, backtracks_left=backtracks, history=[])


def test_expert_planning():
    brain = ExpertBrain("geo")
    assert brain.decide(_plan({}, None, "load")).action == "advance"
    no_trait = {"load": {}, "clinical_features": {"trait_row": None, "is_gene_available": True,
                                                  "used_sample_fields": False}}
    d = brain.decide(_plan(no_trait, "clinical_features", "initial_filter"))
    assert (d.action, d.unit, d.directive) == ("back", "load", {"include_sample_fields": True})
    assert (
        brain.decide(_plan(no_trait, "clinical_features", "initial_filter", backtracks=0)).action == "advance"
    )
    symbols = {"gene_identifiers": {"requires_gene_mapping": False}}
    assert brain.decide(_plan(symbols, "gene_identifiers", "annotation")).action == "skip"
    stopped = {"initial_filter": {"stop": True, "record": {"note": "trait not found"}}}
    d = brain.decide(_plan(stopped, "initial_filter", "gene_identifiers"))
    assert d.action == "finish" and "trait not found" in d.reason


def test_expert_author_applies_review_patches_and_reuses_memory(tmp_path):
    brain = ExpertBrain("geo")
    unit = GUIDES["geo"].unit("clinical_features")
    mem = CodeMemory(tmp_path)
    mem.store("geo", "clinical_features", render("geo", "clinical_features"), approval={"cohort": "GSE0"})
    ctx = UnitContext(role="geo", task=TaskInfo("cohort", "T", "GSE1"), guideline=GUIDES["geo"], unit=unit,
                      round=1, max_rounds=3, outputs={}, offers=mem.offers("geo", "clinical_features"))
    first = brain.write(ctx)
    assert first.script == ctx.offers[0].code and first.based_on == ctx.offers[0].sha
    ctx.feedback = [Review(approved=False, patch={"trait_row": "2", "trait_case": ["rcc"]})]
    second = brain.write(ctx)
    assert read_params(second.script)["trait_row"] == "2" and second.based_on == ctx.offers[0].sha
    ctx.feedback = [Review(approved=False, suggestions=["something the expert cannot change"])]
    from omicsagent.errors import ModelMistake

    with pytest.raises(ModelMistake, match="no other way"):
        brain.write(ctx)


def test_checks_find_wrong_results(tmp_path):
    trait_dir = tmp_path / "artifacts" / "preprocess" / "T"
    (trait_dir / "gene_data").mkdir(parents=True)
    (trait_dir / "clinical_data").mkdir(parents=True)
    pd.DataFrame({"S1": [1.0, 2.0], "S2": [3.0, 4.0], "S3": [5.0, 6.0]}, index=["A", "B"]).to_csv(
        trait_dir / "gene_data" / "GSE1.csv")
    pd.DataFrame({"X1": [1.0], "X2": [0.0]}, index=["T"]).to_csv(trait_dir / "clinical_data" / "GSE1.csv")
    index = [f"S{i}" for i in range(1, 12)] + ["S1"]
    linked = pd.DataFrame({"T": [1.0] * 11 + [0.0], "A": range(12)}, index=index)
    linked.to_csv(trait_dir / "GSE1.csv")
    record = {"is_usable": True, "is_gene_available": True, "is_trait_available": True, "is_available": True,
              "is_biased": False, "has_age": True, "has_gender": False, "sample_size": 3, "note": ""}
    (trait_dir / "cohort_info.json").write_text(json.dumps({"GSE1": record}))
    ctx = CheckContext(
        role="geo",
        unit="link_and_save",
        output={"cohort_id": "GSE1", "record": record},
        trait="T",
        workspace=tmp_path,
        settings=GUIDES["geo"].settings,
        review=GUIDES["code_reviewer"].settings,
    )
    problems = run_checks(["unique_samples", "sample_overlap", "trait_classes", "record_consistent"], ctx)
    text = " | ".join(problems)
    assert "repeats samples ['S1']" in text  # a duplicated sample
    assert "0 of the 3 gene-table samples" in text  # IDs of the clinical table do not match
    assert "sample_size 3 but the linked table has 12 rows" in text and "has_age is True" in text
    assert "least common value 0 in 1 of 12" in text  # one control is not two classes with enough members


def test_problems_and_layout(tmp_path):
    (tmp_path / "t.json").write_text(
        json.dumps(
            {
                "Crohn's disease": {
                    "related_genes": ["NOD2"],
                    "conditions": ["Age", "sex", "Asthma", "Unknown_Trait"],
                },
                "Asthma": {"related_genes": [], "conditions": []},
            }
        )
    )
    ps = load_problems(tmp_path / "t.json", ["Crohns disease"])
    assert [(p.trait, p.condition) for p in ps.problems] == [
        ("Crohns_disease", None), ("Crohns_disease", "Age"), ("Crohns_disease", "Gender"),
        ("Crohns_disease", "Asthma")]
    assert ps.preprocess_traits == ["Asthma", "Crohns_disease"] and "Unknown_Trait" in ps.notes[0]
    with pytest.raises(InputError, match="does not list"):
        load_problems(tmp_path / "t.json", ["Gout"])
    (tmp_path / "bad.json").write_text('{"Asthma": ["x"]}')
    with pytest.raises(InputError, match="task_info.json format"):
        load_problems(tmp_path / "bad.json")
    (tmp_path / "in" / "geo" / "Asthma" / "GSE1").mkdir(parents=True)
    (tmp_path / "in" / "TCGA" / "TCGA_X_(X)").mkdir(parents=True)
    jobs, _ = discover_cohorts(tmp_path / "in", ["Asthma"])
    assert [(j.trait, j.folder, j.kind) for j in jobs] == [
        ("Asthma", "GSE1", "GEO"),
        ("Asthma", "TCGA", "TCGA"),
    ]
    with pytest.raises(InputError, match="neither GEO/ nor TCGA/"):
        discover_cohorts(tmp_path, ["Asthma"])


def test_role_config_is_validated(tmp_path):
    cfg = tmp_path / "roles.toml"
    cfg.write_text('[roles.pi]\nmodel = "openai:x"\n')
    with pytest.raises(ConfigError, match="no brain"):
        build_brains(brain="llm", guides=GUIDES, config=cfg)
    cfg.write_text('[roles.geo]\napi_key = "sk-123"\n')
    with pytest.raises(ConfigError, match="keep keys out"):
        build_brains(brain="llm", guides=GUIDES, config=cfg)
    cfg.write_text('[roles.geo]\nbrain = "expert"\n[roles.code_reviewer]\nbrain = "expert"\n')
    with pytest.raises(ConfigError, match="No LLM model"):
        build_brains(brain="llm", guides=GUIDES, config=cfg)
    assert {b.name for b in build_brains(brain="expert", guides=GUIDES).values()} == {"expert"}


def _square(x, emit):
    emit("note", message=f"squared {x}")
    return x * x


def _collect(executor) -> tuple[dict, list]:
    got, events = {}, []
    executor.run(_square, [1, 2, 3], lambda item, result: got.__setitem__(item, result),
                 lambda kind, **data: events.append(data["message"]))
    return got, sorted(events)


def test_serial_executor_reports_each_item_and_forwards_progress():
    # the process pool runs the same calls in spawned workers: exercised through `expr run --jobs 2`
    # (test_two_step.py, test_shared_cohorts.py), since a spawned worker cannot import a test module
    assert _collect(SerialExecutor()) == ({1: 1, 2: 4, 3: 9}, ["squared 1", "squared 2", "squared 3"])
    assert ProcessExecutor(0).jobs == 1


def test_links_left_in_a_workspace_are_found(tmp_path):
    from omicsagent.expression.team.loop import workspace_links

    (tmp_path / "artifacts" / "preprocess").mkdir(parents=True)
    (tmp_path / "scratch").mkdir()
    (tmp_path / "artifacts" / "preprocess" / "ok.csv").write_text("a\n")
    assert workspace_links(tmp_path) == []
    (tmp_path / "artifacts" / "preprocess" / "x.csv").symlink_to("/etc/hostname")
    assert workspace_links(tmp_path) == ["artifacts/preprocess/x.csv"]
