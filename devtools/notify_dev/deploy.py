"""What `make up` does around the deploy: the database and its schema before, the endpoints file, the SES
sender, the health check and the demo directory after; the stack's API URL and its deletion."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from botocore.exceptions import ClientError
from psycopg import sql

from notify.access.keys import issue_key, key_id_of
from notify.adapters.postgres import PostgresStore
from notify_dev.demo_data import DEMO_MOVIES, DEMO_USERS
from notify_dev.endpoints import (
    ACCOUNT_ID,
    DATABASE_URL,
    ENDPOINTS_FILE,
    LOCALSTACK_URL,
    RABBITMQ_URL,
    REGION,
    ROOT,
    aws,
)
from notify_dev.polling import wait_for
from notify_dev.web import http


def prepare_db(dsn: str = DATABASE_URL, reset: bool = False, migrate: bool = True) -> None:
    """Create the database if it is missing (`reset`: drop it first) and, with `migrate`, apply the
    migrations it lacks (`make migrate`; `make up` leaves that to the deployed Migrate function)."""
    base, _, name = dsn.rpartition("/")
    name = name.split("?", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if reset:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            print(f"up: dropped database {name}")
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"up: created database {name}")
    if not migrate:
        return
    store = PostgresStore(dsn, 1)
    try:
        applied = store.migrate()
    finally:
        store.close()
    print(f"migrate: {name}: applied {applied or 'nothing (up to date)'}")


def invoke_migrate(endpoints: dict[str, Any]) -> dict[str, Any]:
    """Invoke the deployed Migrate function once, as a deploy to AWS does; its report, or RuntimeError."""
    answer = aws("lambda").invoke(FunctionName=endpoints["functions"]["migrate"])
    report: dict[str, Any] = json.loads(answer["Payload"].read() or b"{}")
    if answer.get("FunctionError") or "applied" not in report:
        raise RuntimeError(f"the Migrate function failed: {report}")
    return report


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _parameters(stack: dict[str, Any]) -> dict[str, str]:
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}


def describe(stack_name: str, localstack_url: str = LOCALSTACK_URL) -> dict[str, Any]:
    """The deployed stack as endpoints.json records it."""
    cfn = aws("cloudformation", localstack_url)
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs, parameters = _outputs(stack), _parameters(stack)
    resources: list[dict[str, Any]] = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        resources.extend(page["StackResourceSummaries"])
    functions: dict[str, str] = {}
    queues: dict[str, str] = {}
    for resource in resources:
        physical = resource.get("PhysicalResourceId", "")
        if resource["ResourceType"] == "AWS::Lambda::Function":
            functions[physical.removeprefix(f"{stack_name}-").replace("-", "_")] = physical
        elif resource["ResourceType"] == "AWS::SQS::Queue":
            queues[physical.rsplit("/", 1)[-1]] = physical
    api_id = outputs["ApiId"]
    return {
        "api_url": f"{localstack_url}/restapis/{api_id}/v1/_user_request_",
        "localstack_url": localstack_url,
        "region": REGION,
        "account_id": ACCOUNT_ID,
        "stack_name": stack_name,
        "stack_status": stack["StackStatus"],
        "api_id": api_id,
        "api_url_aws_style": outputs.get("ApiUrl"),
        "functions": dict(sorted(functions.items())),
        "tick_function": outputs.get("TickFunctionName", functions.get("tick")),
        "queues": dict(sorted(queues.items())),
        "email_feedback_topic_arn": outputs.get("EmailFeedbackTopicArn"),
        "queue_prefix": parameters.get("QueuePrefix", "notify"),
        "queue_visibility_timeout": int(parameters.get("QueueVisibilityTimeout", "180")),
        "max_receive_count": int(parameters.get("MaxReceiveCount", "5")),
        "email_sender": parameters.get("EmailSender", "notifications@cinema.example"),
        "database_url": DATABASE_URL,
        "rabbitmq_url": RABBITMQ_URL,
        "stores": {
            "ses": f"{localstack_url}/_aws/ses",
            "sms": f"{localstack_url}/_aws/sns/sms-messages",
            "push": f"{localstack_url}/_aws/sns/platform-endpoint-messages",
        },
    }


def api_url(stack_name: str, localstack_url: str = LOCALSTACK_URL) -> str:
    """The deployed stack's API URL on LocalStack, or "" when there is no such stack yet."""
    cfn = aws("cloudformation", localstack_url)
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except cfn.exceptions.ClientError:
        return ""
    api_id = _outputs(stacks[0]).get("ApiId") if stacks else None
    return f"{localstack_url}/restapis/{api_id}/v1/_user_request_" if api_id else ""


def make_bucket(name: str, localstack_url: str = LOCALSTACK_URL) -> None:
    """The S3 bucket `sam deploy` uploads the packaged template to, made if it is missing."""
    s3 = aws("s3", localstack_url)
    try:
        s3.head_bucket(Bucket=name)
    except ClientError:
        s3.create_bucket(Bucket=name)


def delete_stack(stack_name: str, localstack_url: str = LOCALSTACK_URL) -> None:
    """The stack, then what its functions left that is not the stack's: the log groups Lambda made
    before the template declared them (a new stack could not declare them again), and the functions a
    rolled-back update can leave behind on LocalStack."""
    cfn = aws("cloudformation", localstack_url)
    cfn.delete_stack(StackName=stack_name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack_name, WaiterConfig={"Delay": 1})
    logs, lambdas = aws("logs", localstack_url), aws("lambda", localstack_url)
    for page in logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=f"/aws/lambda/{stack_name}-"
    ):
        for group in page["logGroups"]:
            logs.delete_log_group(logGroupName=group["logGroupName"])
    for page in lambdas.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            if function["FunctionName"].startswith(f"{stack_name}-"):
                lambdas.delete_function(FunctionName=function["FunctionName"])


def finish(stack_name: str) -> dict[str, Any]:
    endpoints = describe(stack_name)
    # SES refuses a sender it has not verified.
    aws("ses").verify_email_identity(EmailAddress=endpoints["email_sender"])
    if endpoints["email_feedback_topic_arn"]:
        ensure_email_feedback(f"{endpoints['queue_prefix']}-email", endpoints["email_feedback_topic_arn"])
    ENDPOINTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    # Keep what other tools added (make api's sam_api_url); the stack's own keys are refreshed.
    earlier = json.loads(ENDPOINTS_FILE.read_text()) if ENDPOINTS_FILE.exists() else {}
    endpoints = earlier | endpoints
    _write_endpoints(endpoints)
    print(f"up: wrote {ENDPOINTS_FILE.relative_to(ROOT)}")

    migrated = invoke_migrate(endpoints)
    print(f"up: Migrate function applied {migrated['applied'] or 'nothing (up to date)'}")
    api = endpoints["api_url"]

    def healthy() -> bool:
        status, _ = http("GET", f"{api}/health", timeout=20)
        return status == 200

    started = time.monotonic()
    wait_for(healthy, timeout=90, interval=0.5, what="GET /health through API Gateway answering 200")
    print(f"up: API healthy after {time.monotonic() - started:.1f} s: {api}/health")
    endpoints["api_key"] = ensure_local_key(api, earlier.get("api_key"))
    _write_endpoints(endpoints)
    headers = {"Authorization": f"Bearer {endpoints['api_key']}"}
    for path, rows in (("/directory/movies", DEMO_MOVIES), ("/directory/users", DEMO_USERS)):
        status, body = http("PUT", f"{api}{path}", rows, headers)
        if status != 200:
            raise RuntimeError(f"PUT {path} answered {status}: {body}")
        print(f"up: demo directory {path}: {body}")
    return endpoints


# The template's list: only the events that move a notification or the suppression list on.
_FEEDBACK_EVENT_TYPES = ["delivery", "bounce", "complaint", "reject"]


def ensure_email_feedback(
    configuration_set: str, topic_arn: str, localstack_url: str = LOCALSTACK_URL
) -> str:
    """The configuration set the e-mail sender names and its SNS event destination onto the feedback
    topic, made through the SES API: LocalStack's CloudFormation skips both without a word (and its
    `SendRawEmail` does not check the set's name, so without this nothing arrives and nothing fails).
    Safe to run again. Returns the destination's name."""
    ses = aws("ses", localstack_url)
    with contextlib.suppress(ses.exceptions.ConfigurationSetAlreadyExistsException):
        ses.create_configuration_set(ConfigurationSet={"Name": configuration_set})
    found = ses.describe_configuration_set(
        ConfigurationSetName=configuration_set, ConfigurationSetAttributeNames=["eventDestinations"]
    ).get("EventDestinations", [])
    for destination in found:
        if destination.get("SNSDestination", {}).get("TopicARN") == topic_arn and destination.get("Enabled"):
            print(f"up: SES configuration set {configuration_set} → {destination['Name']} already in place")
            return str(destination["Name"])
    base = f"{configuration_set}-feedback"
    # A destination's name stays taken across every configuration set, even deleted ones: a set made
    # again after a deletion gets a numbered name.
    for attempt in range(1, 100):
        name = base if attempt == 1 else f"{base}-{attempt}"
        try:
            ses.create_configuration_set_event_destination(
                ConfigurationSetName=configuration_set,
                EventDestination={
                    "Name": name,
                    "Enabled": True,
                    "MatchingEventTypes": _FEEDBACK_EVENT_TYPES,
                    "SNSDestination": {"TopicARN": topic_arn},
                },
            )
        except ses.exceptions.EventDestinationAlreadyExistsException:
            continue
        print(f"up: SES configuration set {configuration_set} → {name} → {topic_arn.rsplit(':', 1)[-1]}")
        return name
    raise RuntimeError(f"no free event destination name for {configuration_set} after {base}-99")


def _write_endpoints(endpoints: dict[str, Any]) -> None:
    # The file holds the local admin key: readable by its owner only.
    ENDPOINTS_FILE.touch(mode=0o600, exist_ok=True)
    ENDPOINTS_FILE.chmod(0o600)
    ENDPOINTS_FILE.write_text(json.dumps(endpoints, indent=2) + "\n")


def ensure_local_key(api: str, key: str | None, dsn: str = DATABASE_URL) -> str:
    """The local admin key: the one endpoints.json holds while the API still takes it, else a new one
    made on the database (a fresh or reset database has none). No rate limit: the generator, the
    benchmarks and the fuzzing must not be throttled."""
    if key:
        status, body = http("GET", f"{api}/keys", headers={"Authorization": f"Bearer {key}"}, timeout=30)
        if status == 200:
            print(f"up: the local admin key {key_id_of(key)} still works")
            return key
        if status not in {401, 403}:
            raise RuntimeError(f"GET /keys answered {status}: {body}")
    store = PostgresStore(dsn, max_connections=1)
    try:
        issued = issue_key("local admin (make up)", ["admin"], None, now=datetime.now(UTC), keys=store)
    finally:
        store.close()
    print(f'up: made the local admin key {issued.record.key_id} (.local/endpoints.json, "api_key")')
    return issued.key
