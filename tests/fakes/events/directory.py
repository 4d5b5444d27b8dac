"""The directory in memory: users and movies by id."""

import uuid
from collections.abc import Sequence

from notify.events.models import DirectoryMovie, DirectoryUser
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
