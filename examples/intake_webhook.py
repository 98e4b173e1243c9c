"""A host's webhook endpoint that turns channel deliveries into tickets, exactly once.

The channels (a mail gateway, a chat widget, a social-media listener, the web form) POST a
JSON delivery to the host. Gateways retry when they do not hear back in time, so the same
delivery can arrive twice or more. The handler passes each delivery's own id as
``external_id``: supportflow returns the ticket made the first time, and a retry gets the
same answer as the original. Customers the host has not seen yet are added on the fly.

Run it with ``python examples/intake_webhook.py``.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from typing import Any

from supportflow import (
    CustomerNotFound,
    DuplicateEntity,
    MemoryStore,
    SupportDesk,
    SupportflowError,
    ValidationFailed,
)

DELIVERIES = [
    '{"channel": "email", "delivery_id": "<5521@mail.acme.example>",'
    ' "customer": {"id": "acme", "name": "Acme Logistics", "email": "it@acme.example"},'
    ' "subject": "Cannot log in", "text": "Since the reset none of us can log in.",'
    ' "received_at": "2026-03-02T08:02:00+00:00"}',
    '{"channel": "chat", "delivery_id": "chat-77840",'
    ' "customer": {"id": "chen", "name": "陈静"},'
    ' "text": "我换了手机号，怎么修改账户绑定的号码？",'
    ' "received_at": "2026-03-02T16:45:00+08:00"}',
    # The mail gateway timed out waiting for our answer and sent the email again.
    '{"channel": "email", "delivery_id": "<5521@mail.acme.example>",'
    ' "customer": {"id": "acme", "name": "Acme Logistics", "email": "it@acme.example"},'
    ' "subject": "Cannot log in", "text": "Since the reset none of us can log in.",'
    ' "received_at": "2026-03-02T08:02:00+00:00"}',
    '{"channel": "social_media", "delivery_id": "weibo-88120",'
    ' "customer": {"id": "liu", "name": "刘洋"}, "text": "你们的App一打开就闪退！！！",'
    ' "received_at": "2026-03-02T17:55:00+08:00"}',
    '{"channel": "fax", "delivery_id": "fax-1", "customer": {"id": "acme", "name": "Acme"},'
    ' "text": "Please call us.", "received_at": "2026-03-02T09:00:00+00:00"}',
    '{"channel": "web_form", "delivery_id": "form-3390",'
    ' "customer": {"id": "huaxin", "name": "华信科技"}, "text": "API 返回 401",'
    ' "received_at": "2026-03-02 09:05:00"}',
    '{"channel": "chat", "delivery_id": "chat-77841", "customer": ',
    # The chat widget retried too, twice.
    '{"channel": "chat", "delivery_id": "chat-77840",'
    ' "customer": {"id": "chen", "name": "陈静"},'
    ' "text": "我换了手机号，怎么修改账户绑定的号码？",'
    ' "received_at": "2026-03-02T16:45:00+08:00"}',
    '{"channel": "chat", "delivery_id": "chat-77840",'
    ' "customer": {"id": "chen", "name": "陈静"},'
    ' "text": "我换了手机号，怎么修改账户绑定的号码？",'
    ' "received_at": "2026-03-02T16:45:00+08:00"}',
]
"""Raw request bodies as the endpoint receives them, retries and bad ones included."""


def handle_delivery(desk: SupportDesk, body: str | bytes) -> tuple[int, dict[str, Any]]:
    """Answer one webhook POST with an HTTP status and a JSON-ready body.

    200 with the ticket (for a retry: the same ticket as the first time), 400 for a body
    that is not a JSON object, 422 for a delivery supportflow refuses (the body names the
    field), 503 when the store fails.
    """
    try:
        payload = json.loads(body)
    except json.JSONDecodeError as exc:
        return 400, {"error": f"not JSON: {exc.msg}"}
    if not isinstance(payload, dict):
        return 400, {"error": "expected a JSON object"}
    try:
        customer_id = ensure_customer(desk, payload.get("customer"))
        ticket = desk.intake(
            channel=payload.get("channel", ""),
            external_id=payload.get("delivery_id"),
            customer_id=customer_id,
            subject=payload.get("subject", ""),
            body=payload.get("text", ""),
            received_at=parse_time(payload.get("received_at")),
        )
    except ValidationFailed as exc:
        return 422, {"error": str(exc), "field": exc.field}
    except SupportflowError as exc:
        return 503, {"error": str(exc)}
    return 200, {"ticket_id": ticket.id, "status": ticket.status.value, "language": ticket.language}


def ensure_customer(desk: SupportDesk, sender: object) -> str:
    """The id of the delivery's customer, adding the customer on first contact."""
    if not isinstance(sender, dict) or not isinstance(sender.get("id"), str):
        raise ValidationFailed("customer.id", "the delivery names no customer")
    try:
        return desk.get_customer(sender["id"]).id
    except CustomerNotFound:
        pass
    contact = {"email": sender.get("email")} if sender.get("email") else {}
    with contextlib.suppress(DuplicateEntity):  # another worker added them a moment ago
        desk.add_customer({"id": sender["id"], "name": sender.get("name"), "contact": contact})
    return str(sender["id"])


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 timestamp (the desk refuses one without a UTC offset), or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed("received_at", "must be an ISO 8601 string")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("received_at", f"not an ISO 8601 time: {value!r}") from None


def main() -> None:
    """Feed the sample deliveries through the handler and print each answer."""
    store = MemoryStore()
    desk = SupportDesk(store)
    first_seen: dict[str, int] = {}
    accepted = 0
    print(f"{'#':>2}  {'HTTP':4}  result")
    for number, body in enumerate(DELIVERIES, start=1):
        status, answer = handle_delivery(desk, body)
        if status == 200:
            accepted += 1
            ticket_id = answer["ticket_id"]
            if ticket_id in first_seen:
                result = f"duplicate of delivery #{first_seen[ticket_id]}: same ticket {ticket_id}"
            else:
                first_seen[ticket_id] = number
                result = f"new ticket {ticket_id} ({answer['language']})"
        else:
            result = f"refused: {answer['error']}"
        print(f"{number:>2}  {status:<4}  {result}")
    tickets = desk.list_tickets()
    print(
        f"\n{len(DELIVERIES)} deliveries, {accepted} accepted, {len(tickets)} tickets stored "
        f"({accepted - len(tickets)} duplicates absorbed)"
    )
    store.close()


if __name__ == "__main__":
    main()
