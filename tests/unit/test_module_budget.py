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
