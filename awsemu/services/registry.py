"""Which provider class serves which service; imported lazily so only enabled services load."""

from __future__ import annotations

import importlib

from awsemu.services.base import Provider

# service name (botocore model name) -> "module:Class"
PROVIDERS: dict[str, str] = {
    "sts": "awsemu.services.sts.provider:StsProvider",
    "iam": "awsemu.services.iam.provider:IamProvider",
    "s3": "awsemu.services.s3.provider:S3Provider",
    "sqs": "awsemu.services.sqs.provider:SqsProvider",
    "dynamodb": "awsemu.services.dynamodb.provider:DynamoDBProvider",
    "dynamodbstreams": "awsemu.services.dynamodb.streams_provider:DynamoDBStreamsProvider",
    "lambda": "awsemu.services.lambda_.provider:LambdaProvider",
}


def provider_class(service: str) -> type[Provider] | None:
    target = PROVIDERS.get(service)
    if target is None:
        return None
    module_name, _, class_name = target.partition(":")
    cls: type[Provider] = getattr(importlib.import_module(module_name), class_name)
    return cls
