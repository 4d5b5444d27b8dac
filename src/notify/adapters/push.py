"""Mobile push through Amazon SNS: one platform endpoint per device token."""

import json
import threading

from botocore.exceptions import BotoCoreError, ClientError

from notify.adapters.aws import ProviderConnection, classify_provider_error, provider_client
from notify.errors import PermanentError
from notify.ports import Rendered

_LOCAL_APPLICATION = "notify-push"


class SnsPushSender:
    """Needs a platform application (FCM/APNs credentials live there). Without a configured ARN,
    one named `notify-push` is created on first use: that is for the local stack only. An empty ARN
    (the template parameter's default) counts as none."""

    def __init__(self, connection: ProviderConnection, platform_application_arn: str | None) -> None:
        self._connection = connection
        self._application_arn = platform_application_arn or None
        self._lock = threading.Lock()

    def _application(self) -> str:
        with self._lock:
            if self._application_arn is None:
                # LocalStack (like SNS for APNs) wants a principal whenever a credential is given.
                answer = provider_client("sns", self._connection).create_platform_application(
                    Name=_LOCAL_APPLICATION,
                    Platform="GCM",
                    Attributes={"PlatformPrincipal": "local", "PlatformCredential": "local"},
                )
                self._application_arn = str(answer["PlatformApplicationArn"])
            return self._application_arn

    def send(self, address: str, message: Rendered) -> str:
        sns = provider_client("sns", self._connection)
        notification = {"title": message.subject or "", "body": message.text}
        payload = {
            "default": message.text,
            "GCM": json.dumps({"notification": notification}),
            "APNS": json.dumps({"aps": {"alert": notification}}),
        }
        try:
            # Idempotent for the same token (it returns the existing endpoint): safe to try again.
            endpoint = sns.create_platform_endpoint(PlatformApplicationArn=self._application(), Token=address)
        except (ClientError, BotoCoreError) as error:
            raise classify_provider_error(error, "sns:CreatePlatformEndpoint", idempotent=True) from error
        try:
            answer = sns.publish(
                TargetArn=endpoint["EndpointArn"], MessageStructure="json", Message=json.dumps(payload)
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "EndpointDisabled":
                raise PermanentError("sns:Publish(push): EndpointDisabled") from error
            raise classify_provider_error(error, "sns:Publish(push)") from error
        except BotoCoreError as error:
            raise classify_provider_error(error, "sns:Publish(push)") from error
        return str(answer["MessageId"])
