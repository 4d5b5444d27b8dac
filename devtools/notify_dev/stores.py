"""LocalStack's stores of what SES and SNS "delivered": e-mails, SMS by number, pushes by device token."""

from __future__ import annotations

import email
import email.message
import email.policy
import json
import urllib.parse
from collections.abc import Iterable
from typing import Any

from notify_dev.endpoints import LOCALSTACK_URL, REGION, aws
from notify_dev.web import http

_loaded: set[tuple[str, str]] = set()


def _store(localstack_url: str, service: str, path: str) -> Any:
    """GET one of LocalStack's internal stores. LocalStack starts a service on its first API call, and
    only then serves its /_aws/ pages, so one cheap call goes first."""
    if (localstack_url, service) not in _loaded:
        client = aws(service, localstack_url)
        client.list_identities() if service == "ses" else client.list_topics()
        _loaded.add((localstack_url, service))
    status, body = http("GET", f"{localstack_url}{path}")
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {body}")
    return body


def ses_messages(localstack_url: str = LOCALSTACK_URL) -> list[dict[str, Any]]:
    """Every e-mail SES accepted: Id, Source, Destination.ToAddresses, Subject, Body.text_part/html_part,
    Timestamp; a raw (MIME) message is parsed into those fields too, and keeps its Headers."""
    body = _store(localstack_url, "ses", "/_aws/ses")
    return [_parsed(message) for message in body.get("messages", [])]


def _parsed(message: dict[str, Any]) -> dict[str, Any]:
    raw = message.get("RawData")
    if not raw:
        return message
    mime = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(mime, email.message.EmailMessage)
    recipients = [
        address.addr_spec
        for field in ("To", "Cc", "Bcc")
        for header in [mime[field]]
        if header is not None
        for address in header.addresses
    ]
    parts = {}
    for kind in ("plain", "html"):
        part = mime.get_body(preferencelist=(kind,))
        if part is not None and part.get_content_subtype() == kind:
            parts[f"{'text' if kind == 'plain' else 'html'}_part"] = part.get_content()
    return {
        **message,
        "Destination": {"ToAddresses": recipients},
        "Subject": str(mime["Subject"] or ""),
        "Body": parts,
        "Headers": {name: str(value) for name, value in mime.items()},
    }


def sms_messages(localstack_url: str = LOCALSTACK_URL) -> dict[str, list[dict[str, Any]]]:
    """SMS published to phone numbers, by number: PhoneNumber, Message, MessageId, MessageAttributes."""
    body = _store(localstack_url, "sns", f"/_aws/sns/sms-messages?region={REGION}")
    return dict(body.get("sms_messages", {}))


def push_messages(localstack_url: str = LOCALSTACK_URL) -> dict[str, list[dict[str, Any]]]:
    """Push messages by device token (LocalStack keys them by platform endpoint ARN; each endpoint's
    token is looked up): TargetArn, Message (what the GCM platform got), MessageId."""
    body = _store(localstack_url, "sns", f"/_aws/sns/platform-endpoint-messages?region={REGION}")
    by_arn: dict[str, list[dict[str, Any]]] = body.get("platform_endpoint_messages", {})
    sns = aws("sns", localstack_url)
    by_token: dict[str, list[dict[str, Any]]] = {}
    for arn, messages in by_arn.items():
        if arn not in _endpoint_tokens:
            try:
                attributes = sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]
                _endpoint_tokens[arn] = attributes.get("Token", arn)
            except sns.exceptions.NotFoundException:
                _endpoint_tokens[arn] = arn
        by_token.setdefault(_endpoint_tokens[arn], []).extend(messages)
    return by_token


_endpoint_tokens: dict[str, str] = {}


def push_notification(message: dict[str, Any]) -> dict[str, str]:
    """The {"title", "body"} a device got from a stored push message (its GCM payload, which LocalStack
    keeps JSON-encoded as a string)."""
    payload: Any = json.loads(message["Message"])
    if isinstance(payload, str):
        payload = json.loads(payload)
    notification: dict[str, str] = payload.get("notification", {})
    return notification


def push_data(message: dict[str, Any]) -> dict[str, str]:
    """The data a device got with a stored push message (its GCM payload's `data`)."""
    payload: Any = json.loads(message["Message"])
    if isinstance(payload, str):
        payload = json.loads(payload)
    data: dict[str, str] = payload.get("data", {})
    return data


def emails_to(address: str, localstack_url: str = LOCALSTACK_URL) -> list[dict[str, Any]]:
    return [
        m for m in ses_messages(localstack_url) if address in m.get("Destination", {}).get("ToAddresses", [])
    ]


def forget_deliveries(users: Iterable[dict[str, Any]], localstack_url: str = LOCALSTACK_URL) -> None:
    """Remove the users' messages from LocalStack's SES and SNS stores (test clean-up)."""
    users = list(users)
    emails = {u["email"] for u in users if u.get("email")}
    phones = {u["phone"] for u in users if u.get("phone")}
    tokens = {u["push_token"] for u in users if u.get("push_token")}
    for mail in ses_messages(localstack_url):
        if emails & set(mail.get("Destination", {}).get("ToAddresses", [])):
            http("DELETE", f"{localstack_url}/_aws/ses?{urllib.parse.urlencode({'id': mail['Id']})}")
    for phone in phones & set(sms_messages(localstack_url)):
        query = urllib.parse.urlencode({"phoneNumber": phone, "region": REGION})
        http("DELETE", f"{localstack_url}/_aws/sns/sms-messages?{query}")
    push_messages(localstack_url)  # learns the endpoints' tokens
    for arn, token in list(_endpoint_tokens.items()):
        if token in tokens:
            query = urllib.parse.urlencode({"endpointArn": arn})
            http("DELETE", f"{localstack_url}/_aws/sns/platform-endpoint-messages?{query}")
