"""Least privilege, checked: each AWS call a function made, and each call Lambda makes with the
function's role on its behalf, judged against that role as the translated template grants it.

- The calls a function makes are recorded by the function itself (notify.adapters.aws.AWS_CALLS).
- The calls Lambda makes with the role never pass through botocore; they follow from the template:
  polling each SQS trigger (its event source mapping) and writing the function's logs.
- The evaluator is moto's IAMPolicy, which judges one policy document, one action and one resource at
  a time. A role is the union of its documents (inline and managed): a call passes when one document
  allows it and none denies it.
- The evaluator does not know which resource an operation is authorised on: `call_needs` maps each
  operation the service makes to the ARNs IAM checks. An operation it has no rule for fails the check.
- Where a document grants an action on "*", that action must be one AWS lets no resource be named
  for, or one the function was seen calling on no resource (SMS to a phone number).
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.aws_managed_policies import aws_managed_policies_data

from notify_dev.intrinsics import NO_VALUE, Deployment, Resolver

# Batch operations are authorised as their single form.
_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
# Actions for which the Service Authorization Reference lists no resource type: "*" is the only grant.
NO_RESOURCE_TYPE = frozenset(
    {
        "sns:CreatePlatformApplication",
        "sns:ListPhoneNumbersOptedOut",
        "sqs:ListQueues",
        "cloudwatch:PutMetricData",
        "logs:DescribeLogGroups",
    }
)
# What Lambda does with the role for each SQS trigger (what AWSLambdaSQSQueueExecutionRole grants).
POLLING = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
LOGGING = ("logs:CreateLogStream", "logs:PutLogEvents")
# What Lambda does with the role for a function in a VPC (AWSLambdaVPCAccessExecutionRole): on "*".
VPC = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


class UnknownCall(ValueError):
    """An operation the check has no resource rule for: it fails closed."""


@dataclass(frozen=True)
class Call:
    function: str  # the function's physical name
    service: str
    operation: str
    resource: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Need:
    """One authorisation AWS makes: `action` on `resource`, and why it is made."""

    action: str
    resource: str
    why: str


def read_calls(lines: Iterable[str], since: float = 0.0) -> list[Call]:
    """The recorded calls (JSON lines of notify.adapters.aws.AWS_CALLS) made at or after `since`."""
    calls = []
    for line in lines:
        if line.strip():
            entry = json.loads(line)
            if float(entry.get("at", 0)) >= since:
                calls.append(Call(entry["function"], entry["service"], entry["operation"], entry["resource"]))
    return calls


def call_needs(call: Call, deployment: Deployment) -> list[Need]:
    action = f"{call.service}:{_ACTIONS.get(call.operation, call.operation)}"
    named = call.resource
    why = f"{call.service}.{call.operation}"
    here = f"arn:{deployment.partition}:{call.service}:{deployment.region}:{deployment.account}"
    if action in NO_RESOURCE_TYPE:
        return [Need(action, "*", why)]
    if call.service == "sqs":
        if "QueueUrl" in named:
            account, name = named["QueueUrl"].rstrip("/").split("/")[-2:]
            return [Need(action, f"arn:{deployment.partition}:sqs:{deployment.region}:{account}:{name}", why)]
        if "QueueName" in named:
            account = named.get("QueueOwnerAWSAccountId", deployment.account)
            queue = f"arn:{deployment.partition}:sqs:{deployment.region}:{account}:{named['QueueName']}"
            return [Need(action, queue, why)]
    if call.service == "sns":
        for key in ("TargetArn", "TopicArn", "PlatformApplicationArn"):
            if key in named:
                return [Need(action, named[key], why)]
        if "PhoneNumber" in named:
            return [Need(action, "*", f"{why} to a phone number (no resource: AWS's design)")]
    if call.service == "ses" and call.operation in ("SendEmail", "SendRawEmail"):
        # The sending identity (here its domain) and the configuration set are both authorised.
        needs = [Need(action, f"{here}:identity/{named['SourceDomain']}", why)]
        if "ConfigurationSetName" in named:
            configuration_set = f"{here}:configuration-set/{named['ConfigurationSetName']}"
            needs.append(Need(action, configuration_set, why))
        return needs
    if call.service == "secretsmanager" and "SecretId" in named:
        secret = named["SecretId"]
        # A secret's ARN ends in six random characters after its name.
        return [Need(action, secret if secret.startswith("arn:") else f"{here}:secret:{secret}-AbCdEf", why)]
    raise UnknownCall(f"{action} ({sorted(named)}): no rule for the resource it acts on")


class Roles:
    """Each function's role in a translated template, read as one deployment resolves it."""

    def __init__(self, template: Mapping[str, Any], deployment: Deployment) -> None:
        self.template = template
        self.deployment = deployment
        self.resolver = Resolver(template, deployment)
        self.resources: Mapping[str, Any] = template["Resources"]
        self.functions = {
            str(self.resolver.resolve({"Ref": logical})): logical
            for logical, resource in self.resources.items()
            if resource["Type"] == "AWS::Lambda::Function"
        }

    def role_of(self, function_logical: str) -> str:
        role = self.resources[function_logical]["Properties"]["Role"]
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            raise UnknownCall(f"{function_logical}: its role is not one of the template's")
        target = role["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])

    def documents(self, role_logical: str) -> list[dict[str, Any]]:
        properties = self.resources[role_logical]["Properties"]
        documents = [
            self.resolver.resolve(policy["PolicyDocument"]) for policy in properties.get("Policies", [])
        ]
        own = {
            str(self.resolver.resolve({"Ref": logical})): logical
            for logical, resource in self.resources.items()
            if resource["Type"] == "AWS::IAM::ManagedPolicy" and self._exists(resource)
        }
        arns = self.resolver.resolve(properties.get("ManagedPolicyArns", []))
        for arn in [] if arns is NO_VALUE else arns:
            if arn in own:
                documents.append(
                    self.resolver.resolve(self.resources[own[arn]]["Properties"]["PolicyDocument"])
                )
            else:
                name = str(arn).rsplit("/", 1)[-1]
                documents.append(_aws_managed_policies()[name]["Document"])
        for resource in self.resources.values():  # policies that name the role
            if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and self._exists(resource):
                roles = resource["Properties"].get("Roles", [])
                if {"Ref": role_logical} in roles:
                    documents.append(self.resolver.resolve(resource["Properties"]["PolicyDocument"]))
        return documents

    def _exists(self, resource: Mapping[str, Any]) -> bool:
        """Whether the deployment has this resource (its Condition holds)."""
        return "Condition" not in resource or self.resolver.condition(resource["Condition"])

    def lambda_needs(self) -> dict[str, list[Need]]:
        """By function (logical id): what Lambda does with its role (its logs, its network interfaces
        in a VPC, its SQS triggers, the destination of its failed asynchronous invocations)."""
        needs: dict[str, list[Need]] = {logical: [] for logical in self.functions.values()}
        here = f"arn:{self.deployment.partition}:logs:{self.deployment.region}:{self.deployment.account}"
        for physical, logical in self.functions.items():
            stream = f"{here}:log-group:/aws/lambda/{physical}:log-stream:*"
            needs[logical] += [Need(action, stream, "Lambda writes its logs") for action in LOGGING]
            if self.resolver.resolve(self.resources[logical]["Properties"].get("VpcConfig")) not in (
                None,
                NO_VALUE,
            ):
                needs[logical] += [
                    Need(action, "*", "Lambda's network interfaces in the VPC") for action in VPC
                ]
        for resource in self.resources.values():
            if resource["Type"] == "AWS::Lambda::EventSourceMapping":
                properties = self.resolver.resolve(resource["Properties"])
                queue = str(properties["EventSourceArn"])
                if ":sqs:" in queue:
                    logical = self._function(properties["FunctionName"])
                    needs[logical] += [
                        Need(action, queue, "Lambda polls the SQS trigger") for action in POLLING
                    ]
            if resource["Type"] == "AWS::Lambda::EventInvokeConfig":
                properties = self.resolver.resolve(resource["Properties"])
                failures = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination", "")
                if ":sqs:" in failures:
                    why = "Lambda keeps a failed invocation"
                    needs[self._function(properties["FunctionName"])].append(
                        Need("sqs:SendMessage", failures, why)
                    )
        return needs

    def _function(self, name_or_arn: Any) -> str:
        return str(self.functions[str(name_or_arn).rsplit(":", 1)[-1]])


@cache
def _aws_managed_policies() -> dict[str, Any]:
    """moto's copy of AWS's managed policies, by name (a few MB of JSON: read once)."""
    policies: dict[str, Any] = json.loads(aws_managed_policies_data)
    return policies


def allowed(policies: Sequence[IAMPolicy], need: Need) -> bool:
    results = [policy.is_action_permitted(need.action, need.resource) for policy in policies]
    return PermissionResult.DENIED not in results and PermissionResult.PERMITTED in results


def _statements(documents: Sequence[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for document in documents:
        statements = document["Statement"]
        yield from statements if isinstance(statements, list) else [statements]


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _on_everything(resource: str) -> bool:
    """'*', or an ARN whose service, region or account is a wildcard (arn:aws:sqs:*:*:*)."""
    fields = resource.split(":")
    return resource == "*" or (len(fields) > 4 and any("*" in field for field in fields[2:5]))


def _wildcard_actions(documents: Sequence[Mapping[str, Any]]) -> set[str]:
    granted: set[str] = set()
    for statement in _statements(documents):
        if statement.get("Effect") == "Allow" and any(
            map(_on_everything, _listed(statement.get("Resource")))
        ):
            granted |= set(_listed(statement.get("Action")))
    return granted


# moto's evaluator takes these for more than AWS does (NotResource, NotAction, a Condition it has no
# context for, a Deny beside them): a role that uses one cannot be judged here, so it fails the check.
_UNJUDGED = ("NotAction", "NotResource", "Condition", "NotPrincipal")


def _unjudged(documents: Sequence[Mapping[str, Any]]) -> list[str]:
    found = []
    for statement in _statements(documents):
        found += [key for key in _UNJUDGED if key in statement]
        if statement.get("Effect") != "Allow":
            found.append(f"Effect {statement.get('Effect')}")
        found += [f"'{action}'" for action in _listed(statement.get("Action")) if "*" in action]
    return sorted(set(found))


@dataclass
class Verdict:
    refused: list[str] = field(default_factory=list)  # "function: action on resource (why)"
    needless_wildcards: list[str] = field(default_factory=list)  # "function: action on *"
    checked: dict[str, int] = field(default_factory=dict)  # function -> authorisations checked


def judge(roles: Roles, calls: Iterable[Call]) -> Verdict:
    """Every need of every function against its role, and every "*" grant against what needs one."""
    needs = roles.lambda_needs()
    for call in calls:
        if call.function not in roles.functions:
            raise UnknownCall(f"{call.function}: not a function of this stack")
        needs[roles.functions[call.function]] += call_needs(call, roles.deployment)
    verdict = Verdict()
    for function, function_needs in sorted(needs.items()):
        documents = roles.documents(roles.role_of(function))
        policies = [IAMPolicy(json.dumps(document)) for document in documents]
        distinct = sorted(set(function_needs), key=lambda need: (need.action, need.resource))
        verdict.checked[function] = len(distinct)
        verdict.refused += [
            f"{function}: {need.action} on {need.resource} ({need.why})"
            for need in distinct
            if not allowed(policies, need)
        ]
        verdict.refused += [
            f"{function}: its role has {what}, which this check cannot judge" for what in _unjudged(documents)
        ]
        on_nothing = {need.action for need in distinct if need.resource == "*"}
        verdict.needless_wildcards += [
            f"{function}: {action} on *"
            for action in sorted(_wildcard_actions(documents))
            if action not in NO_RESOURCE_TYPE and action not in on_nothing
        ]
    return verdict
