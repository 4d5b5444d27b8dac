"""Each push token's provider endpoint, in memory."""

from datetime import datetime

from tests.fakes.tables import FakeTables


class FakePushEndpoints(FakeTables):
    def find_endpoint(self, token: str) -> str | None:
        self.check()
        return self.push_endpoints.get(token)

    def remember_endpoint(self, token: str, endpoint: str, now: datetime) -> None:
        self.check()
        self.push_endpoints[token] = endpoint

    def forget_endpoint(self, token: str) -> None:
        self.check()
        self.push_endpoints.pop(token, None)
