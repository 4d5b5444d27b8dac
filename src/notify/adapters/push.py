"""Mobile push through Amazon SNS: one platform endpoint per device token, made once and reused."""

import json
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from notify.adapters.aws import ProviderConnection, classify_provider_error, provider_client
from notify.delivery import Rendered
from notify.errors import AddressGone
from notify.feedback import PushEndpoints

_LOCAL_APPLICATION = "notify-push"
ENDPOINT_DISABLED = "endpoint_disabled"
# Tokens whose endpoint an execution environment keeps in memory, the least recently used dropped
# first: about 400 bytes each (a token of up to 4 KB is rare), so ~4 MB of a 512 MB function.
ENDPOINT_CACHE_SIZE = 10_000


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class SnsPushSender:
    """Needs a platform application (FCM/APNs credentials live there). Without a configured ARN,
    one named `notify-push` is created on first use: that is for the local stack only. An empty ARN
    (the template parameter's default) counts as none.

    A token's endpoint is made on its first send and kept (`endpoints`, and in memory for this
    execution environment): SNS refuses to make it again once its attributes changed (disabled), and
    a disabled endpoint must be seen as such, not as a refusal. In memory, at most `cache_size`
    tokens are kept, the most recently used; the others are read from `endpoints` again."""

    def __init__(
        self,
        connection: ProviderConnection,
        platform_application_arn: str | None,
        endpoints: PushEndpoints | None = None,
        cache_size: int = ENDPOINT_CACHE_SIZE,
    ) -> None:
        self._connection = connection
        self._application_arn = platform_application_arn or None
        self._endpoints = endpoints
        self._known: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def remembered_tokens(self) -> int:
        with self._lock:
            return len(self._known)

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

    def _kept_endpoint(self, token: str) -> str | None:
        with self._lock:
            known = self._known.get(token)
            if known is not None:
                self._known.move_to_end(token)
        if known is None and self._endpoints is not None:
            known = self._endpoints.find_endpoint(token)
        return known

    def _new_endpoint(self, sns: Any, token: str) -> str:
        try:
            # Idempotent for the same token (it returns the existing endpoint): safe to try again.
            answer = sns.create_platform_endpoint(PlatformApplicationArn=self._application(), Token=token)
        except (ClientError, BotoCoreError) as error:
            raise classify_provider_error(error, "sns:CreatePlatformEndpoint", idempotent=True) from error
        endpoint = str(answer["EndpointArn"])
        if self._endpoints is not None:
            self._endpoints.remember_endpoint(token, endpoint, datetime.now(UTC))
        return endpoint

    def _forget(self, token: str) -> None:
        with self._lock:
            self._known.pop(token, None)
        if self._endpoints is not None:
            self._endpoints.forget_endpoint(token)

    def send(self, address: str, message: Rendered) -> str:
        sns = provider_client("sns", self._connection)
        notification = {"title": message.subject or "", "body": message.text}
        # The notification's id rides along as data, for the app to report its engagement with.
        data = {"notification_id": str(message.notification_id)} if message.notification_id else {}
        payload = json.dumps(
            {
                "default": message.text,
                "GCM": json.dumps({"notification": notification} | ({"data": data} if data else {})),
                "APNS": json.dumps({"aps": {"alert": notification}} | data),
            }
        )
        endpoint = self._kept_endpoint(address)
        if endpoint is not None:
            try:
                return self._publish(sns, address, endpoint, payload)
            except _EndpointMissing:
                self._forget(address)  # deleted at the provider: made again below, once
        return self._publish(sns, address, self._new_endpoint(sns, address), payload, fresh=True)

    def _publish(self, sns: Any, token: str, endpoint: str, payload: str, fresh: bool = False) -> str:
        try:
            answer = sns.publish(TargetArn=endpoint, MessageStructure="json", Message=payload)
        except ClientError as error:
            code = _code(error)
            if code == "EndpointDisabled":
                raise AddressGone("sns:Publish(push): the endpoint is disabled", ENDPOINT_DISABLED) from error
            if not fresh and code in _NO_SUCH_ENDPOINT:
                raise _EndpointMissing from error
            raise classify_provider_error(error, "sns:Publish(push)") from error
        except BotoCoreError as error:
            raise classify_provider_error(error, "sns:Publish(push)") from error
        with self._lock:
            self._known[token] = endpoint
            self._known.move_to_end(token)
            while len(self._known) > self._cache_size:
                self._known.popitem(last=False)
        return str(answer["MessageId"])


class _EndpointMissing(Exception):
    """A kept endpoint the provider no longer has."""


# What SNS answers a publish to an endpoint it does not have (LocalStack: InvalidParameter).
_NO_SUCH_ENDPOINT = frozenset({"InvalidParameter", "NotFound"})
