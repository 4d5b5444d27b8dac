"""E-mail through Amazon SES (the v1 API, which LocalStack's store keeps).

Mail goes out as a raw MIME message so that the headers a mailbox provider needs for
one-click unsubscribe (RFC 8058) survive: `List-Unsubscribe` with the HTTPS link and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`, and the recipient in `To:`.
"""

from email.errors import MessageError
from email.message import EmailMessage
from email.policy import SMTP

from botocore.exceptions import BotoCoreError, ClientError

from notify.adapters.aws import ProviderConnection, classify_provider_error, provider_client
from notify.errors import Uncomposable
from notify.ports import Rendered

# What composing a message raises for a value it cannot hold (a header with a line break, an address
# that does not parse): the recipient's data, not a passing failure.
_COMPOSE_ERRORS = (ValueError, TypeError, LookupError, MessageError)


def mime_message(source: str, address: str, message: Rendered) -> bytes:
    """The raw message; Uncomposable, naming the header but not its value, when a value cannot be
    one (the directory refuses line breaks; rows stored before it did still reach here)."""
    mail = EmailMessage(policy=SMTP)
    headers = {"From": source, "To": address, "Subject": message.subject or ""}
    if message.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for name, value in headers.items():
        try:
            mail[name] = value
        except _COMPOSE_ERRORS as error:
            raise Uncomposable(f"the {name} header cannot hold its value ({type(error).__name__})") from error
    try:
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
        return mail.as_bytes()
    except _COMPOSE_ERRORS as error:
        raise Uncomposable(f"the message cannot be composed ({type(error).__name__})") from error


class SesEmailSender:
    def __init__(
        self, source: str, connection: ProviderConnection, configuration_set: str | None = None
    ) -> None:
        self._source = source
        self._connection = connection
        # SES publishes the message's events (delivery, bounce, complaint) through the set's destination.
        self._configuration_set = {"ConfigurationSetName": configuration_set} if configuration_set else {}

    def send(self, address: str, message: Rendered) -> str:
        try:
            answer = provider_client("ses", self._connection).send_raw_email(
                Source=self._source,
                Destinations=[address],
                RawMessage={"Data": mime_message(self._source, address, message)},
                **self._configuration_set,
            )
        except (ClientError, BotoCoreError) as error:
            raise classify_provider_error(error, "ses:SendRawEmail") from error
        return str(answer["MessageId"])
