"""Phones, CNICs and search terms: pure rules, no database."""

import pytest

from operations.directory.customers import normalise_cnic, normalise_phone


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("0300-1234567", "+923001234567"),
        ("03001234567", "+923001234567"),
        ("0300 1234567", "+923001234567"),
        ("+92 300 1234567", "+923001234567"),
        ("+92-300-1234567", "+923001234567"),
        ("+92 (300) 123-4567", "+923001234567"),
        ("923001234567", "+923001234567"),
        ("00923001234567", "+923001234567"),
        ("0092 300 1234567", "+923001234567"),
        ("3001234567", "+923001234567"),
        ("  0321.7654321 ", "+923217654321"),
        ("+923001234567", "+923001234567"),
        ("042-35761234", "+924235761234"),  # a Lahore landline
        ("+92 42 3576 1234", "+924235761234"),
        ("0544-123456", "+92544123456"),  # a smaller city's landline, nine digits after 92
        ("+44 20 7946 0958", "+442079460958"),  # another country, with its +
        ("0044 20 7946 0958", "+442079460958"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("+971 50 123 4567", "+971501234567"),
    ],
)
def test_a_phone_in_any_common_form_is_kept_in_e164(typed, kept):
    assert normalise_phone(typed) == kept


@pytest.mark.parametrize(
    "nonsense",
    [
        "",
        "   ",
        "hello",
        "0300-12345",  # a mobile one digit short
        "0300-123456789",  # too long
        "+92 300 12345678",
        "92300123",
        "1234567",  # no prefix and not ours
        "+0 300 1234567",
        "+12",  # too short for E.164
        "+1234567890123456",  # longer than E.164 allows
        "0300-1234567 ext 5",
        "０３００１２３４５６７",  # full-width digits
        "+92 0300 1234567",  # the trunk 0 after the country code
        "+",
    ],
)
def test_nonsense_is_not_a_phone(nonsense):
    assert normalise_phone(nonsense) is None


def test_none_is_no_phone():
    assert normalise_phone(None) is None


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("35202-1234567-1", "35202-1234567-1"),
        ("3520212345671", "35202-1234567-1"),
        (" 35202-12345671 ", "35202-1234567-1"),
    ],
)
def test_a_cnic_is_kept_with_its_dashes(typed, kept):
    assert normalise_cnic(typed) == kept


@pytest.mark.parametrize("nonsense", ["35202-123456-1", "352021234567", "35202-1234567-12", "abcde-fghijkl-m", ""])
def test_a_cnic_is_13_digits(nonsense):
    assert normalise_cnic(nonsense) is None
