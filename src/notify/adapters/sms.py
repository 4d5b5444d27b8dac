"""SMS through Amazon SNS: published straight to a phone number; the numbers opted out at the carrier."""

from botocore.exceptions import BotoCoreError, ClientError

from notify.adapters.aws import ProviderConnection, aws_client, classify_provider_error, provider_client
from notify.delivery import Rendered


class SnsSmsSender:
    def __init__(self, connection: ProviderConnection, sender_id: str | None = None) -> None:
        self._connection = connection
        self._sender_id = sender_id

    def send(self, address: str, message: Rendered) -> str:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self._sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self._sender_id}
        try:
            answer = provider_client("sns", self._connection).publish(
                PhoneNumber=address, Message=message.text, MessageAttributes=attributes
            )
        except (ClientError, BotoCoreError) as error:
            raise classify_provider_error(error, "sns:Publish(sms)") from error
        return str(answer["MessageId"])


class SnsOptedOutNumbers:
    """OptedOutNumbers: the numbers SNS lists as opted out of SMS (a STOP to the carrier), every page.
    A read that changes nothing, so it goes through the client that retries (throttling included)."""

    def __init__(self, region: str) -> None:
        self._region = region

    def opted_out_numbers(self) -> list[str]:
        sns = aws_client("sns", self._region)
        numbers: list[str] = []
        token: str | None = None
        try:
            while True:
                answer = sns.list_phone_numbers_opted_out(**({"nextToken": token} if token else {}))
                numbers += answer.get("phoneNumbers", [])
                token = answer.get("nextToken")
                if not token:
                    return numbers
        except (ClientError, BotoCoreError) as error:
            raise classify_provider_error(error, "sns:ListPhoneNumbersOptedOut", idempotent=True) from error
