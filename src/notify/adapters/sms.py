"""SMS through Amazon SNS, published straight to a phone number."""

from botocore.exceptions import BotoCoreError, ClientError

from notify.adapters.aws import ProviderConnection, classify_provider_error, provider_client
from notify.ports import Rendered


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
