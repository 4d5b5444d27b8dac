"""Settings: outside Environment=local the development unsubscribe secret is refused at start."""

import pytest
from pydantic import ValidationError

from notify.settings import DEVELOPMENT_UNSUBSCRIBE_SECRET, Settings


def test_settings_refuse_the_development_secret_outside_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_ENVIRONMENT", "production")
    monkeypatch.delenv("NOTIFY_UNSUBSCRIBE_SECRET", raising=False)

    with pytest.raises(ValidationError, match="development secret"):
        Settings()


def test_settings_take_a_real_secret_outside_local_and_the_development_one_locally(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NOTIFY_ENVIRONMENT", "production")
    monkeypatch.setenv("NOTIFY_UNSUBSCRIBE_SECRET", "a-real-secret-of-thirty-two-chars!")
    assert Settings().environment == "production"

    monkeypatch.setenv("NOTIFY_ENVIRONMENT", "local")
    monkeypatch.delenv("NOTIFY_UNSUBSCRIBE_SECRET")
    assert Settings().unsubscribe_secret == DEVELOPMENT_UNSUBSCRIBE_SECRET


def test_settings_refuse_an_environment_name_that_is_not_a_plain_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NOTIFY_ENVIRONMENT", "Prod Stage!")
    with pytest.raises(ValidationError, match="environment"):
        Settings()
