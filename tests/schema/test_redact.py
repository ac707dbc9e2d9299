"""Stable placeholders and the one replacement: by value, wherever and however it is written."""

from __future__ import annotations

from nesyflow.schema.redact import PLACEHOLDER, Redactor, Secret, placeholder, secrets_in

IBAN = "DE89370400440532013000"


def test_a_placeholder_names_the_kind_and_hides_the_value():
    mark = placeholder("bank", IBAN)
    assert PLACEHOLDER.fullmatch(mark) and mark.startswith("‹bank:") and "3704" not in mark
    assert placeholder("bank", "DE89 3704 0044 0532 0130 00") == mark
    assert placeholder("personal", IBAN) != mark  # the kind is part of it


def test_the_key_changes_every_tag(monkeypatch):
    before = placeholder("bank", IBAN)
    monkeypatch.setenv("NESYFLOW_MASK_KEY", "a secret of this deployment")
    assert placeholder("bank", IBAN) != before


def test_every_written_form_is_replaced():
    r = Redactor(
        [Secret("bank", IBAN), Secret("personal", 'Ann "Jo" Berg'), Secret("dob", "1990-05-01")]
    )
    text = (
        "to DE89 3704 0044 0532 0130 00 / de89370400440532013000; "
        'facts: employee_name(1,"Ann \\"Jo\\" Berg"). born 1990-05-01 = day 7425'
    )
    out = r.text(text)
    assert "3704" not in out and "Berg" not in out and "1990" not in out and "7425" not in out
    assert out.count(placeholder("bank", IBAN)) == 2


def test_a_value_inside_a_longer_word_or_number_is_left_alone():
    r = Redactor([Secret("personal", "Ann")])
    assert r.text("Anna and Ann") == f"Anna and {placeholder('personal', 'Ann')}"
    n = Redactor([Secret("pin", 1234)])
    assert n.text("12345 and 1234") == f"12345 and {placeholder('pin', 1234)}"
    assert n.data({"pin": 1234, "other": 12345}) == {
        "pin": placeholder("pin", 1234),
        "other": 12345,
    }


def test_data_masks_keys_and_nested_values_and_restore_gives_them_back():
    r = Redactor([Secret("bank", IBAN)])
    data = {"iban": IBAN, "lines": [{"note": f"pay {IBAN}"}], IBAN: 1}
    masked = r.data(data)
    assert IBAN not in repr(masked)
    assert r.restore(masked) == data


def test_secrets_are_found_at_their_classified_paths_in_lists_too():
    data = {"iban": IBAN, "lines": [{"payee": "Ann"}, {"payee": "Bo"}, {}], "none": None}
    found = secrets_in(data, {"iban": "bank", "lines[].payee": "personal", "none": "x"})
    assert found == [Secret("bank", IBAN), Secret("personal", "Ann"), Secret("personal", "Bo")]


def test_an_empty_redactor_changes_nothing():
    r = Redactor([])
    assert not r and r.text("DE89") == "DE89" and r.data({"a": 1}) == {"a": 1}
