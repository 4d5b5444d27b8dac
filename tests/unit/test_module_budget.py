"""Every module of the runtime package and of the dev tools stays under 400 lines, so that one concern
fits in one file."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (ROOT / "src", ROOT / "devtools")
BUDGET = 400


def line_counts() -> dict[str, int]:
    return {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for package in PACKAGES
        for path in package.rglob("*.py")
    }


def test_modules_stay_under_budget() -> None:
    counts = line_counts()
    assert "src/notify/__init__.py" in counts
    assert "devtools/notify_dev/__init__.py" in counts
    over = {name: lines for name, lines in counts.items() if lines > BUDGET}
    assert over == {}, f"modules over {BUDGET} lines: {over}"


# A folder that holds more modules than this has more than one concern: group them (a capability's
# package, the Postgres repositories of one capability).
MODULES_PER_PACKAGE = 12


def test_no_package_of_the_runtime_holds_more_than_twelve_modules() -> None:
    counts = {
        str(folder.relative_to(ROOT)): len(list(folder.glob("*.py")))
        for folder in [ROOT / "src" / "notify", *(ROOT / "src" / "notify").rglob("*/")]
        if "__pycache__" not in folder.parts
    }
    assert counts["src/notify"] >= 10
    crowded = {name: modules for name, modules in counts.items() if modules > MODULES_PER_PACKAGE}
    assert crowded == {}, f"packages of more than {MODULES_PER_PACKAGE} modules: {crowded}"
