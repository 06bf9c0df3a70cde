"""District names as sources spell them, mapped onto Copenhagen's ten official district numbers."""

import pandas as pd
import pytest
from barometer.config import load_districts
from barometer.config.districts import normalise_name

DISTRICTS = load_districts("101")


def test_the_ten_official_districts_come_from_the_city_map():
    assert DISTRICTS.names == {
        1: "Indre By",
        2: "Østerbro",
        3: "Nørrebro",
        4: "Vesterbro-Kongens Enghave",
        5: "Valby",
        6: "Vanløse",
        7: "Brønshøj-Husum",
        8: "Bispebjerg",
        9: "Amager Øst",
        10: "Amager Vest",
    }


@pytest.mark.parametrize(
    "spelling, number",
    [
        ("Vesterbro/Kgs. Enghave", 4),
        ("AMAGER VEST ", 10),
        ("Brønshøj-Husum", 7),
        ("ØSTERBRO", 2),
        ("Vesterbro-Kongens Enghave", 4),
        ("vesterbro / kgs enghave", 4),
        ("Brønshøj/Husum", 7),
        ("  indre  by", 1),
        ("Amager Øst", 9),
        ("nørrebro", 3),
        ("Christianshavn", 1),
        ("Husum", 7),
    ],
)
def test_spellings_map_to_the_official_number(spelling, number):
    assert DISTRICTS.to_numbers(pd.Series([spelling])).tolist() == [number]


def test_unknown_and_empty_names_give_missing_numbers_in_place():
    names = pd.Series(["Frederiksberg", "Valby", "", "   ", None], index=[10, 11, 12, 13, 14])
    numbers = DISTRICTS.to_numbers(names)
    assert str(numbers.dtype) == "Int64"
    assert numbers.index.tolist() == [10, 11, 12, 13, 14]
    assert numbers.isna().tolist() == [True, False, True, True, True]
    assert numbers[11] == 5


def test_normalised_names_fold_case_punctuation_spacing_and_abbreviation():
    assert normalise_name(" Vesterbro/Kgs. Enghave ") == "vesterbro kongens enghave"
    assert normalise_name("BRØNSHØJ - HUSUM") == "brønshøj husum"


def test_area_codes_carry_the_municipality_code():
    assert DISTRICTS.area_code(4) == "101-04"
    assert load_districts("147").area_code(10) == "147-10"


def test_a_municipality_without_a_district_map_has_no_districts_and_maps_no_name():
    frederiksberg = load_districts("147")
    assert frederiksberg.names == {}
    numbers = frederiksberg.to_numbers(pd.Series(["Vesterbro", "Nørrebro", None]))  # Copenhagen's spellings too
    assert str(numbers.dtype) == "Int64" and numbers.isna().all()


def test_a_district_map_named_by_the_pattern_is_read(tmp_path, monkeypatch):
    import json

    from barometer.config import districts

    features = [
        {"type": "Feature", "properties": {"bydel_nr": n, "navn": name}} for n, name in [(1, "Midtbyen"), (2, "Syd")]
    ]
    (tmp_path / "districts_751.geojson").write_text(json.dumps({"features": features}), encoding="utf-8")
    monkeypatch.setattr(districts, "CONFIG_DIR", tmp_path)
    load_districts.cache_clear()
    try:
        aarhus = load_districts("751")
        assert aarhus.names == {1: "Midtbyen", 2: "Syd"}
        assert aarhus.to_numbers(pd.Series(["MIDTBYEN", "syd", "Vesterbro"])).tolist() == [1, 2, pd.NA]
        assert districts.district_map("101").name == "copenhagen_districts.geojson"
    finally:
        load_districts.cache_clear()
