"""Tests for models.core.identifiers and the static data in models.seed.data."""

import pytest

from models.core.identifiers import (
    InvalidIdentifier,
    corporate_number_check_digit,
    identifier_kind,
    is_valid_corporate_number,
    is_valid_municipality_code,
    municipality_check_digit,
    normalize_digits,
    parse_corporate_number,
    parse_municipality_code,
)
from models.seed.data import CATEGORIES, MUNICIPALITIES, OPERATOR_ORG, TOKYO, Municipality

GOOD_MUNICIPALITY_CODES = [
    "130001",  # 東京都
    "131016",  # 千代田区
    "131130",  # 渋谷区
    "131237",  # 江戸川区
    "132012",  # 八王子市
    "132292",  # 西東京市
    "133035",  # 瑞穂町
    "133078",  # 檜原村
    "134023",  # 青ヶ島村
    "134210",  # 小笠原村
]

# Real 法人番号 as published on the NTA corporate number site.
GOOD_CORPORATE_NUMBERS = [
    "7000012050002",  # 国税庁 (National Tax Agency)
    "4000012090001",  # 経済産業省 (METI)
    "8000020130001",  # 東京都 (local governments: 000020 + municipality code)
    "1180301018771",  # トヨタ自動車株式会社
    "5010401067252",  # ソニーグループ株式会社
    "1130001011420",  # 任天堂株式会社
]

BAD_INPUTS = [
    None,
    "",
    " ",
    "-",
    "13000",
    "1300011",
    "13000a",
    "abcdef",
    "700001205000",
    "70000120500021",
    "700001205000X",
    "T7000012050002",  # invoice registration number, not a bare 法人番号
    "١٣٠٠٠١",  # Arabic-Indic digits: isdigit() but not ASCII
    "130001.0",
    130001,
    7000012050002,
    b"130001",
    ["130001"],
]


def _municipality_remainder(code: str) -> int:
    return sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2))) % 11


# --- municipality codes -----------------------------------------------------


@pytest.mark.parametrize("code", GOOD_MUNICIPALITY_CODES)
def test_known_municipality_codes_are_valid(code):
    assert is_valid_municipality_code(code)
    assert municipality_check_digit(code[:5]) == int(code[5])
    assert parse_municipality_code(code) == code
    assert identifier_kind(code) == "municipality"


def test_municipality_check_digit_examples():
    assert municipality_check_digit("13000") == 1
    assert municipality_check_digit("13101") == 6
    assert municipality_check_digit("13229") == 2
    # 小笠原村: s = 45, remainder 1 -> 11 - 1 = 10 -> last digit 0
    assert municipality_check_digit("13421") == 0


@pytest.mark.parametrize("code", GOOD_MUNICIPALITY_CODES)
def test_municipality_single_digit_substitutions(code):
    # Maths: changing d_i (i = 1..5, weight w_i in 2..6) by delta (1..9)
    # changes s by w_i * delta, which is never 0 mod 11 (11 is prime and both
    # factors are < 11), so the remainder r = s % 11 always changes.  But
    # check = (11 - r) % 10 maps r = 0 and r = 10 to the same digit 1, so a
    # substitution that moves r between 0 and 10 is NOT detected.  Every other
    # substitution is detected, and changing the check digit itself always is.
    # Example: Tokyo 130001 has r = 10; 130061 has r = 0 and also passes.
    undetected = 0
    for pos in range(6):
        for digit in "0123456789":
            if digit == code[pos]:
                continue
            corrupted = code[:pos] + digit + code[pos + 1 :]
            if pos == 5:
                assert not is_valid_municipality_code(corrupted), corrupted
                continue
            old_r = _municipality_remainder(code)
            new_r = _municipality_remainder(corrupted)
            assert new_r != old_r
            expected = {old_r, new_r} == {0, 10}
            assert is_valid_municipality_code(corrupted) is expected, corrupted
            undetected += expected
    # At most one substitution per position can hit the colliding remainder.
    assert undetected <= 5


def test_municipality_known_collision_is_documented():
    assert _municipality_remainder("130001") == 10
    assert _municipality_remainder("130061") == 0
    assert is_valid_municipality_code("130061")  # well-formed, not a real body


# --- corporate numbers ------------------------------------------------------


@pytest.mark.parametrize("number", GOOD_CORPORATE_NUMBERS)
def test_known_corporate_numbers_are_valid(number):
    assert is_valid_corporate_number(number)
    assert corporate_number_check_digit(number[1:]) == int(number[0])
    assert parse_corporate_number(number) == number
    assert identifier_kind(number) == "corporate"


def test_local_government_corporate_numbers_embed_municipality_code():
    # 法人番号 of a local government = check digit + "000020" + 6-digit code.
    assert corporate_number_check_digit("000020130001") == 8


@pytest.mark.parametrize("number", GOOD_CORPORATE_NUMBERS)
def test_corporate_single_digit_substitutions(number):
    # Maths: weights are 1 and 2, both coprime with 9, so changing a base
    # digit by delta changes the sum by w * delta, which is 0 mod 9 only when
    # delta is a multiple of 9, i.e. a 0 <-> 9 swap.  Those swaps are NOT
    # detected; every other substitution in the 12 base digits is.  The check
    # digit is fully determined by the base (and is never 0), so changing it
    # is always detected.
    for pos in range(13):
        for digit in "0123456789":
            if digit == number[pos]:
                continue
            corrupted = number[:pos] + digit + number[pos + 1 :]
            if pos == 0:
                assert not is_valid_corporate_number(corrupted), corrupted
                continue
            expected = {number[pos], digit} == {"0", "9"}
            assert is_valid_corporate_number(corrupted) is expected, corrupted


def test_corporate_zero_nine_swap_is_undetected():
    assert is_valid_corporate_number("7900012050002")  # NTA with a 0 -> 9


def test_corporate_check_digit_is_never_zero():
    assert not is_valid_corporate_number("0000012050002")
    for base in ("000000000000", "999999999999", "000012050002"):
        assert 1 <= corporate_number_check_digit(base) <= 9


# --- bad inputs and normalisation ------------------------------------------


@pytest.mark.parametrize("value", BAD_INPUTS)
def test_bad_inputs_fail(value):
    assert not is_valid_municipality_code(value)
    assert not is_valid_corporate_number(value)
    assert identifier_kind(value) is None
    with pytest.raises(InvalidIdentifier):
        parse_municipality_code(value)
    with pytest.raises(InvalidIdentifier):
        parse_corporate_number(value)


def test_invalid_identifier_is_value_error_with_english_message():
    with pytest.raises(ValueError, match="municipality code"):
        parse_municipality_code("130002")
    with pytest.raises(ValueError, match="corporate number"):
        parse_corporate_number("7000012050003")


@pytest.mark.parametrize("bad", ["1234", "123456", "1234a", "１２３４５", None])
def test_municipality_check_digit_rejects_malformed_input(bad):
    with pytest.raises(ValueError):
        municipality_check_digit(bad)


@pytest.mark.parametrize("bad", ["12345678901", "1234567890123", "12345678901a", None])
def test_corporate_check_digit_rejects_malformed_input(bad):
    with pytest.raises(ValueError):
        corporate_number_check_digit(bad)


def test_normalize_digits():
    assert normalize_digits("１３０００１") == "130001"
    assert normalize_digits(" 13-0001 ") == "130001"
    assert normalize_digits("7-0000-1205-0002") == "7000012050002"
    assert normalize_digits("７０００\u3000０１２０５０００２") == "7000012050002"
    assert normalize_digits("１３０－００１") == "130001"  # full-width hyphen
    assert normalize_digits("13a001") == "13a001"  # other characters are kept
    assert normalize_digits("") == ""


@pytest.mark.parametrize(
    ("raw", "kind", "canonical"),
    [
        ("１３１０１６", "municipality", "131016"),
        ("131-016", "municipality", "131016"),
        (" 130001\n", "municipality", "130001"),
        ("７００００１２０５０００２", "corporate", "7000012050002"),
        ("7-0000-1205-0002", "corporate", "7000012050002"),
        ("1180 3010 1877 1", "corporate", "1180301018771"),
    ],
)
def test_normalized_forms_are_accepted(raw, kind, canonical):
    assert identifier_kind(raw) == kind
    if kind == "municipality":
        assert is_valid_municipality_code(raw)
        assert parse_municipality_code(raw) == canonical
    else:
        assert is_valid_corporate_number(raw)
        assert parse_corporate_number(raw) == canonical


# --- seed data --------------------------------------------------------------


def test_tokyo_record():
    code, name_ja, name_en, kind = TOKYO
    assert (code, name_ja, name_en, kind) == (
        "130001",
        "東京都",
        "Tokyo Metropolitan Government",
        "prefecture",
    )
    assert is_valid_municipality_code(code)


def test_municipality_counts_by_kind():
    assert len(MUNICIPALITIES) == 62
    counts = {}
    for m in MUNICIPALITIES:
        counts[m.kind] = counts.get(m.kind, 0) + 1
    assert counts == {"ward": 23, "city": 26, "town": 5, "village": 8}


def test_municipality_codes_unique_and_valid():
    codes = [m.code for m in MUNICIPALITIES]
    assert len(set(codes)) == len(codes)
    assert TOKYO[0] not in codes
    for m in MUNICIPALITIES:
        assert isinstance(m, Municipality)
        assert is_valid_municipality_code(m.code), m
        assert m.code == parse_municipality_code(m.code)
        assert m.code.startswith("13"), m  # prefecture 13 = Tokyo


def test_municipality_names_present_and_consistent():
    suffix = {"ward": "区", "city": "市", "town": "町", "village": "村"}
    en_suffix = {"ward": " City", "city": " City", "town": " Town", "village": " Village"}
    names_ja = set()
    names_en = set()
    for m in MUNICIPALITIES:
        assert m.name_ja.strip() and m.name_en.strip(), m
        assert m.name_ja.endswith(suffix[m.kind]), m
        assert m.name_en.endswith(en_suffix[m.kind]), m
        names_ja.add(m.name_ja)
        names_en.add(m.name_en)
    assert len(names_ja) == 62
    assert len(names_en) == 62


def test_specific_municipalities():
    by_code = {m.code: m for m in MUNICIPALITIES}
    assert by_code["131016"] == Municipality("131016", "千代田区", "Chiyoda City", "ward")
    assert by_code["131237"].name_ja == "江戸川区"
    assert by_code["132012"] == Municipality("132012", "八王子市", "Hachioji City", "city")
    assert by_code["132292"].name_ja == "西東京市"
    assert by_code["133035"].name_en == "Mizuho Town"
    assert by_code["133078"].name_en == "Hinohara Village"
    assert by_code["134210"].name_ja == "小笠原村"


def test_municipality_is_frozen_and_unpackable():
    m = MUNICIPALITIES[0]
    with pytest.raises(AttributeError):
        m.code = "000000"  # type: ignore[misc]
    code, name_ja, name_en, kind = m
    assert (code, name_ja, name_en, kind) == (m.code, m.name_ja, m.name_en, m.kind)


def test_categories():
    slugs = [slug for slug, _, _ in CATEGORIES]
    assert len(CATEGORIES) == 10
    assert len(set(slugs)) == len(slugs)
    for slug, name_ja, name_en in CATEGORIES:
        assert slug and slug == slug.lower() and " " not in slug
        assert name_ja.strip() and name_en.strip()
    assert slugs[0] == "childcare"
    assert "internal-operations" in slugs


def test_operator_org():
    name_ja, name_en = OPERATOR_ORG
    assert name_ja == "Kyoso 運営事務局"
    assert name_en == "Kyoso Platform Operations"
