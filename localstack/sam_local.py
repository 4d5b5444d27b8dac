"""What `sam local` needs from the running stack: the template it runs and the functions' environment.

    python localstack/sam_local.py template  BUILT_TEMPLATE OUT       the built template, made runnable here
    python localstack/sam_local.py env-vars  --host ADDR [--endpoints F] [--database-url URL] ... > env.json
    python localstack/sam_local.py endpoints set|unset sam_api_url [URL]   edit .local/endpoints.json
    python localstack/sam_local.py event EVENT_FILE > event.json    an API sample with the local API key

`template`: two changes to what `sam build` wrote, neither touching the API or the code.
- `sam local` passes a function only the variables its template declares (an --env-vars file cannot add
  one), so AWS_ENDPOINT_URL is declared, empty, among the Globals' variables.
- A layer defined in the template makes `sam local` build a new image (the base image plus the layer in
  /opt, ~10 s) for every invoke and every warm container. Each function's code folder is therefore the
  layer's python/ folder and the function's own files, hard-linked into task/<function>/ beside OUT (on
  sys.path first, as /var/task is), and the functions list no layer: every container then runs on the
  one image SAM derives from the base image once, with the code mounted.

`env-vars`: the values of the stack `make up` deployed (.local/endpoints.json: database, broker, queue
prefix, sender...), with every loopback address replaced by ADDR, where a container reaches the host's
services (the Docker bridge's forwarders, or host.docker.internal).

Standard library and PyYAML (the project's dev dependencies) only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
ENDPOINTS_FILE = ROOT / ".local" / "endpoints.json"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEFAULTS = {
    "database_url": "postgresql://postgres@127.0.0.1:5432/notify",
    "rabbitmq_url": "amqp://guest:guest@127.0.0.1:5672/%2F",
    "localstack_url": "http://127.0.0.1:4566",
    "queue_prefix": "notify",
    "email_sender": "notifications@cinema.example",
    "max_receive_count": 5,
}


def reroute(url: str, host: str) -> str:
    """`url` with a loopback host replaced by `host` (user, password, port and path kept)."""
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        return url
    userinfo, _, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}@{host}" if userinfo else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return str(value["Ref"])
    return None


def _files(source: str) -> dict[str, str]:
    """Every file (or symlink) under `source` by its path relative to it, without bytecode caches."""
    found: dict[str, str] = {}
    prefix = len(source.rstrip("/")) + 1
    for directory, dirs, names in os.walk(source):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            path = os.path.join(directory, name)
            found[path[prefix:]] = path
    return found


def _sync_links(wanted: dict[str, str], target: str) -> None:
    """Make `target` hold exactly `wanted` (relative path → source file), as hard links.

    Files already there with the source's size and modification time are left alone, and nothing is
    deleted wholesale: removing thousands of files is what costs most on some disks.
    """
    present = _files(target) if os.path.isdir(target) else {}
    for relative in present.keys() - wanted.keys():
        os.unlink(present[relative])
    for relative, source in wanted.items():
        dest = os.path.join(target, relative)
        if relative in present:
            a, b = os.lstat(source), os.lstat(dest)
            if a.st_ino == b.st_ino or (a.st_size, a.st_mtime_ns) == (b.st_size, b.st_mtime_ns):
                continue
            os.unlink(dest)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        try:
            os.link(source, dest, follow_symlinks=False)
        except OSError:  # another filesystem
            shutil.copy2(source, dest, follow_symlinks=False)
    for directory, dirs, names in os.walk(target, topdown=False):  # folders left empty
        if not dirs and not names and directory != target:
            with contextlib.suppress(OSError):
                os.rmdir(directory)


def _layer_files(content: Path) -> dict[str, str]:
    """What a Python layer puts on sys.path: python/ and python/lib/python3.13/site-packages/."""
    site = content / "python" / "lib" / "python3.13" / "site-packages"
    found: dict[str, str] = {}
    if (content / "python").is_dir():
        found.update(
            (rel, src) for rel, src in _files(str(content / "python")).items() if not rel.startswith("lib/")
        )
    if site.is_dir():
        found.update(_files(str(site)))
    return found


def runnable_template(built: Path, out: Path) -> None:
    """The built template as `sam local` runs it here: layers folded into each function's code, and
    AWS_ENDPOINT_URL declared."""
    template = yaml.safe_load(built.read_text())
    resources: dict[str, Any] = template.get("Resources", {})
    function_globals = template.setdefault("Globals", {}).setdefault("Function", {})
    variables = function_globals.setdefault("Environment", {}).setdefault("Variables", {})
    variables.setdefault("AWS_ENDPOINT_URL", "")
    global_layers = function_globals.pop("Layers", [])

    def local_path(uri: str) -> Path:
        return Path(uri) if os.path.isabs(uri) else (built.parent / uri).resolve()

    tasks = out.parent / "task"
    functions = {n for n, r in resources.items() if r.get("Type") == "AWS::Serverless::Function"}
    if tasks.exists():
        for stale in {p.name for p in tasks.iterdir()} - functions:
            shutil.rmtree(tasks / stale)
    layer_files: dict[str, dict[str, str]] = {}
    for name in sorted(functions):
        properties = resources[name].setdefault("Properties", {})
        wanted: dict[str, str] = {}
        for layer in [*global_layers, *properties.pop("Layers", [])]:
            layer_id = _ref(layer)
            if layer_id is None or layer_id not in resources:
                raise SystemExit(f"sam_local: {name} uses layer {layer!r}, which is not in the template")
            if layer_id not in layer_files:
                layer_files[layer_id] = _layer_files(
                    local_path(resources[layer_id]["Properties"]["ContentUri"])
                )
            wanted.update(layer_files[layer_id])
        wanted.update(_files(str(local_path(properties["CodeUri"]))))  # the function's own files win
        task = tasks / name
        task.mkdir(parents=True, exist_ok=True)
        _sync_links(wanted, str(task))
        properties["CodeUri"] = str(task)
    for resource in resources.values():
        properties = resource.get("Properties", {})
        uri = properties.get("ContentUri")
        if isinstance(uri, str):
            properties["ContentUri"] = str(local_path(uri))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(template, sort_keys=False, allow_unicode=True))


def load_endpoints(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def env_vars(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    stack = {**DEFAULTS, **load_endpoints(Path(args.endpoints))}
    pick = lambda name: getattr(args, name) or stack[name]  # noqa: E731
    variables = {
        "NOTIFY_DATABASE_URL": reroute(pick("database_url"), args.host),
        "NOTIFY_RABBITMQ_URL": reroute(pick("rabbitmq_url"), args.host),
        "NOTIFY_BROKER": args.broker or stack.get("broker", "sqs"),
        "NOTIFY_QUEUE_PREFIX": pick("queue_prefix"),
        "NOTIFY_EMAIL_SENDER": pick("email_sender"),
        "NOTIFY_MAX_RECEIVES": str(stack["max_receive_count"]),
        "AWS_ENDPOINT_URL": reroute(pick("localstack_url"), args.host),
    }
    if args.log_level:
        variables["POWERTOOLS_LOG_LEVEL"] = args.log_level
    return {"Parameters": variables}


def edit_endpoints(action: str, key: str, value: str | None, path: Path) -> None:
    data = load_endpoints(path)
    if action == "set":
        data[key] = value
    else:
        data.pop(key, None)
        if not data:
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def keyed_event(event: dict[str, Any], api_key: str | None) -> dict[str, Any]:
    """An API sample (events/api_*.json) with the local stack's key in place of the sample's own, so
    that `make invoke` runs it against the stack's database; other events as they are."""
    if not api_key or "httpMethod" not in event:
        return event
    for headers, value in (("headers", f"Bearer {api_key}"), ("multiValueHeaders", [f"Bearer {api_key}"])):
        if "Authorization" in (event.get(headers) or {}):
            event[headers]["Authorization"] = value
    return event


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    tpl = sub.add_parser("template")
    tpl.add_argument("built", type=Path)
    tpl.add_argument("out", type=Path)

    env = sub.add_parser("env-vars")
    env.add_argument("--host", required=True, help="where containers reach the host's services")
    env.add_argument("--endpoints", default=str(ENDPOINTS_FILE))
    env.add_argument("--database-url", dest="database_url")
    env.add_argument("--rabbitmq-url", dest="rabbitmq_url")
    env.add_argument("--localstack-url", dest="localstack_url")
    env.add_argument("--queue-prefix", dest="queue_prefix")
    env.add_argument("--email-sender", dest="email_sender")
    env.add_argument("--broker", choices=["sqs", "rabbitmq"])
    env.add_argument("--log-level", dest="log_level")

    ends = sub.add_parser("endpoints")
    ends.add_argument("action", choices=["set", "unset"])
    ends.add_argument("key")
    ends.add_argument("value", nargs="?")
    ends.add_argument("--file", default=str(ENDPOINTS_FILE))

    keyed = sub.add_parser("event", help="an event file with the local API key (stdout)")
    keyed.add_argument("file", type=Path)
    keyed.add_argument("--endpoints", default=str(ENDPOINTS_FILE))

    args = parser.parse_args(argv)
    if args.command == "event":
        known = Path(args.endpoints)
        api_key = json.loads(known.read_text()).get("api_key") if known.exists() else None
        json.dump(keyed_event(json.loads(args.file.read_text()), api_key), sys.stdout)
    elif args.command == "template":
        runnable_template(args.built, args.out)
    elif args.command == "env-vars":
        json.dump(env_vars(args), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        edit_endpoints(args.action, args.key, args.value, Path(args.file))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
