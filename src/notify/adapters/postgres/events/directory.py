"""The directory: users (contacts, locale, zone) and movies, upserted in bulk."""

from collections.abc import Sequence

from psycopg.rows import dict_row

from notify.adapters.postgres.database import Repository
from notify.events import DirectoryMovie, DirectoryUser
from notify.workflows import Content, Recipient


class PostgresDirectory(Repository):
    """Directory, and the PreviewDirectory of workflow previews."""

    def template_recipient(self, user_id: str) -> Recipient | None:
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                """
                SELECT user_id, first_name, last_name, birthday AS birthday_date, email, phone, push_token,
                       locale, timezone
                FROM directory_users WHERE user_id = %s::uuid
                """,
                (user_id,),
            ).fetchone()
        return Recipient(**row) if row else None

    def template_content(self, movie_ids: Sequence[str]) -> list[Content]:
        return [Content(**movie.model_dump()) for movie in self.find_movies(movie_ids)]

    def upsert_users(self, users: Sequence[DirectoryUser]) -> int:
        latest = list({user.user_id: user for user in users}.values())
        with self._connection() as conn:
            conn.execute(
                """
                INSERT INTO directory_users (user_id, first_name, last_name, email, phone, push_token,
                                             birthday, locale, timezone)
                SELECT * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[],
                                     %s::text[], %s::date[], %s::text[], %s::text[])
                ON CONFLICT (user_id) DO UPDATE SET
                    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
                    email = EXCLUDED.email, phone = EXCLUDED.phone, push_token = EXCLUDED.push_token,
                    birthday = EXCLUDED.birthday, locale = EXCLUDED.locale, timezone = EXCLUDED.timezone,
                    updated_at = now()
                """,
                (
                    [u.user_id for u in latest],
                    [u.first_name for u in latest],
                    [u.last_name for u in latest],
                    [u.email for u in latest],
                    [u.phone for u in latest],
                    [u.push_token for u in latest],
                    [u.birthday for u in latest],
                    [u.locale for u in latest],
                    [u.timezone for u in latest],
                ),
            )
        return len(users)

    def upsert_movies(self, movies: Sequence[DirectoryMovie]) -> int:
        latest = list({movie.movie_id: movie for movie in movies}.values())
        with self._connection() as conn:
            conn.execute(
                """
                INSERT INTO directory_movies (movie_id, title, season, episode, release_date)
                SELECT * FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::int[], %s::date[])
                ON CONFLICT (movie_id) DO UPDATE SET
                    title = EXCLUDED.title, season = EXCLUDED.season, episode = EXCLUDED.episode,
                    release_date = EXCLUDED.release_date, updated_at = now()
                """,
                (
                    [m.movie_id for m in latest],
                    [m.title for m in latest],
                    [m.season for m in latest],
                    [m.episode for m in latest],
                    [m.release_date for m in latest],
                ),
            )
        return len(movies)

    def find_movies(self, movie_ids: Sequence[str]) -> list[DirectoryMovie]:
        if not movie_ids:
            return []
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                """
                SELECT movie_id, title, season, episode, release_date
                FROM directory_movies WHERE movie_id = ANY(%s::uuid[])
                ORDER BY array_position(%s::uuid[], movie_id)
                """,
                (list(movie_ids), list(movie_ids)),
            ).fetchall()
        return [DirectoryMovie(**row) for row in rows]
