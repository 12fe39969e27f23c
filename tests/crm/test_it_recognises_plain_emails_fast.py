"""The fast path for plain e-mail addresses must agree with email_validator on everything it accepts."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from app.crm.fields import _plain_email

LOCAL = st.text(alphabet="abcXYZ019.-_+!'", min_size=1, max_size=70)
LABEL = st.text(alphabet="abcz09-", min_size=1, max_size=12)
TLD = st.sampled_from(["com", "sa", "io", "test", "local", "arpa", "x", "c0m", "museum", "xn--p1ai"])


def _reference(address: str) -> str | None:
    try:
        return validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


@settings(max_examples=1500, deadline=None)
@given(local=LOCAL, labels=st.lists(LABEL, min_size=1, max_size=3), tld=TLD)
def test_it_accepts_only_what_email_validator_accepts_and_gives_the_same_result(
    local: str, labels: list[str], tld: str
) -> None:
    address = f"{local}@{'.'.join(labels)}.{tld}"

    fast = _plain_email(address)

    if fast is not None:
        assert fast == _reference(address), address


@pytest.mark.parametrize(
    "address",
    ["sara@example.com", "Sara.Al-Harbi@Store.SA", "o'neil+vip@mail.example.co", "c123@example.com"],
)
def test_common_addresses_take_the_fast_path(address: str) -> None:
    assert _plain_email(address) == address.lower() == _reference(address)


@pytest.mark.parametrize(
    "address",
    ["a..b@example.com", ".a@example.com", "a@-x.com", "a@x.test", "a@localhost", "سارة@example.com", "a@x.xn--p1ai"],
)
def test_unusual_addresses_go_to_email_validator(address: str) -> None:
    assert _plain_email(address) is None
