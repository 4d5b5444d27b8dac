"""SMS through Amazon SNS, published straight to a phone number."""

from botocore.exceptions import BotoCoreError, ClientError

from notify.adapters.aws import aws_client, classify_provider_error
from notify.ports import Rendered


class SnsSmsSender:
    def __init__(self, region: str, sender_id: str | None = None) -> None:
        self._region = region
        self._sender_id = sender_id

    def send(self, address: str, message: Rendered) -> str:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self._sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self._sender_id}
        try:
            answer = aws_client("sns", self._region).publish(
                PhoneNumber=address, Message=message.text, MessageAttributes=attributes
            )
        except (ClientError, BotoCoreError) as error:
            raise classify_provider_error(error, "sns:Publish(sms)") from error
        return str(answer["MessageId"])
