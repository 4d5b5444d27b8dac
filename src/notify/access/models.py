"""The access capability's models: API keys as the API issues and lists them."""

from datetime import datetime

from pydantic import (
    BaseModel,
    Field,
)

from notify.access.ports import Scope
from notify.models import MAX_STORED_INT, StrictModel

# ---- /keys -------------------------------------------------------------------------------------

# A key made through the API without a rate_per_minute gets this one; `null` asks for none.
DEFAULT_RATE_PER_MINUTE = 600


class KeyRequest(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))
    rate_per_minute: int | None = Field(default=DEFAULT_RATE_PER_MINUTE, ge=1, le=MAX_STORED_INT)


class KeyView(BaseModel):
    """A key as listed: its id and what it may do, never its secret."""

    id: str
    name: str
    scopes: list[str]
    rate_per_minute: int | None
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class IssuedKeyView(KeyView):
    key: str = Field(description="the API key itself: shown in this answer only, never again")


class KeyList(BaseModel):
    keys: list[KeyView]
