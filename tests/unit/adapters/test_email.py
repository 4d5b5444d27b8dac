"""The raw e-mail the SES sender composes, read back by the standard library's parser."""

import email
import email.policy
from email.message import EmailMessage

import pytest

from notify.adapters.email import mime_message
from notify.delivery.ports import Rendered

SOURCE = "Cinema <no-reply@cinema.example>"
LINK = "https://notify.example/v1/unsubscribe?token=" + "t" * 180
RUSSIAN_SUBJECT = "Новая серия: «Долгая ночь», сезон 2, серия 5 — смотрите сегодня вечером"

MESSAGES = {
    "short ascii, text only": Rendered(text="Hi", subject="Hi"),
    "russian, both parts, unsubscribe": Rendered(
        text="Здравствуйте, Анна!\nВышла новая серия.\n",
        subject=RUSSIAN_SUBJECT,
        html="<p>Здравствуйте, <b>Анна</b>!</p>",
        unsubscribe_url=LINK,
    ),
    "long lines and a long ascii subject": Rendered(
        text="x" * 2000, subject="a long subject " * 12, html="<p>" + "y" * 3000 + "</p>"
    ),
    "line ends of every kind, no subject": Rendered(text="one\r\ntwo\rthree\nfour", subject=None),
    "a boundary-like line in the text": Rendered(text="--=_notify_0\n--\n.\n", subject="s", html="<p>h</p>"),
}


def parsed(raw: bytes) -> EmailMessage:
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    return mail


def lines_as_written(text: str) -> str:
    """What a reader gets back for `text`: its line ends as CRLF, and one at the end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return (text if text.endswith("\n") else text + "\n").replace("\n", "\r\n")


@pytest.mark.parametrize("message", MESSAGES.values(), ids=MESSAGES.keys())
def test_a_composed_message_reads_back_as_it_was_rendered(message: Rendered) -> None:
    raw = mime_message(SOURCE, "alice@example.com", message)

    mail = parsed(raw)
    assert mail.defects == []
    assert (mail["From"], mail["To"], mail["Subject"]) == (SOURCE, "alice@example.com", message.subject or "")
    assert mail["MIME-Version"] == "1.0"
    text = mail.get_body(("plain",))
    assert text is not None
    assert lines_as_written(text.get_content()) == lines_as_written(message.text)
    html = mail.get_body(("html",))
    if message.html is None:
        assert html is None
        assert not mail.is_multipart()
    else:
        assert html is not None
        assert mail.get_content_type() == "multipart/alternative"
        assert lines_as_written(html.get_content()) == lines_as_written(message.html)
    if message.unsubscribe_url:
        assert mail["List-Unsubscribe"] == f"<{message.unsubscribe_url}>"
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    else:
        assert mail["List-Unsubscribe"] is None


@pytest.mark.parametrize("message", MESSAGES.values(), ids=MESSAGES.keys())
def test_every_line_ends_in_crlf_and_stays_within_rfc_5322s_limit(message: Rendered) -> None:
    raw = mime_message(SOURCE, "alice@example.com", message)

    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 998
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert max(len(line) for line in head if not line.startswith(b"List-Unsubscribe:")) <= 78


def test_the_russian_subject_is_folded_into_encoded_words() -> None:
    raw = mime_message(SOURCE, "alice@example.com", MESSAGES["russian, both parts, unsubscribe"])

    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # all of it ASCII
    subject = head[head.index("Subject:") : head.index("\r\nList-Unsubscribe:")]
    assert subject.count("\r\n ") >= 1
    assert "=?utf-8?" in subject
