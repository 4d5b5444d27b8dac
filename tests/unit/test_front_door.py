"""The front door: every command the READMEs tell a person to run is a make target, and every make
target they name exists (and `make help` lists it)."""

import re
import subprocess
from pathlib import Path

from notify_dev.bench_suite import BENCHES

ROOT = Path(__file__).resolve().parents[2]
READMES = (ROOT / "README.md", ROOT / "localstack" / "README.md", ROOT / "CONTRIBUTING.md")
# What a shell block may run besides make: requests to the running API and LocalStack's stores.
OTHER_COMMANDS = ("curl ",)


def _shell_lines(text: str) -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    # Indented blocks, outside the fenced ones (a Python example's indented lines are no commands).
    unfenced = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    blocks += ["\n".join(re.findall(r"^    (\S.*)$", unfenced, re.M))]
    lines = []
    for block in blocks:
        continued = False
        for line in block.splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("#") and not continued:
                lines.append(stripped)
            continued = stripped.endswith("\\")
    return lines


def _is_command(line: str) -> bool:
    # A README's indented text that is not shell (a layout listing, an output line) has no command word.
    word = line.split()[0]
    return "/" in word or word in {"make", "curl", "python", "python3", "bash", "sam"} or "=" in word


def _targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    names = set(re.findall(r"^([a-z0-9-]+):", makefile, re.M))
    for rule in re.findall(r"^([a-z0-9 -]+): bench-%:", makefile, re.M):
        names |= set(rule.split())
    return names


def test_readme_commands_are_make_targets() -> None:
    commands = [line for readme in READMES for line in _shell_lines(readme.read_text()) if _is_command(line)]
    assert len(commands) > 10
    others = [
        line
        for line in commands
        if not line.startswith(("make ", *OTHER_COMMANDS)) and not re.match(r"^[A-Z_]+=\$\(make ", line)
    ]
    assert others == [], f"commands a README tells a person to run that are no make target: {others}"


def test_make_targets_the_readmes_name_exist_and_are_listed() -> None:
    named = set()
    for readme in READMES:
        text = readme.read_text()
        # in prose, `make x` (maybe after VAR=value), and at the start of a shell line
        named |= set(re.findall(r"`(?:[A-Z_0-9]+=\S+ )*make (?:-s )?([a-z][a-z0-9-]*[a-z0-9])\b(?!-<)", text))
        named |= {line.split()[1] for line in _shell_lines(text) if line.startswith("make ")}
    assert {"up", "demo", "test", "api-stop", "invoke", "latency", "memory", "generate"} <= named
    assert named - _targets() == set()
    listed = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True
    )
    assert listed.returncode == 0
    shown = set(re.findall(r"^  make ([a-z0-9-]+)", listed.stdout, re.M))
    one_bench = {f"bench-{name}" for name in BENCHES}  # `make bench-NAME` in the help
    assert "make bench-NAME" in listed.stdout
    assert named - shown - one_bench == set()


def test_localstack_side_never_calls_the_project_scripts() -> None:
    """scripts/ and the Makefile call into localstack/; nothing in localstack/ runs scripts/."""
    calls = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "localstack").rglob("*")
        if path.suffix in {".sh", ".py", ""} and path.is_file() and "__pycache__" not in path.parts
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if "scripts/" in line.split("#", 1)[0]
    ]
    assert calls == []


def test_shell_scripts_share_one_helper_file() -> None:
    scripts = [*(ROOT / "scripts").glob("*.sh"), *(ROOT / "localstack").glob("*.sh")]
    scripts.append(ROOT / "localstack" / "lambda-image" / "build.sh")
    helpers = {"python313", "pid_from_file", "wait_until", "await_exit", "install_sam"}
    for script in scripts:
        if script.name == "lib.sh":
            continue
        text = script.read_text()
        defined = set(re.findall(r"^\s*([a-z_0-9]+)\(\) \{", text, re.M))
        assert defined & (helpers | {"find_python313", "wait_for"}) == set(), script
    lib = (ROOT / "localstack" / "lib.sh").read_text()
    assert helpers <= set(re.findall(r"^([a-z_0-9]+)\(\) \{", lib, re.M))
