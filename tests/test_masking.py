"""Customer contact details never appear whole in reprs, error messages or logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow import (
    ConcurrencyConflict,
    Contact,
    Customer,
    CustomerNotFound,
    DuplicateEntity,
    MemoryStore,
    PermissionDenied,
    SupportDesk,
    SupportflowError,
    ValidationFailed,
    retry_on_conflict,
)
from supportflow.masking import mask_email, mask_emails, mask_handle, mask_phone
from supportflow.testing import FixedClock

emails = st.emails().filter(lambda e: len(e) <= 320)
phones = st.builds(
    lambda country, groups: f"+{country} " + " ".join(groups),
    st.integers(1, 999),
    st.lists(st.text("0123456789", min_size=2, max_size=4), min_size=2, max_size=4),
).filter(lambda p: sum(c.isdigit() for c in p) >= 6 and len(p) <= 50)
handles = st.from_regex(r"@[a-z][a-z0-9_]{3,30}", fullmatch=True)


def digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def assert_hidden(text: str, contact: Contact) -> None:
    """Neither the email, the phone (as written or as bare digits) nor the handle is in text."""
    for value in (contact.email, contact.phone, contact.handle):
        if value is not None:
            assert value not in text
    if contact.phone is not None:
        assert digits(contact.phone) not in digits(text)


# -- the masking functions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("ann.lee@example.com", "a***@e***.com"),
        ("li@mail.example.cn", "l***@m***.cn"),
        ("x@localhost", "x***@l***"),
        ("@example.com", "***@e***.com"),
        ("not-an-email", "n***"),
    ],
)
def test_mask_email_keeps_the_first_letters_and_the_top_level_domain(
    value: str, masked: str
) -> None:
    assert mask_email(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("+86 21 5555 0142", "***42"), ("(555) 010-0199 ext. 7", "***97"), ("123", "***")],
)
def test_mask_phone_keeps_only_the_last_two_digits(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


def test_mask_handle_keeps_the_first_character() -> None:
    assert (mask_handle("@mrossi"), mask_handle("wechat_li"), mask_handle("@")) == (
        "@m***",
        "w***",
        "@***",
    )


def test_mask_emails_masks_every_address_in_a_text() -> None:
    text = "from ann.lee@example.com to <bo@corp.example.org>; no other change"
    assert mask_emails(text) == "from a***@e***.com to <b***@c***.org>; no other change"


# -- reprs ---------------------------------------------------------------------------------


@settings(max_examples=200)
@given(email=st.none() | emails, phone=st.none() | phones, handle=st.none() | handles)
def test_contact_and_customer_reprs_hide_every_contact_detail(
    email: str | None, phone: str | None, handle: str | None
) -> None:
    contact = Contact(email=email, phone=phone, handle=handle)
    customer = Customer(id="c-1", name="Ann Lee", contact=contact)
    for shown in (repr(contact), str(contact), repr(customer), str(customer)):
        assert_hidden(shown, contact)


@given(email=emails, phone=phones, handle=handles)
def test_dumps_keep_contact_details_whole(email: str, phone: str, handle: str) -> None:
    customer = Customer(
        id="c-1", name="Ann", contact={"email": email, "phone": phone, "handle": handle}
    )
    assert customer.model_dump()["contact"] == {"email": email, "phone": phone, "handle": handle}
    assert Customer.model_validate_json(customer.model_dump_json()) == customer


# -- error messages ------------------------------------------------------------------------


@given(email=emails)
def test_a_refused_email_is_not_echoed(email: str) -> None:
    """Contacts are not checked beyond their length (a CRM holds what customers gave it),
    and a refusal names the field and the limit, never the value."""
    too_long = email + "x" * 320
    with pytest.raises(ValidationFailed) as caught:
        Customer(id="c-1", name="Ann", contact={"email": too_long})
    assert caught.value.field == "contact.email"
    assert email not in str(caught.value)


@given(phone=phones)
def test_a_refused_phone_is_not_echoed(phone: str) -> None:
    too_long = phone + " ext " + "1" * 60
    with pytest.raises(ValidationFailed) as caught:
        Contact(phone=too_long)
    assert caught.value.field == "phone"
    assert phone not in str(caught.value)


def test_contacts_hold_what_the_crm_gave() -> None:
    contact = Contact(email="ann at example dot com", phone="call after 5pm")
    assert contact.model_dump()["phone"] == "call after 5pm"


@pytest.mark.parametrize(
    "phone", ["+86 21 5555 0142", "(555) 010-0199", "+1 555 010 0199 ext. 12", "0142/555 01"]
)
def test_written_phone_numbers_are_accepted(phone: str) -> None:
    assert Contact(phone=phone).phone == phone


@given(email=emails)
def test_permission_denied_masks_an_actor_that_is_an_email(email: str) -> None:
    error = PermissionDenied(email, "resolve", f"{email} holds no relation to the ticket")
    assert error.actor == email  # kept whole for the program, masked for people
    assert email not in str(error)
    assert email not in repr(error)


def test_a_desk_refusal_about_a_customer_shows_no_contact_details() -> None:
    desk = SupportDesk(MemoryStore(), clock=FixedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    contact = Contact(email="ann.lee@example.com", phone="+86 21 5555 0142", handle="@annlee")
    desk.add_customer(Customer(id="c-1", name="Ann", contact=contact))
    refusals: list[Exception] = []
    for call in (
        lambda: desk.add_customer(Customer(id="c-1", name="Ann", contact=contact)),
        lambda: desk.add_customer(
            {"id": "c-2", "name": "Bo", "contact": {"email": "ann.lee@" + "x" * 320}}
        ),
        lambda: desk.add_customer(
            {"id": "c-2", "name": "Bo", "contact": {"phone": "+86 21 5555 0142" * 4}}
        ),
    ):
        with pytest.raises(SupportflowError) as caught:
            call()
        refusals.append(caught.value)
    for error in refusals:
        assert_hidden(f"{error} {error!r}", contact)


# -- logs ----------------------------------------------------------------------------------


def test_logged_records_hold_no_contact_details(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="supportflow")
    desk = SupportDesk(MemoryStore(), clock=FixedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    contact = Contact(email="ann.lee@example.com", phone="+86 21 5555 0142", handle="@annlee")
    desk.add_customer(Customer(id="c-1", name="Ann", contact=contact))
    for _ in range(2):  # the second delivery is a repeat, which is logged
        ticket = desk.intake(
            channel="email",
            customer_id="c-1",
            external_id="<ann.lee@example.com/1>",
            body="Write to ann.lee@example.com or call +86 21 5555 0142",
        )
    tries = iter([ConcurrencyConflict("ticket", ticket.id, 1, 2)])

    def flaky() -> str:
        for error in tries:
            raise error
        return "done"

    assert retry_on_conflict(flaky, sleep=lambda _s: None) == "done"
    messages = [record.getMessage() for record in caplog.records]
    assert any("repeated email delivery" in m for m in messages)
    assert any("concurrency conflict" in m for m in messages)
    for message in messages:
        assert_hidden(message, contact)


@given(email=emails)
def test_every_error_message_masks_an_email_shaped_id(email: str) -> None:
    """A host may use email addresses as ids: no error shows one whole."""
    errors = [
        CustomerNotFound(email),
        DuplicateEntity("customer", email),
        ValidationFailed("customer_id", f"{email!r} is not stored"),
        ConcurrencyConflict("customer", email, 1, 2),
    ]
    for error in errors:
        assert email not in str(error)
        assert email not in repr(error)
    assert errors[0].object_id == email  # whole for the program
