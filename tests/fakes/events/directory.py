"""The directory in memory: users and movies by id."""

import uuid
from collections.abc import Sequence

from notify.events.models import DirectoryMovie, DirectoryUser
from notify.workflows import Content, Recipient
from tests.fakes.tables import FakeTables


class FakeDirectory(FakeTables):
    """Upserts by id; movies are found in the order asked, each once."""

    def upsert_users(self, users: Sequence[DirectoryUser]) -> int:
        for user in users:
            self.users[user.user_id] = user
            self.joined.setdefault(user.user_id, self.clock())
        return len(users)

    def upsert_movies(self, movies: Sequence[DirectoryMovie]) -> int:
        for movie in movies:
            self.movies[movie.movie_id] = movie
        return len(movies)

    def find_movies(self, movie_ids: Sequence[str]) -> list[DirectoryMovie]:
        wanted = list(dict.fromkeys(uuid.UUID(raw) for raw in movie_ids))
        return [self.movies[movie_id] for movie_id in wanted if movie_id in self.movies]

    def template_recipient(self, user_id: str) -> Recipient | None:
        self.check()
        user = self.users.get(uuid.UUID(user_id))
        if user is None:
            return None
        fields = user.model_dump(exclude={"birthday"})
        return Recipient(**fields, birthday_date=user.birthday)

    def template_content(self, movie_ids: Sequence[str]) -> list[Content]:
        return [Content(**movie.model_dump()) for movie in self.find_movies(movie_ids)]
