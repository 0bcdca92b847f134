"""Which IAM action(s) and resource ARN(s) an operation needs, and the request's context keys.

The Service Authorization Reference ("Actions, resources, and condition keys for Amazon S3 / SQS /
DynamoDB / Lambda / IAM / STS") is the source. Most operations need the action of the same name
(``dynamodb:PutItem``); the exceptions are tables below (S3's ``ListObjectsV2`` is
``s3:ListBucket``, SQS batches are the single action, Lambda ``Invoke`` is ``lambda:InvokeFunction``).
Operations on several resources (DynamoDB ``BatchWriteItem``, S3 ``CopyObject``) need every one.

:func:`authorizations` is pure: (service, operation, params, account, region) in, a list of
:class:`Authorization` out. ``params`` are the parsed input members (botocore names).
"""

from __future__ import annotations

import functools
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple
from urllib.parse import unquote, urlsplit

SERVICE_PREFIX = {"s3": "s3", "sqs": "sqs", "dynamodb": "dynamodb", "dynamodbstreams": "dynamodb",
                  "lambda": "lambda", "iam": "iam", "sts": "sts"}

# Operations anyone authenticated may call (AWS: "No permissions are required to perform this
# operation": sts:GetCallerIdentity).
ALWAYS_ALLOWED = frozenset({("sts", "GetCallerIdentity")})

S3_ACTIONS: dict[str, str] = {
    "ListBuckets": "ListAllMyBuckets", "ListObjects": "ListBucket", "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket", "HeadObject": "GetObject", "CopyObject": "PutObject",
    "DeleteObjects": "DeleteObject", "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject", "CompleteMultipartUpload": "PutObject",
    "ListMultipartUploads": "ListBucketMultipartUploads", "ListParts": "ListMultipartUploadParts",
    "ListObjectVersions": "ListBucketVersions", "GetBucketCors": "GetBucketCORS", "PutBucketCors": "PutBucketCORS",
    "DeleteBucketCors": "PutBucketCORS", "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration", "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification", "DeleteBucketTagging": "PutBucketTagging",
    "GetBucketEncryption": "GetEncryptionConfiguration", "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration", "GetObjectAttributes": "GetObject",
    "PutBucketOwnershipControls": "PutBucketOwnershipControls", "DeleteBucketWebsite": "DeleteBucketWebsite",
    "GetBucketPolicyStatus": "GetBucketPolicyStatus", "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock", "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration", "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration", "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration", "RestoreObject": "RestoreObject",
    "SelectObjectContent": "GetObject", "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
    "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
    "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
    "PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
    "GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
    "PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
}
# Operations on the bucket itself (everything else with a Key is an object operation).
_S3_VERSIONED = {"GetObject": "GetObjectVersion", "HeadObject": "GetObjectVersion", "DeleteObject": "DeleteObjectVersion",
                 "GetObjectAcl": "GetObjectVersionAcl", "PutObjectAcl": "PutObjectVersionAcl",
                 "GetObjectTagging": "GetObjectVersionTagging", "PutObjectTagging": "PutObjectVersionTagging",
                 "DeleteObjectTagging": "DeleteObjectVersionTagging"}

SQS_ACTIONS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
               "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}
LAMBDA_ACTIONS = {"Invoke": "InvokeFunction", "InvokeAsync": "InvokeFunction",
                  "InvokeWithResponseStream": "InvokeFunction", "GetFunctionConfiguration": "GetFunctionConfiguration",
                  "ListVersionsByFunction": "ListVersionsByFunction", "GetLayerVersionByArn": "GetLayerVersion"}
# Lambda operations on a layer version (resource: the layer version's ARN, whose resource policy
# AddLayerVersionPermission writes), and on a layer (resource: the layer's ARN).
LAMBDA_LAYER_VERSION_OPS = frozenset({"GetLayerVersion", "GetLayerVersionByArn", "DeleteLayerVersion",
                                      "AddLayerVersionPermission", "RemoveLayerVersionPermission",
                                      "GetLayerVersionPolicy"})
DYNAMODB_ACTIONS = {"DescribeStream": "DescribeStream", "GetRecords": "GetRecords", "GetShardIterator": "GetShardIterator",
                    "ListStreams": "ListStreams"}
IAM_USER_OPS = ("User", "AccessKey", "LoginProfile", "UserPolicy", "UserPolicies", "UserTags", "SigningCertificate",
                "SSHPublicKey", "MFADevice", "UserPermissionsBoundary", "GroupsForUser", "AttachedUserPolicies",
                "ServiceSpecificCredential")


_NO_KEYS: Mapping[str, Any] = MappingProxyType({})


class Authorization(NamedTuple):
    """One (action, resource) an operation needs. A named tuple: one is built per request, and a
    tuple is the cheapest immutable record Python builds."""

    action: str
    resource: str
    context: Mapping[str, Any] = _NO_KEYS
    # Account owning the resource when the parameters name it (an SQS queue URL, an ARN).
    resource_account: str = ""


def _arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def _tags_context(tags: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    items: list[tuple[str, str]] = []
    if isinstance(tags, list):
        items = [(t.get("Key", ""), t.get("Value", "")) for t in tags if isinstance(t, dict)]
    elif isinstance(tags, dict):
        items = [(str(k), str(v)) for k, v in tags.items()]
    for k, v in items:
        ctx[f"aws:RequestTag/{k}"] = v
    if items:
        ctx["aws:TagKeys"] = [k for k, _ in items]
    return ctx


# Input members that become S3 condition keys.
_S3_CONTEXT_MEMBERS = {"Prefix": "s3:prefix", "Delimiter": "s3:delimiter", "MaxKeys": "s3:max-keys",
                       "ACL": "s3:x-amz-acl", "VersionId": "s3:VersionId"}


@functools.lru_cache(maxsize=512)
def _s3_action(operation: str, versioned: bool) -> str:
    """``GetObject`` -> ``s3:GetObject`` (``s3:GetObjectVersion`` with a VersionId), once per operation."""
    if versioned and operation in _S3_VERSIONED:
        return f"s3:{_S3_VERSIONED[operation]}"
    return f"s3:{S3_ACTIONS.get(operation, operation)}"


def _s3(operation: str, params: Mapping[str, Any], account: str) -> list[Authorization]:
    bucket = params.get("Bucket")
    key = params.get("Key")
    action = _s3_action(operation, bool(params.get("VersionId")))
    ctx: dict[str, Any] = {}
    for member, value in params.items():  # a request's few members, not every possible key
        name = _S3_CONTEXT_MEMBERS.get(member)
        if name is not None and value is not None:
            ctx[name] = str(value)
    if action == "s3:ListBucket" and "s3:prefix" not in ctx and operation.startswith("ListObjects"):
        ctx["s3:prefix"] = ""
    tagging = params.get("Tagging")
    if tagging and isinstance(tagging, str):
        pairs = [p.partition("=") for p in tagging.split("&") if p]
        ctx.update(_tags_context({unquote(k): unquote(v) for k, _, v in pairs}))
    if not bucket:
        return [Authorization(action, "*", ctx)]
    resource = f"arn:aws:s3:::{bucket}/{key}" if key is not None else f"arn:aws:s3:::{bucket}"
    out = [Authorization(action, resource, ctx)]
    if operation in ("CopyObject", "UploadPartCopy") and params.get("CopySource"):
        source = params["CopySource"]
        if isinstance(source, dict):
            source = f"{source.get('Bucket')}/{source.get('Key')}"
        source = unquote(str(source).lstrip("/").split("?versionId=")[0])
        out.append(Authorization("s3:GetObject", f"arn:aws:s3:::{source}", {}))
    if operation == "DeleteObjects":
        objects = (params.get("Delete") or {}).get("Objects") or []
        out = [Authorization("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{o.get('Key')}", ctx) for o in objects] or out
    return out


def _sqs(operation: str, params: Mapping[str, Any], account: str, region: str) -> list[Authorization]:
    action = f"sqs:{SQS_ACTIONS.get(operation, operation)}"
    url = params.get("QueueUrl")
    ctx = _tags_context(params.get("tags") or params.get("Tags")) if operation in ("CreateQueue", "TagQueue") else {}
    if url:
        parts = urlsplit(url).path.strip("/").split("/")
        if len(parts) >= 2:
            q_account, name = parts[-2], parts[-1]
            return [Authorization(action, f"arn:aws:sqs:{region}:{q_account}:{name}", ctx, q_account)]
    if params.get("QueueName") and operation in ("CreateQueue", "GetQueueUrl"):
        owner = params.get("QueueOwnerAWSAccountId") or account
        return [Authorization(action, f"arn:aws:sqs:{region}:{owner}:{params['QueueName']}", ctx, owner)]
    if operation == "StartMessageMoveTask" and params.get("SourceArn"):
        return [Authorization(action, params["SourceArn"], ctx, _arn_account(params["SourceArn"]))]
    return [Authorization(action, "*", ctx)]


def _dynamodb(operation: str, params: Mapping[str, Any], account: str, region: str) -> list[Authorization]:
    action = f"dynamodb:{DYNAMODB_ACTIONS.get(operation, operation)}"

    def table_arn(name: str) -> str:
        if name.startswith("arn:"):
            return name
        return f"arn:aws:dynamodb:{region}:{account}:table/{name}"

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Authorization(action, table_arn(t), {}) for t in (params.get("RequestItems") or {})] or [
            Authorization(action, "*")]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        out = []
        for item in params.get("TransactItems") or []:
            for kind, body in item.items():
                sub = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                       "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}.get(kind, kind)
                out.append(Authorization(f"dynamodb:{sub}", table_arn(body.get("TableName", "")), {}))
        return out or [Authorization(action, "*")]
    if params.get("StreamArn"):
        return [Authorization(action, params["StreamArn"], {}, _arn_account(params["StreamArn"]))]
    if params.get("ResourceArn"):
        return [Authorization(action, params["ResourceArn"], {}, _arn_account(params["ResourceArn"]))]
    # DescribeBackup, DeleteBackup, RestoreTableFromBackup: the backup; DescribeExport, DescribeImport:
    # the export or import; ExportTableToPointInTime: the table (TableArn).
    for arn_param in ("BackupArn", "ExportArn", "ImportArn", "TableArn"):
        if params.get(arn_param) and operation not in ("ListExports", "ListImports"):
            return [Authorization(action, params[arn_param], {}, _arn_account(params[arn_param]))]
    if operation == "ImportTable":  # the table it creates
        params = params.get("TableCreationParameters") or {}
    name = params.get("TableName")
    if operation == "RestoreTableToPointInTime":  # the source table
        name = params.get("SourceTableArn") or params.get("SourceTableName")
    if not name:
        return [Authorization(action, "*")]
    resource = table_arn(name)
    if params.get("IndexName") and operation in ("Query", "Scan"):
        resource += f"/index/{params['IndexName']}"
    ctx: dict[str, Any] = {}
    key = params.get("Key") or params.get("Item")
    if isinstance(key, dict) and key:
        first = next(iter(key.values()))
        if isinstance(first, dict) and first:
            ctx["dynamodb:LeadingKeys"] = [str(next(iter(first.values())))]
    if params.get("Select"):
        ctx["dynamodb:Select"] = params["Select"]
    if params.get("ReturnValues"):
        ctx["dynamodb:ReturnValues"] = params["ReturnValues"]
    return [Authorization(action, resource, ctx, _arn_account(resource))]


def _lambda(operation: str, params: Mapping[str, Any], account: str, region: str) -> list[Authorization]:
    base = operation
    for suffix in ("20150331", "20150331v2", "20170331", "20181031"):
        base = base.removesuffix(suffix)
    action = f"lambda:{LAMBDA_ACTIONS.get(base, base)}"
    if base in LAMBDA_LAYER_VERSION_OPS or base == "PublishLayerVersion":
        layer = _layer_arn(params, account, region)
        if layer is None:
            return [Authorization(action, "*")]
        if base != "PublishLayerVersion" and not params.get("Arn"):
            layer += f":{params.get('VersionNumber')}"
        return [Authorization(action, layer, {}, _arn_account(layer))]
    if params.get("ResourceArn"):  # Get/Put/DeleteResourcePolicy
        return [Authorization(action, params["ResourceArn"], {}, _arn_account(params["ResourceArn"]))]
    name = params.get("FunctionName")
    if not name:
        if params.get("CodeSigningConfigArn"):
            return [Authorization(action, params["CodeSigningConfigArn"], {}, _arn_account(params["CodeSigningConfigArn"]))]
        return [Authorization(action, "*")]
    if name.startswith("arn:"):
        resource = name
    elif ":" in name:  # account-id:function:name or name:qualifier
        parts = name.split(":")
        resource = (f"arn:aws:lambda:{region}:{parts[0]}:function:{parts[2]}" if len(parts) >= 3 and parts[1] == "function"
                    else f"arn:aws:lambda:{region}:{account}:function:{name}")
    else:
        resource = f"arn:aws:lambda:{region}:{account}:function:{name}"
    if params.get("Qualifier") and resource.count(":") == 6:
        resource += f":{params['Qualifier']}"
    needed = [Authorization(action, resource, _tags_context(params.get("Tags")), _arn_account(resource))]
    # Using a layer needs lambda:GetLayerVersion on it (another account's layer: its layer policy).
    for layer_arn in params.get("Layers") or () if base in ("CreateFunction", "UpdateFunctionConfiguration") else ():
        needed.append(Authorization("lambda:GetLayerVersion", layer_arn, {}, _arn_account(layer_arn)))
    return needed


def _layer_arn(params: Mapping[str, Any], account: str, region: str) -> str | None:
    """The layer ARN a layer operation names (``Arn`` of GetLayerVersionByArn is the version's ARN)."""
    if params.get("Arn"):
        return str(params["Arn"])
    name = params.get("LayerName")
    if not name:
        return None
    return str(name) if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:layer:{name}"


def _iam(operation: str, params: Mapping[str, Any], account: str) -> list[Authorization]:
    action = f"iam:{operation}"
    ctx = _tags_context(params.get("Tags"))
    if params.get("PolicyArn"):
        ctx["iam:PolicyARN"] = params["PolicyArn"]
    if params.get("PermissionsBoundary"):
        ctx["iam:PermissionsBoundary"] = params["PermissionsBoundary"]
    if params.get("RoleName"):
        resource = f"arn:aws:iam::{account}:role{params.get('Path') or '/'}{params['RoleName']}"
    elif params.get("UserName") and any(op in operation for op in IAM_USER_OPS):
        resource = f"arn:aws:iam::{account}:user{params.get('Path') or '/'}{params['UserName']}"
    elif params.get("GroupName"):
        resource = f"arn:aws:iam::{account}:group{params.get('Path') or '/'}{params['GroupName']}"
    elif params.get("InstanceProfileName"):
        resource = f"arn:aws:iam::{account}:instance-profile/{params['InstanceProfileName']}"
    elif params.get("PolicyArn") and operation not in ("AttachUserPolicy", "AttachGroupPolicy", "AttachRolePolicy"):
        resource = params["PolicyArn"]
    elif params.get("PolicyName") and operation == "CreatePolicy":
        resource = f"arn:aws:iam::{account}:policy{params.get('Path') or '/'}{params['PolicyName']}"
    else:
        resource = "*"
    return [Authorization(action, resource, ctx)]


def _sts(operation: str, params: Mapping[str, Any], account: str) -> list[Authorization]:
    action = f"sts:{operation}"
    ctx: dict[str, Any] = _tags_context(params.get("Tags"))
    if params.get("ExternalId"):
        ctx["sts:ExternalId"] = params["ExternalId"]
    if params.get("RoleSessionName"):
        ctx["sts:RoleSessionName"] = params["RoleSessionName"]
    if params.get("RoleArn"):
        return [Authorization(action, params["RoleArn"], ctx, _arn_account(params["RoleArn"]))]
    if operation == "GetFederationToken" and params.get("Name"):
        return [Authorization(action, f"arn:aws:sts::{account}:federated-user/{params['Name']}", ctx)]
    return [Authorization(action, "*", ctx)]


def authorizations(service: str, operation: str, params: Mapping[str, Any], account: str, region: str) -> list[Authorization]:
    """The (action, resource, context) triples an operation must be allowed for; [] = needs none."""
    if (service, operation) in ALWAYS_ALLOWED:
        return []
    if service == "s3":
        return _s3(operation, params, account)
    if service == "sqs":
        return _sqs(operation, params, account, region)
    if service in ("dynamodb", "dynamodbstreams"):
        return _dynamodb(operation, params, account, region)
    if service == "lambda":
        return _lambda(operation, params, account, region)
    if service == "iam":
        return _iam(operation, params, account)
    if service == "sts":
        return _sts(operation, params, account)
    prefix = SERVICE_PREFIX.get(service, service)
    return [Authorization(f"{prefix}:{operation}", "*")]
