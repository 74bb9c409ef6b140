"""The disease knowledge table: provenance, trait resolution, text matching, the build CLI."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from omicsagent.expression import knowledge as kn
from omicsagent.expression.knowledge.text import acronym_fits
from omicsagent.expression.pp.clinical import select_geo_features

REPO = Path(__file__).resolve().parents[2]
ONTOLOGY = REPO.parent / "shared" / "datasets" / "ontology" / "disease_ontology"


def test_table_states_source_and_licence():
    table = kn.load_table()
    assert "Disease Ontology" in table.meta["source"] and table.meta["license"].startswith("CC0 1.0")
    assert table.meta["data_version"].startswith("doid/releases/")
    assert len(table.terms) > 7000
    assert "CC0 1.0 Universal" in kn.license_path().read_text()
    notice = (kn.table_path().parent / "README.md").read_text()
    assert "CC0 1.0" in notice and "disease-ontology.org" in notice
    assert kn.table_path().stat().st_size < 2_000_000  # compact


@pytest.mark.parametrize(
    ("trait", "doid", "how"),
    [
        ("Alzheimers_Disease", "DOID:10652", "name"),  # GenoTEX spelling: apostrophe dropped
        ("Breast_Cancer", "DOID:1612", "name"),
        ("Type_2_Diabetes", "DOID:9352", "exact synonym"),
        ("Crohns_Disease", "DOID:8778", "name"),
        ("Sjögrens_Syndrome", "DOID:12894", "name"),  # accent and possessive
        ("COPD", "DOID:3083", "abbreviation"),
        ("Autism_spectrum_disorder_(ASD)", "DOID:0060041", "name"),
        ("acute myeloid leukaemia", "DOID:9119", "name"),  # British spelling made American
        ("Large_B-cell_Lymphoma", "DOID:0050745", "words of a longer name"),
        ("DOID:9256", "DOID:9256", "DOID"),
    ],
)
def test_traits_resolve(trait, doid, how):
    terms = kn.trait_terms(trait)
    assert terms.doids[0] == doid and terms.how == how and terms.resolved


def test_names_and_abbreviations_of_a_trait():
    t2d = kn.trait_terms("Type_2_Diabetes")
    assert "NIDDM" in t2d.abbreviations
    assert (
        "non-insulin-dependent diabetes mellitus" in t2d.names and t2d.canonical == "type 2 diabetes mellitus"
    )
    assert "ASD" in kn.trait_terms("Autism_spectrum_disorder_(ASD)").abbreviations
    breast = kn.trait_terms("Breast_Cancer")
    assert "mammary cancer" in breast.names and "triple-negative breast cancer" in breast.narrower
    unknown = kn.trait_terms("Blood_Type")
    assert not unknown.resolved and unknown.how == "not in the table" and unknown.names == ("Blood Type",)


def test_partial_resolutions_do_not_match_other_diseases():
    pkd = kn.trait_terms("Polycystic_Kidney_Disease")
    assert pkd.how == "contains a name" and "kidney disease" in pkd.partial and pkd.notes
    assert pkd.doids == ("DOID:557",) and not pkd.resolved and pkd.canonical == "Polycystic Kidney Disease"
    assert [m.text for m in kn.match_text(pkd, "chronic kidney disease") if m.is_trait] == []
    assert kn.classify_text(pkd, "autosomal polycystic kidney disease") == 1.0
    assert not kn.trait_terms("Mesothelioma").resolved  # one word is not stretched to "benign mesothelioma"


def test_acronym_rule():
    assert acronym_fits("CRC", "colorectal cancer") and acronym_fits("HCC", "hepatocellular carcinoma")
    assert acronym_fits("AD", "Alzheimer's disease") and acronym_fits("T2DM", "type 2 diabetes mellitus")
    assert acronym_fits("NSCLC", "non-small cell lung carcinoma") and acronym_fits(
        "MDS", "myelodysplastic syndrome"
    )
    assert not acronym_fits("CA", "colorectal cancer") and not acronym_fits("AC", "colorectal cancer")
    assert not acronym_fits("ALZ", "Alzheimer's disease") and not acronym_fits("A", "asthma")


@pytest.mark.parametrize(
    ("trait", "text", "found"),
    [
        ("Colorectal_Cancer", "CRC patient 12", "CRC"),
        ("Colorectal_Cancer", "tumour CRC12", "CRC12"),  # a sample number may follow 3+ letters
        ("Alzheimers_Disease", "AD_hippocampus_3", "AD"),
        ("Alzheimers_Disease", "diagnosis: Alzheimer disease", "Alzheimer disease"),
        ("Type_2_Diabetes", "islets, NIDDM donor", "NIDDM"),
        ("Type_2_Diabetes", "T2D islets", "T2D"),
        (
            "Type_2_Diabetes",
            "non-insulin-dependent diabetes mellitus",
            "non-insulin-dependent diabetes mellitus",
        ),
        ("Hepatocellular_Carcinoma", "hepatoma tissue", "hepatoma"),
        ("Renal_Cell_Carcinoma", "RCC, clear cell", "RCC"),
        ("Breast_Cancer", "Breast tumours", "Breast tumours"),
        ("Breast_Cancer", "invasive ductal carcinoma", "invasive ductal carcinoma"),
    ],
)
def test_match_text_finds_the_trait(trait, text, found):
    hits = [m for m in kn.match_text(trait, text) if m.is_trait]
    assert [m.text for m in hits] == [found]
    assert text[hits[0].start : hits[0].end] == found
    assert kn.classify_text(trait, text) == 1.0


ORDINARY = [
    "ADVANCED stage, head injury, ad libitum feeding",
    "adipose tissue from the abdomen; CD4+ T cells; PBMC",
    "Patient No. 3, RNA extracted with TRIzol, GAPDH normalised",
    "cardiac biopsy, DNA methylation, MACS sorted",
    "cancer cell line HeLa, treated with ADR for 24 h",
    "ACCRUE study sample; circulating cells; CA-125 high",
    "colon mucosa biopsy, age 45, female",
]


@pytest.mark.parametrize(
    "trait", ["Alzheimers_Disease", "Colorectal_Cancer", "Type_2_Diabetes", "COPD", "Asthma"]
)
def test_no_false_positives_on_ordinary_words(trait):
    for text in ORDINARY:
        assert not [m for m in kn.match_text(trait, text) if m.is_trait], (trait, text)
    assert kn.match_text(trait, "COLD EXPOSURE, HEAD AND NECK") == []  # all-caps words are not abbreviations


def test_control_cues_and_negation():
    assert kn.classify_text("Alzheimers_Disease", "non-demented control") == 0.0
    neg = kn.match_text("Alzheimers_Disease", "no AD, age-matched")
    assert [m.kind for m in neg if m.term == "AD"] == ["negated"]
    assert kn.classify_text("Type_2_Diabetes", "non-diabetic donor") == 0.0
    assert kn.classify_text("Colorectal_Cancer", "normal mucosa, healthy donor") == 0.0
    assert kn.classify_text("Colorectal_Cancer", "colon biopsy") is None
    assert kn.classify_text("Colorectal_Cancer", float("nan")) is None


def test_text_converter_and_scan_rows():
    rows = pd.DataFrame(
        [
            ["tissue: hippocampus"] * 4,
            ["AD: yes", "AD: no", "AD: yes", "AD: no"],
            ["AD brain 1", "NCI brain 2", "AD brain 3", "control brain 4"],
        ],
        index=[0, 1, "title"],
        columns=["GSM1", "GSM2", "GSM3", "GSM4"],
        dtype=object,
    )
    convert = kn.text_converter("Alzheimers_Disease")
    clinical = select_geo_features(rows, "Alzheimers_Disease", trait_row=1, trait_convert=convert)
    assert clinical.loc["Alzheimers_Disease"].tolist() == [1.0, 0.0, 1.0, 0.0]
    scans = kn.scan_rows("Alzheimers_Disease", rows)
    assert scans[0].key == 1 and scans[0].two_classes and scans[0].coverage == 1.0
    assert scans[0].case_terms == ("AD",) and scans[0].control_terms == ("no",)
    assert convert("AD: negative") == 0.0 and convert("Alzheimer disease: present") == 1.0
    title = next(s for s in scans if s.key == "title")
    assert (title.n_case, title.n_control, title.n_unknown) == (2, 1, 1) and title.case_terms == ("AD",)
    tissue = next(s for s in scans if s.key == 0)
    assert not tissue.two_classes and tissue.n_unknown == 4


OBO = """format-version: 1.2
data-version: doid/releases/2099-01-01/subsets/toy.obo

[Term]
id: DOID:1
name: frobnitz syndrome
synonym: "FBS" EXACT OMO:0003012 []
synonym: "frobnitz disease" EXACT []
synonym: "wide frobnitz" BROAD []
synonym: "GL - glorp lax" EXACT []
synonym: "ZQ - frobnitz pox" RELATED []

[Term]
id: DOID:2
name: juvenile frobnitz syndrome
is_a: DOID:1 ! frobnitz syndrome

[Term]
id: DOID:3
name: gone
is_obsolete: true
"""


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "omicsagent.expression.knowledge", *args],
        cwd=cwd,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_build_and_lookup_cli(tmp_path):
    (tmp_path / "obo").mkdir()
    (tmp_path / "obo" / "toy.obo.gz").write_bytes(gzip.compress(OBO.encode()))
    res = _cli("build", "--source", "obo", "--out", "table.json.gz", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "2 terms" in res.stdout and "CC0" in res.stdout
    data = json.loads(gzip.decompress((tmp_path / "table.json.gz").read_bytes()))
    one = data["terms"][0]
    assert one["id"] == "DOID:1" and one["exact"] == ["frobnitz disease", "glorp lax"]
    assert one["abbr"] == [["FBS", "acronym"], ["GL", "embedded"]]  # ZQ does not fit "frobnitz pox"
    assert one["related"] == ["frobnitz pox"] and "wide frobnitz" not in json.dumps(one)  # BROAD dropped
    assert data["data_version"] == "doid/releases/2099-01-01"
    res = _cli("lookup", "Frobnitz_Disease", "--table", "table.json.gz", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    found = json.loads(res.stdout)
    assert found["doids"] == ["DOID:1"] and found["how"] == "exact synonym"
    assert found["abbreviations"] == ["FBS", "GL"] and found["narrower"] == ["juvenile frobnitz syndrome"]
    res = _cli("match", "Colorectal_Cancer", "CRC patient 3", "healthy control 2", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.splitlines()[0].startswith("1\tCRC patient 3")
    assert res.stdout.splitlines()[1].startswith("0\thealthy control 2")
    bad = _cli("build", "--source", "missing", "--out", "x.json.gz", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "is not a folder" in bad.stderr
    assert not (tmp_path / "x.json.gz").exists()


@pytest.mark.datasets
def test_rebuild_from_the_shared_ontology_gives_the_shipped_table(tmp_path):
    if not ONTOLOGY.is_dir():
        pytest.skip(f"../shared/datasets not found: {ONTOLOGY} is missing")
    table = kn.build_table(ONTOLOGY)
    out = kn.write_table(table, tmp_path / "t.json.gz")
    assert out.read_bytes() == kn.table_path().read_bytes()


@pytest.mark.slow
def test_wheel_ships_table_licence_and_notice(tmp_path):
    src = tmp_path / "src"
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "src", src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q", "-w", "dist"],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    wheel = next((tmp_path / "dist").glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("disease_terms.json.gz", "disease_ontology.LICENSE.txt", "README.md"):
        assert f"omicsagent/expression/data/{name}" in names
