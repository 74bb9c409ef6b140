from __future__ import annotations

import math

import pytest

from omicsagent.expression.pp.converters import convert_age, convert_gender, split_cell, trait_converter


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("gender: F", 0.0),
        ("Gender:M", 1.0),
        ("sex: female", 0.0),
        ("Sex: Female", 0.0),
        ("sex: FEMALE", 0.0),
        ("gender: Male", 1.0),
        ("Sex: W", 0.0),
        ("plec: K", None),
        ("sex: K", 0.0),
        ("gender: unknown", None),
        ("sex: NA", None),
        ("sex: --", None),
        ("sex: mix of male and female", None),
        ("age: 45", None),
        ("tissue: female breast", None),
        ("F", 0.0),
        ("male", 1.0),
        (float("nan"), None),
        ("", None),
    ],
)
def test_gender(cell, expected):
    assert convert_gender(cell) == expected


def test_gender_inverted_codings():
    assert convert_gender("sex (female=1, male=0): 1") == 0.0
    assert convert_gender("sex (female=1, male=0): 0") == 1.0
    assert convert_gender("gender: F", inverted=True) == 1.0


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("age: 45", 45.0),
        ("Age:22", 22.0),
        ("age: 45y", 45.0),
        ("age: 45 years", 45.0),
        ("age (yrs): 11.24", 11.24),
        ("age (months): 30", 2.5),
        ("age: 6 months", 0.5),
        ("age: 40-50", 45.0),
        ("age: 40 <= age < 50", 45.0),
        ("age: >89", 89.0),
        ("age: unknown", None),
        ("stage: 2", None),
        ("gender: M", None),
        ("45", 45.0),
        ("age at diagnosis: 61", 61.0),
    ],
)
def test_age(cell, expected):
    got = convert_age(cell)
    assert (got is None and expected is None) or math.isclose(got, expected)


def test_age_units_and_range_policy():
    assert convert_age("age: 104 weeks", unit="weeks") == pytest.approx(104 / 52.1775)
    assert convert_age("age: 40-50", ranges="none") is None


def test_split_cell_uses_first_colon():
    assert split_cell("time: 10:30") == ("time", "10:30")
    assert split_cell("no key here") == (None, "no key here")


def test_trait_converter_checks_control_first():
    conv = trait_converter("Colorectal_Cancer")
    assert conv("disease state: healthy control") == 0.0
    assert conv("tissue: adjacent non-tumor") == 0.0
    assert conv("disease: colorectal adenocarcinoma") == 1.0  # the trait's own word
    assert conv("3335M patient\u2019s mucosa") == 1.0
    assert conv("NM14 healthy control") == 0.0
    assert conv("tissue: normal mucosa") == 0.0  # "no" must not match "normal" as a case word
    assert conv("cell line: HeLa") is None
    custom = trait_converter("X", case=["treated"], control=["vehicle"])
    assert custom("agent: treated") == 1.0 and custom("agent: vehicle") == 0.0 and custom("agent: x") is None
    keyed = trait_converter("X", key="status")
    assert keyed("status: control") == 0.0 and keyed("group: control") is None
    assert trait_converter("BMI", continuous=True)("bmi: 31.5") == 31.5
