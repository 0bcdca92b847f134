"""AWS managed policies, available by ARN (``arn:aws:iam::aws:policy/<path><name>``).

Source: written by hand from the "AWS managed policy reference" pages of the AWS documentation
(docs.aws.amazon.com/aws-managed-policy/latest/reference/), one entry per policy with the version
id the page showed. Only policies short enough to write out whole are included (none is
abridged); AWS revises them now and then, so version ids and action lists can lag the live pages.
ARNs not listed here answer NoSuchEntity, as an unknown ARN would.
"""

from __future__ import annotations

from typing import Any

V = "2012-10-17"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": V, "Statement": list(statements)}


# name -> (path, default version id, document, description)
AWS_MANAGED: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "AdministratorAccess": ("/", "v1", _doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                            "Provides full access to AWS services and resources."),
    "PowerUserAccess": ("/", "v5", _doc(
        {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["account:GetAccountInformation", "account:GetPrimaryEmail",
                                       "account:ListRegions", "iam:CreateServiceLinkedRole",
                                       "iam:DeleteServiceLinkedRole", "iam:ListRoles",
                                       "organizations:DescribeOrganization"], "Resource": "*"}),
        "Provides full access to AWS services and resources, but does not allow management of Users and groups."),
    "IAMFullAccess": ("/", "v2", _doc(
        {"Effect": "Allow", "Action": ["iam:*", "organizations:DescribeAccount", "organizations:DescribeOrganization",
                                       "organizations:DescribeOrganizationalUnit", "organizations:DescribePolicy",
                                       "organizations:ListChildren", "organizations:ListParents",
                                       "organizations:ListPoliciesForTarget", "organizations:ListRoots",
                                       "organizations:ListPolicies", "organizations:ListTargetsForPolicy"],
         "Resource": "*"}), "Provides full access to IAM via the AWS Management Console."),
    "IAMReadOnlyAccess": ("/", "v4", _doc(
        {"Effect": "Allow", "Action": ["iam:GenerateCredentialReport", "iam:GenerateServiceLastAccessedDetails",
                                       "iam:Get*", "iam:List*", "iam:SimulateCustomPolicy",
                                       "iam:SimulatePrincipalPolicy"], "Resource": "*"}),
        "Provides read only access to IAM via the AWS Management Console."),
    "IAMUserChangePassword": ("/", "v2", _doc(
        {"Effect": "Allow", "Action": ["iam:ChangePassword"], "Resource": ["arn:aws:iam::*:user/${aws:username}"]},
        {"Effect": "Allow", "Action": ["iam:GetAccountPasswordPolicy"], "Resource": "*"}),
        "Provides the ability for an IAM user to change their own password."),
    "AmazonS3FullAccess": ("/", "v2", _doc(
        {"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"], "Resource": "*"}),
        "Provides full access to all buckets via the AWS Management Console."),
    "AmazonS3ReadOnlyAccess": ("/", "v3", _doc(
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*",
                                       "s3-object-lambda:List*"], "Resource": "*"}),
        "Provides read only access to all buckets via the AWS Management Console."),
    "AmazonSQSFullAccess": ("/", "v2", _doc(
        {"Effect": "Allow", "Action": ["sqs:*"], "Resource": "*"}),
        "Provides full access to Amazon SQS via the AWS Management Console."),
    "AmazonSQSReadOnlyAccess": ("/", "v3", _doc(
        {"Effect": "Allow", "Action": ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListDeadLetterSourceQueues",
                                       "sqs:ListQueues", "sqs:ListMessageMoveTasks", "sqs:ListQueueTags"],
         "Resource": "*"}), "Provides read only access to Amazon SQS via the AWS Management Console."),
    "AWSLambdaBasicExecutionRole": ("/service-role/", "v1", _doc(
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"}), "Provides write permissions to CloudWatch Logs."),
    "AWSLambdaSQSQueueExecutionRole": ("/service-role/", "v2", _doc(
        {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                       "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"}), "Provides receive message, delete message, and read attribute access to SQS queues, "
                            "and write permissions to CloudWatch logs."),
    "AWSLambdaDynamoDBExecutionRole": ("/service-role/", "v1", _doc(
        {"Effect": "Allow", "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                                       "dynamodb:ListStreams", "logs:CreateLogGroup", "logs:CreateLogStream",
                                       "logs:PutLogEvents"], "Resource": "*"}),
        "Provides list and read access to DynamoDB streams and write permissions to CloudWatch logs."),
    "AmazonDynamoDBReadOnlyAccess": ("/", "v13", _doc(
        {"Action": ["application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingActivities",
                    "application-autoscaling:DescribeScalingPolicies", "cloudwatch:DescribeAlarmHistory",
                    "cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmsForMetric", "cloudwatch:GetMetricData",
                    "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics", "cloudwatch:GetInsightRuleReport",
                    "datapipeline:DescribeObjects", "datapipeline:DescribePipelines", "datapipeline:GetPipelineDefinition",
                    "datapipeline:ListPipelines", "datapipeline:QueryObjects", "dynamodb:BatchGetItem",
                    "dynamodb:Describe*", "dynamodb:List*", "dynamodb:GetAbacStatus", "dynamodb:GetItem",
                    "dynamodb:GetResourcePolicy", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PartiQLSelect",
                    "dax:Describe*", "dax:List*", "dax:GetItem", "dax:BatchGetItem", "dax:Query", "dax:Scan",
                    "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
                    "iam:GetRole", "iam:ListRoles", "kms:DescribeKey", "kms:ListAliases", "sns:ListSubscriptionsByTopic",
                    "sns:ListTopics", "lambda:ListFunctions", "lambda:ListEventSourceMappings",
                    "lambda:GetFunctionConfiguration", "resource-groups:ListGroups",
                    "resource-groups:ListGroupResources", "resource-groups:GetGroup", "resource-groups:GetGroupQuery",
                    "tag:GetResources", "kinesis:ListStreams", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary"],
         "Effect": "Allow", "Resource": "*"},
        {"Action": "cloudwatch:GetInsightRuleReport", "Effect": "Allow",
         "Resource": "arn:aws:cloudwatch:*:*:insight-rule/DynamoDBContributorInsights*"}),
        "Provides read only access to Amazon DynamoDB via the AWS Management Console."),
}


def managed_arn(name: str) -> str:
    path, _, _, _ = AWS_MANAGED[name]
    return f"arn:aws:iam::aws:policy{path}{name}"


def by_arn() -> dict[str, tuple[str, str, str, dict[str, Any], str]]:
    """arn -> (name, path, default version, document, description)."""
    return {managed_arn(n): (n, p, v, d, desc) for n, (p, v, d, desc) in AWS_MANAGED.items()}
