"""Made-up people and titles that look real: names by region, their locales, time zones, phones and
mail providers, how common each contact is, and the words of movie titles."""

import random
from collections.abc import Callable
from dataclasses import dataclass

# ---- names, places, titles ------------------------------------------------------------------------

_RU_MALE = (
    "Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья", "Кирилл",
    "Михаил", "Никита", "Иван", "Егор", "Роман", "Павел", "Денис", "Владимир", "Тимофей",
)  # fmt: skip
_RU_FEMALE = (
    "Анна", "Мария", "Елена", "Ольга", "Наталья", "Екатерина", "Татьяна", "Ирина", "Дарья",
    "Анастасия", "Юлия", "Светлана", "Полина", "Ксения", "Алина", "Софья", "Вера", "Варвара",
)  # fmt: skip
_RU_SURNAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Ильин", "Сорокин", "Белов", "Медведев", "Тарасов", "Жуков", "Комаров", "Крылов",
    "Ковальский", "Вишневский", "Кравченко", "Шевченко", "Бондаренко", "Ким", "Цой",
)  # fmt: skip
_EN_MALE = (
    "James", "John", "Robert", "Michael", "William", "David", "Daniel", "Matthew", "Andrew",
    "Joshua", "Ryan", "Thomas", "Oliver", "Harry", "Jack", "George", "Samuel", "Benjamin",
)  # fmt: skip
_EN_FEMALE = (
    "Mary", "Jennifer", "Linda", "Emily", "Sarah", "Jessica", "Emma", "Olivia", "Sophia",
    "Charlotte", "Amelia", "Grace", "Chloe", "Hannah", "Lucy", "Megan", "Rachel", "Laura",
)  # fmt: skip
_EN_SURNAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
    "Clark", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams",
    "Nelson", "Carter", "Mitchell", "Turner", "Parker", "Collins", "Evans", "Morris", "Murphy",
    "Cook", "Rogers", "Cooper", "Reed", "Bailey", "Bell", "Kelly", "Howard", "Ward", "O'Brien",
)  # fmt: skip
_DE_MALE = ("Lukas", "Leon", "Felix", "Jonas", "Maximilian", "Paul", "Tobias", "Jan", "Niklas", "Stefan")
_DE_FEMALE = ("Anna", "Lena", "Laura", "Julia", "Sophie", "Lea", "Marie", "Katharina", "Sarah", "Jana")
_DE_SURNAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
)  # fmt: skip

TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "'": "",
}  # fmt: skip


@dataclass(frozen=True)
class Region:
    """Where a kind of user lives: language, names, time zones, phone numbers, mail providers."""

    locale: str
    weight: float
    male: tuple[str, ...]
    female: tuple[str, ...]
    surnames: tuple[str, ...]
    zones: tuple[tuple[str, float], ...]
    phone: Callable[[random.Random], str]
    mail_domains: tuple[str, ...]
    russian_surnames: bool = False


def _phone_ru(rng: random.Random) -> str:
    return f"+79{rng.randrange(10**9):09d}"


def _phone_us(rng: random.Random) -> str:
    # 555-0100…555-0199: the range reserved for fiction.
    return f"+1{rng.choice((212, 312, 415, 617, 646, 718, 917))}55501{rng.randrange(100):02d}"


def _phone_gb(rng: random.Random) -> str:
    # 07700 900000…900999: Ofcom's range for drama.
    return f"+447700900{rng.randrange(1000):03d}"


def _phone_de(rng: random.Random) -> str:
    return f"+49{rng.choice((151, 160, 170, 176))}{rng.randrange(10**8):08d}"


REGIONS = (
    Region(
        locale="ru",
        weight=0.58,
        male=_RU_MALE,
        female=_RU_FEMALE,
        surnames=_RU_SURNAMES,
        zones=(
            ("Europe/Moscow", 0.58),
            ("Asia/Yekaterinburg", 0.12),
            ("Asia/Novosibirsk", 0.08),
            ("Europe/Samara", 0.06),
            ("Asia/Vladivostok", 0.05),
            ("Europe/Kaliningrad", 0.03),
            ("Europe/Berlin", 0.04),
            ("Asia/Almaty", 0.04),
        ),
        phone=_phone_ru,
        mail_domains=("yandex.example", "mail.example", "gmail.example", "rambler.example"),
        russian_surnames=True,
    ),
    Region(
        locale="en",
        weight=0.24,
        male=_EN_MALE,
        female=_EN_FEMALE,
        surnames=_EN_SURNAMES,
        zones=(("America/New_York", 0.55), ("America/Chicago", 0.2), ("America/Los_Angeles", 0.25)),
        phone=_phone_us,
        mail_domains=("gmail.example", "outlook.example", "icloud.example", "yahoo.example"),
    ),
    Region(
        locale="en",
        weight=0.1,
        male=_EN_MALE,
        female=_EN_FEMALE,
        surnames=_EN_SURNAMES,
        zones=(("Europe/London", 1.0),),
        phone=_phone_gb,
        mail_domains=("gmail.example", "btinternet.example", "outlook.example"),
    ),
    Region(
        locale="en",
        weight=0.08,
        male=_DE_MALE,
        female=_DE_FEMALE,
        surnames=_DE_SURNAMES,
        zones=(("Europe/Berlin", 1.0),),
        phone=_phone_de,
        mail_domains=("gmx.example", "web.example", "gmail.example"),
    ),
)

# Shares of users with each contact (drawn independently: about 3% end up with none at all).
EMAIL_SHARE = 0.9
PHONE_SHARE = 0.35
PUSH_SHARE = 0.45
BIRTHDAY_SHARE = 0.85
UNSET_ZONE_SHARE = 0.05  # profiles that never set a time zone: the directory's default, UTC

RU_ADJECTIVES = (
    "Тихий", "Северный", "Последний", "Долгий", "Холодный", "Чужой", "Золотой", "Ночной",
    "Белый", "Дальний", "Шестой", "Старый", "Солнечный", "Железный",
)  # fmt: skip
RU_NOUNS = (
    "берег", "ветер", "рейс", "маяк", "перевал", "город", "сезон", "двор", "поезд", "след",
    "свидетель", "океан", "остров", "участок",
)  # fmt: skip
EN_ADJECTIVES = (
    "Silent", "Northern", "Last", "Long", "Cold", "Hidden", "Golden", "Midnight", "Broken",
    "Distant", "Iron", "Quiet", "Burning", "Paper",
)  # fmt: skip
EN_NOUNS = (
    "Harbour", "Wind", "Flight", "Lighthouse", "Pass", "City", "Season", "Garden", "Train",
    "Trail", "Witness", "Ocean", "Island", "Precinct",
)  # fmt: skip

SERIES_SHARE = 0.6  # of the movies rows, episodes of series; the rest are films
EPISODES_PER_SERIES = 6  # on average, to decide how many series there are
