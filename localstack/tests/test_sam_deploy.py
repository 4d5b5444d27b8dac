"""A SAM template deployed through CloudFormation on LocalStack: an SQS-triggered function that reports
partial batch failures, run by the host executor."""

from __future__ import annotations

import uuid

from conftest import make_zip, wait_for

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  CodeBucket: {Type: String}
  CodeKey: {Type: String}
Resources:
  DeadLetters:
    Type: AWS::SQS::Queue
  Inbox:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 2
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt DeadLetters.Arn
        maxReceiveCount: 2
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      CodeUri: {Bucket: !Ref CodeBucket, Key: !Ref CodeKey}
      Timeout: 5
      MemorySize: 256
      Environment:
        Variables: {MODE: sam}
      Events:
        FromInbox:
          Type: SQS
          Properties:
            Queue: !GetAtt Inbox.Arn
            BatchSize: 10
            MaximumBatchingWindowInSeconds: 0
            FunctionResponseTypes: [ReportBatchItemFailures]
Outputs:
  InboxUrl: {Value: !Ref Inbox}
  DeadLettersUrl: {Value: !Ref DeadLetters}
  FunctionName: {Value: !Ref Worker}
"""

WORKER = """
import os

def handler(event, context):
    failures = []
    for record in event["Records"]:
        body = record["body"]
        print(os.environ["MODE"], "got", body, "receive", record["attributes"]["ApproximateReceiveCount"])
        if body.startswith("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
"""


def test_sam_sqs_function_with_partial_batch_response(aws):
    s3, cfn, sqs, logs = aws("s3"), aws("cloudformation"), aws("sqs"), aws("logs")
    suffix = uuid.uuid4().hex[:8]
    bucket, stack_name = f"hx-code-{suffix}", f"hx-sam-{suffix}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="worker.zip", Body=make_zip({"app.py": WORKER}))

    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=TEMPLATE,
        Parameters=[
            {"ParameterKey": "CodeBucket", "ParameterValue": bucket},
            {"ParameterKey": "CodeKey", "ParameterValue": "worker.zip"},
        ],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=stack_name, WaiterConfig={"Delay": 1})
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        function = outputs["FunctionName"]
        mappings = aws("lambda").list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
        assert [m["FunctionResponseTypes"] for m in mappings] == [["ReportBatchItemFailures"]]

        sqs.send_message_batch(
            QueueUrl=outputs["InboxUrl"],
            Entries=[{"Id": "1", "MessageBody": "ok-1"}, {"Id": "2", "MessageBody": "fail-2"}],
        )

        # the failed item alone comes back and, after two receives, lands in the dead-letter queue
        def dead_letters() -> list[str]:
            got = sqs.receive_message(QueueUrl=outputs["DeadLettersUrl"], WaitTimeSeconds=1)
            return [m["Body"] for m in got.get("Messages", [])]

        assert wait_for(dead_letters, timeout=40) == ["fail-2"]
        attributes = sqs.get_queue_attributes(QueueUrl=outputs["InboxUrl"], AttributeNames=["All"])[
            "Attributes"
        ]
        assert attributes["ApproximateNumberOfMessages"] == "0"
        assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"

        def lines() -> list[str]:
            try:
                events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"]
            except logs.exceptions.ResourceNotFoundException:
                return []
            return [e["message"].strip() for e in events if " got " in e["message"]]

        got = wait_for(lambda: (found := lines()) and len(found) >= 3 and found, timeout=15)
        assert sorted(got) == [
            "sam got fail-2 receive 1",
            "sam got fail-2 receive 2",
            "sam got ok-1 receive 1",
        ]
    finally:
        cfn.delete_stack(StackName=stack_name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack_name, WaiterConfig={"Delay": 1})
        for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=obj["Key"])
        s3.delete_bucket(Bucket=bucket)
