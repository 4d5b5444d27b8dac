"""CloudFormation's intrinsic functions, resolved against one deployment of a translated template.

What the least-privilege check needs to read a role's policies as AWS would: Ref (parameters, pseudo
parameters, resources), Fn::GetAtt (the Arn of the resources the policies name), Fn::Sub, Fn::Join,
Fn::Select, Fn::Split, Fn::If with the template's Conditions, and AWS::NoValue. A function or an
attribute it does not know raises UnresolvedIntrinsic, so that a policy is never judged on a guess.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = object()  # AWS::NoValue: the property or list item is left out


class UnresolvedIntrinsic(ValueError):
    pass


@dataclass(frozen=True)
class Deployment:
    """One stack: its parameter values, and each resource's physical id (by logical id)."""

    region: str
    account: str
    stack_name: str
    parameters: Mapping[str, str]
    physical_ids: Mapping[str, str]
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"
    conditions: dict[str, bool] = field(default_factory=dict)


def queue_name(url: str) -> str:
    """An SQS queue's name from its URL (a queue's physical id) or from its name."""
    return url.rstrip("/").rsplit("/", 1)[-1]


# The Arn of a resource, from its type and physical id (what Fn::GetAtt X.Arn gives).
def _arn(kind: str, physical: str, deployment: Deployment) -> str:
    base = f"arn:{deployment.partition}"
    where = f"{deployment.region}:{deployment.account}"
    if kind == "AWS::SQS::Queue":  # the physical id is the queue's URL
        return f"{base}:sqs:{where}:{queue_name(physical)}"
    if kind == "AWS::Lambda::Function":
        return f"{base}:lambda:{where}:function:{physical}"
    if kind == "AWS::IAM::Role":
        return f"{base}:iam::{deployment.account}:role/{physical}"
    if kind == "AWS::Logs::LogGroup":
        return f"{base}:logs:{where}:log-group:{physical}:*"
    if kind in ("AWS::SNS::Topic", "AWS::IAM::ManagedPolicy") or physical.startswith("arn:"):
        return physical
    raise UnresolvedIntrinsic(f"no Arn known for a {kind}")


class Resolver:
    def __init__(self, template: Mapping[str, Any], deployment: Deployment) -> None:
        self._template = template
        self._deployment = deployment
        self._resources: Mapping[str, Any] = template.get("Resources", {})
        self._conditions: dict[str, bool] = dict(deployment.conditions)

    def parameter(self, name: str) -> str:
        if name in self._deployment.parameters:
            return str(self._deployment.parameters[name])
        declared = self._template.get("Parameters", {}).get(name)
        if declared is None or "Default" not in declared:
            raise UnresolvedIntrinsic(f"parameter {name} has no value")
        return str(declared["Default"])

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = self._truth(self._template["Conditions"][name])
        return self._conditions[name]

    def _truth(self, expression: Any) -> bool:
        (function, argument), *_ = expression.items()
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::Equals":
            return str(self.resolve(argument[0])) == str(self.resolve(argument[1]))
        if function == "Fn::Not":
            return not self._truth(argument[0])
        if function == "Fn::And":
            return all(self._truth(item) for item in argument)
        if function == "Fn::Or":
            return any(self._truth(item) for item in argument)
        if function == "Fn::Contains":  # Rules only: a value among a list of values
            return str(self.resolve(argument[1])) in [str(item) for item in self.resolve(argument[0])]
        raise UnresolvedIntrinsic(f"condition function {function}")

    def refused_by_rules(self) -> list[str]:
        """What the template's Rules refuse in this deployment: each failing assertion's description
        (CloudFormation evaluates them before it creates or changes anything)."""
        refused = []
        for name, rule in self._template.get("Rules", {}).items():
            if "RuleCondition" in rule and not self._truth(rule["RuleCondition"]):
                continue
            for assertion in rule["Assertions"]:
                if not self._truth(assertion["Assert"]):
                    refused.append(f"{name}: {assertion.get('AssertDescription', assertion['Assert'])}")
        return refused

    def _ref(self, name: str) -> Any:
        deployment = self._deployment
        pseudo = {
            "AWS::Region": deployment.region,
            "AWS::AccountId": deployment.account,
            "AWS::Partition": deployment.partition,
            "AWS::StackName": deployment.stack_name,
            "AWS::URLSuffix": deployment.url_suffix,
        }
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self._resources:
            if name not in deployment.physical_ids:
                raise UnresolvedIntrinsic(f"resource {name} is not in the stack")
            return deployment.physical_ids[name]
        value = self.parameter(name)
        if self._template.get("Parameters", {}).get(name, {}).get("Type") == "CommaDelimitedList":
            return [item.strip() for item in value.split(",")] if value else []
        return value

    def _get_att(self, logical: str, attribute: str) -> str:
        kind = self._resources.get(logical, {}).get("Type")
        if attribute == "Arn" and kind:
            return _arn(kind, str(self._ref(logical)), self._deployment)
        if (kind, attribute) == ("AWS::SQS::Queue", "QueueName"):  # the physical id is the queue's URL
            return queue_name(str(self._ref(logical)))
        raise UnresolvedIntrinsic(f"Fn::GetAtt {logical}.{attribute}")

    def _sub(self, argument: Any) -> str:
        text, names = (argument, {}) if isinstance(argument, str) else argument
        values = {key: self.resolve(value) for key, value in names.items()}

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name:
                return self._get_att(*name.split(".", 1))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(i) for i in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (function, argument), *_ = value.items()
            if function == "Ref":
                return self._ref(argument)
            if function == "Fn::GetAtt":
                logical, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
                return self._get_att(logical, attribute)
            if function == "Fn::Sub":
                return self._sub(argument)
            if function == "Fn::Join":
                return str(argument[0]).join(str(item) for item in self.resolve(argument[1]))
            if function == "Fn::Select":
                return self.resolve(argument[1])[int(self.resolve(argument[0]))]
            if function == "Fn::Split":
                return str(self.resolve(argument[1])).split(argument[0])
            if function == "Fn::If":
                return self.resolve(argument[1] if self.condition(argument[0]) else argument[2])
            if function.startswith("Fn::") or function == "Condition":
                raise UnresolvedIntrinsic(function)
        return {
            key: item
            for key, item in ((k, self.resolve(v)) for k, v in value.items())
            if item is not NO_VALUE
        }
