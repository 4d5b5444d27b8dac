"""The demo directory `make up` puts in place: fixed ids, so running it twice upserts the same rows."""

from typing import Any

DEMO_MOVIES: list[dict[str, Any]] = [
    {
        "movie_id": "6f1c2b8e-0d4a-4e0b-9a51-000000000001",
        "title": "The Expanse",
        "season": 3,
        "episode": 7,
        "release_date": "2026-11-20",
    },
    {"movie_id": "6f1c2b8e-0d4a-4e0b-9a51-000000000002", "title": "Dune: Part Two"},
    {"movie_id": "6f1c2b8e-0d4a-4e0b-9a51-000000000003", "title": "Брат"},
]
DEMO_USERS: list[dict[str, Any]] = [
    {
        "user_id": "0c5e4f3a-7b1d-4c2e-8f90-000000000001",
        "first_name": "Anna",
        "last_name": "Petrova",
        "email": "anna@cinema.example",
        "phone": "+79990000001",
        "push_token": "demo-device-anna",
        "locale": "ru",
        "timezone": "Europe/Moscow",
    },
    {
        "user_id": "0c5e4f3a-7b1d-4c2e-8f90-000000000002",
        "first_name": "Ben",
        "last_name": "Carter",
        "email": "ben@cinema.example",
        "phone": "+447700900002",
        "push_token": "demo-device-ben",
        "locale": "en",
        "timezone": "Europe/London",
    },
    {
        "user_id": "0c5e4f3a-7b1d-4c2e-8f90-000000000003",
        "first_name": "Chloe",
        "email": "chloe@cinema.example",
        "locale": "en",
    },
]
