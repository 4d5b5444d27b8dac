"""E-mail through Amazon SES (the v1 API, which LocalStack's store keeps)."""

from botocore.exceptions import BotoCoreError, ClientError

from notify.adapters.aws import aws_client, classify_provider_error
from notify.ports import Rendered


class SesEmailSender:
    def __init__(self, source: str, region: str) -> None:
        self._source = source
        self._region = region

    def send(self, address: str, message: Rendered) -> str:
        body = {"Text": {"Data": message.text, "Charset": "UTF-8"}}
        if message.html is not None:
            body["Html"] = {"Data": message.html, "Charset": "UTF-8"}
        try:
            answer = aws_client("ses", self._region).send_email(
                Source=self._source,
                Destination={"ToAddresses": [address]},
                Message={"Subject": {"Data": message.subject or "", "Charset": "UTF-8"}, "Body": body},
            )
        except (ClientError, BotoCoreError) as error:
            raise classify_provider_error(error, "ses:SendEmail") from error
        return str(answer["MessageId"])
