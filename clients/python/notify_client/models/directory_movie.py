from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="DirectoryMovie")


@_attrs_define
class DirectoryMovie:
    """
    Attributes:
        movie_id (UUID):
        title (str):
        episode (int | None | Unset):
        release_date (datetime.date | None | Unset):
        season (int | None | Unset):
    """

    movie_id: UUID
    title: str
    episode: int | None | Unset = UNSET
    release_date: datetime.date | None | Unset = UNSET
    season: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        movie_id = str(self.movie_id)

        title = self.title

        episode: int | None | Unset
        if isinstance(self.episode, Unset):
            episode = UNSET
        else:
            episode = self.episode

        release_date: None | str | Unset
        if isinstance(self.release_date, Unset):
            release_date = UNSET
        elif isinstance(self.release_date, datetime.date):
            release_date = self.release_date.isoformat()
        else:
            release_date = self.release_date

        season: int | None | Unset
        if isinstance(self.season, Unset):
            season = UNSET
        else:
            season = self.season

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "movie_id": movie_id,
                "title": title,
            }
        )
        if episode is not UNSET:
            field_dict["episode"] = episode
        if release_date is not UNSET:
            field_dict["release_date"] = release_date
        if season is not UNSET:
            field_dict["season"] = season

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        movie_id = UUID(d.pop("movie_id"))

        title = d.pop("title")

        def _parse_episode(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        episode = _parse_episode(d.pop("episode", UNSET))

        def _parse_release_date(data: object) -> datetime.date | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                release_date_type_0 = datetime.date.fromisoformat(data)

                return release_date_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.date | None | Unset, data)

        release_date = _parse_release_date(d.pop("release_date", UNSET))

        def _parse_season(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        season = _parse_season(d.pop("season", UNSET))

        directory_movie = cls(
            movie_id=movie_id,
            title=title,
            episode=episode,
            release_date=release_date,
            season=season,
        )

        return directory_movie
