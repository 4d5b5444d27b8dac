"""notify_dev.bench_suite: the smoke run fails when a bench prints no JSON line last, every bench of
bench/ has a smoke size, and the README's figures table is the one bench/results/ gives."""

import json
from pathlib import Path

import pytest

from notify_dev import bench_suite
from notify_dev.bench_suite import BENCHES, Bench, discovered, last_json_line, render_table, smoke, table

PRINTS_ITS_LINE = 'import json\nprint("working")\nprint(json.dumps({"bench": "good", "rate_per_s": 1.5}))\n'


def bench_dir(tmp_path: Path, scripts: dict[str, str]) -> Path:
    for name, code in scripts.items():
        (tmp_path / f"{name}.py").write_text(code)
    (tmp_path / "__init__.py").write_text("")
    return tmp_path


def smoke_size(*names: str) -> dict[str, Bench]:
    return {name: Bench(name, (), (), "") for name in names}


def summary(output: str) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return parsed


def test_a_bench_that_prints_its_json_line_last_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    benches = bench_dir(tmp_path, {"good": PRINTS_ITS_LINE})

    assert smoke(benches, smoke_size("good")) == 0
    output = capsys.readouterr().out
    assert "  working\n" in output
    assert {key: summary(output)[key] for key in ("bench-smoke", "failed")} == {
        "bench-smoke": 1,
        "failed": [],
    }


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ('import json\nprint(json.dumps({"bench": "bad"}))\nprint("done")\n', "its last line is not"),
        ('print("no figures at all")\n', "its last line is not"),
        ('import json\nprint(json.dumps({"bench": "another"}))\n', "its last line is not"),
        ('import json, sys\nprint(json.dumps({"bench": "bad"}))\nsys.exit(3)\n', "exit status 3"),
    ],
    ids=["text after the line", "no JSON", "another bench's name", "non-zero exit"],
)
def test_a_bench_without_its_json_line_last_fails_the_smoke_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], code: str, problem: str
) -> None:
    benches = bench_dir(tmp_path, {"good": PRINTS_ITS_LINE, "bad": code})

    assert smoke(benches, smoke_size("good", "bad")) == 1
    output = capsys.readouterr().out
    assert summary(output)["failed"] == ["bad"]
    assert f"bench-smoke: bad: {problem}" in output
    assert "bench-smoke: good: JSON line printed" in output


def test_a_bench_without_a_smoke_size_fails_the_smoke_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    benches = bench_dir(tmp_path, {"good": PRINTS_ITS_LINE, "new": PRINTS_ITS_LINE})

    assert smoke(benches, smoke_size("good")) == 1
    assert "bench-smoke: new: no smoke size" in capsys.readouterr().out


def test_a_bench_that_says_why_it_skipped_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = 'import json\nprint(json.dumps({"bench": "docker", "skipped": "no Docker engine runs"}))\n'
    benches = bench_dir(tmp_path, {"docker": code})

    assert smoke(benches, smoke_size("docker")) == 0
    assert "bench-smoke: docker: skipped: no Docker engine runs" in capsys.readouterr().out


def test_a_bench_that_hangs_is_killed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    benches = bench_dir(tmp_path, {"slow": "import time\ntime.sleep(30)\n"})

    assert smoke(benches, smoke_size("slow"), timeout=1) == 1
    assert "bench-smoke: slow: killed after 1 s" in capsys.readouterr().out


def test_every_bench_of_the_repository_has_a_smoke_size() -> None:
    assert discovered() == sorted(BENCHES)


def test_the_json_line_must_be_the_last_one_and_name_its_bench() -> None:
    assert last_json_line('x\n{"bench": "tick", "tick_s": 0.2}\n\n', "tick") == {
        "bench": "tick",
        "tick_s": 0.2,
    }
    assert last_json_line('{"bench": "tick"}\nx\n', "tick") is None
    assert last_json_line("[1, 2]\n", "tick") is None
    assert last_json_line("", "tick") is None


def test_the_readme_table_is_the_one_bench_results_gives() -> None:
    assert table(check=True) == 0, "README.md's bench table differs from bench/results/: make bench-table"


def test_the_table_shows_each_recorded_figure_and_where_it_was_measured(tmp_path: Path) -> None:
    entry = {
        "bench": "tick",
        "date": "2026-12-06",
        "commit": "abc1234",
        "machine": "x86_64, 2 cores, 24 GiB",
        "args": ["--schedules", "5000"],
        "seconds": 12,
        "result": {"bench": "tick", "schedules": 5000, "tick_s": 0.1834, "scaling_ratio": 1.17, "extra": 9},
    }
    (tmp_path / "tick.json").write_text(json.dumps(entry))

    rendered = render_table(tmp_path)

    assert "Measured on: x86_64, 2 cores, 24 GiB." in rendered
    assert (
        "| `bench/tick.py` `--schedules 5000` | schedules 5,000, tick_s 0.183, scaling_ratio 1.17 |"
        in rendered
    )
    assert "2026-12-06, abc1234 |" in rendered
    assert "| `bench/fanout.py` | not measured yet (`make bench-fanout`) |" in rendered


def test_table_rewrites_only_the_marked_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_suite, "ROOT", tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\n{bench_suite.TABLE_START}\nold\n{bench_suite.TABLE_END}\n\nafter\n")
    results = tmp_path / "results"
    results.mkdir()

    assert table(check=True, readme=readme, results_dir=results) == 1
    assert table(check=False, readme=readme, results_dir=results) == 0
    text = readme.read_text()
    assert text.startswith("# title\n\n")
    assert text.endswith("\n\nafter\n")
    assert "old" not in text
    assert table(check=True, readme=readme, results_dir=results) == 0
