"""Provisioned concurrency configurations: versions and aliases only, IN_PROGRESS then READY,
the reserved and account concurrency rules, conflicts between a version and its alias."""

from __future__ import annotations

import re
import uuid
from typing import Any, Iterator

import pytest
from botocore.config import Config as BotoConfig

from lambda_helpers import ACCOUNT, REGION, ROLE, error_of, python_zip, wait_provisioned

SOURCE = "def handler(event, context):\n    return 1\n"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")


def _ready(requested: int, modified: str) -> dict[str, Any]:
    return {"RequestedProvisionedConcurrentExecutions": requested, "AvailableProvisionedConcurrentExecutions": requested,
            "AllocatedProvisionedConcurrentExecutions": requested, "Status": "READY", "LastModified": modified}


def _body(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def test_put_get_list_delete(lam: Any, create: Any, fname: str) -> None:
    arn = create(SOURCE, Publish=True)["FunctionArn"].rsplit(":", 1)[0]
    lam.update_function_configuration(FunctionName=fname, Description="second")
    lam.publish_version(FunctionName=fname)
    lam.create_alias(FunctionName=fname, Name="live", FunctionVersion="2")

    put = lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="1", ProvisionedConcurrentExecutions=3)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert TIMESTAMP.match(put["LastModified"])
    assert _body(put) == {"RequestedProvisionedConcurrentExecutions": 3, "AvailableProvisionedConcurrentExecutions": 0,
                          "AllocatedProvisionedConcurrentExecutions": 0, "Status": "IN_PROGRESS",
                          "LastModified": put["LastModified"]}
    # READY once its three environments are initialized (test_provisioned_environments.py)
    assert _body(wait_provisioned(lam, fname, "1")) == _ready(3, put["LastModified"])
    aliased = lam.put_provisioned_concurrency_config(FunctionName=f"{arn}:live", ProvisionedConcurrentExecutions=2,
                                                     Qualifier="live")
    wait_provisioned(lam, fname, "live")
    listed = lam.list_provisioned_concurrency_configs(FunctionName=fname)["ProvisionedConcurrencyConfigs"]
    assert listed == [{"FunctionArn": f"{arn}:1", **_ready(3, put["LastModified"])},
                      {"FunctionArn": f"{arn}:live", **_ready(2, aliased["LastModified"])}]
    first = lam.list_provisioned_concurrency_configs(FunctionName=fname, MaxItems=1)
    assert [c["FunctionArn"] for c in first["ProvisionedConcurrencyConfigs"]] == [f"{arn}:1"]
    rest = lam.list_provisioned_concurrency_configs(FunctionName=fname, Marker=first["NextMarker"])
    assert [c["FunctionArn"] for c in rest["ProvisionedConcurrencyConfigs"]] == [f"{arn}:live"]
    assert "NextMarker" not in rest

    # a Put again replaces the amount
    lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="1", ProvisionedConcurrentExecutions=5)
    assert wait_provisioned(lam, fname, "1")["AllocatedProvisionedConcurrentExecutions"] == 5

    deleted = lam.delete_provisioned_concurrency_config(FunctionName=fname, Qualifier="1")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException) as missing:
        lam.get_provisioned_concurrency_config(FunctionName=fname, Qualifier="1")
    assert error_of(missing) == ("ProvisionedConcurrencyConfigNotFoundException",
                                 "No Provisioned Concurrency Config found for this function", 404)
    # deleting the alias deletes its configuration; a new alias of that name starts without one
    lam.delete_alias(FunctionName=fname, Name="live")
    lam.create_alias(FunctionName=fname, Name="live", FunctionVersion="2")
    assert lam.list_provisioned_concurrency_configs(FunctionName=fname)["ProvisionedConcurrencyConfigs"] == []


def test_latest_and_missing_targets(lam: Any, create: Any, fname: str, aws_client: Any) -> None:
    arn = create(SOURCE, Publish=True)["FunctionArn"].rsplit(":", 1)[0]
    lam.create_alias(FunctionName=fname, Name="dev", FunctionVersion="$LATEST")
    for qualifier in ("$LATEST", "dev"):
        with pytest.raises(lam.exceptions.InvalidParameterValueException) as latest:
            lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier=qualifier,
                                                   ProvisionedConcurrentExecutions=1)
        assert error_of(latest) == ("InvalidParameterValueException",
                                    "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
                                    400)
    for call in (lam.get_provisioned_concurrency_config, lam.delete_provisioned_concurrency_config):
        with pytest.raises(lam.exceptions.InvalidParameterValueException) as latest:
            call(FunctionName=fname, Qualifier="$LATEST")
        assert error_of(latest) == ("InvalidParameterValueException",
                                    "The function resource provided must be an alias or a published version.", 400)
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as no_version:
        lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="9", ProvisionedConcurrentExecutions=1)
    assert error_of(no_version) == ("ResourceNotFoundException", f"Function not found: {arn}:9", 404)
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as no_alias:
        lam.get_provisioned_concurrency_config(FunctionName=fname, Qualifier="nope")
    assert error_of(no_alias) == ("ResourceNotFoundException", f"Cannot find alias arn: {arn}:nope", 404)
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as no_function:
        lam.list_provisioned_concurrency_configs(FunctionName=f"{fname}-none")
    assert error_of(no_function) == ("ResourceNotFoundException",
                                     f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fname}-none", 404)
    unvalidated = aws_client("lambda", config=BotoConfig(parameter_validation=False, retries={"max_attempts": 1}))
    with pytest.raises(lam.exceptions.ClientError) as zero:
        unvalidated.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="1", ProvisionedConcurrentExecutions=0)
    assert error_of(zero) == ("ValidationException", "1 validation error detected: Value '0' at "
                              "'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value "
                              "greater than or equal to 1", 400)
    # deleting a version or alias without a configuration is not an error
    assert lam.delete_provisioned_concurrency_config(FunctionName=fname, Qualifier="1")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204


def test_version_and_alias_conflicts(lam: Any, create: Any, fname: str) -> None:
    create(SOURCE, Publish=True)
    lam.create_alias(FunctionName=fname, Name="live", FunctionVersion="1")
    lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="1", ProvisionedConcurrentExecutions=1)
    with pytest.raises(lam.exceptions.ResourceConflictException) as through_alias:
        lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="live", ProvisionedConcurrentExecutions=1)
    assert error_of(through_alias) == (
        "ResourceConflictException",
        "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version", 409)
    lam.delete_provisioned_concurrency_config(FunctionName=fname, Qualifier="1")
    lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="live", ProvisionedConcurrentExecutions=1)
    with pytest.raises(lam.exceptions.ResourceConflictException) as directly:
        lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="1", ProvisionedConcurrentExecutions=1)
    assert error_of(directly) == ("ResourceConflictException", "Version is pointed by a Provisioned Concurrency alias",
                                  409)


@pytest.fixture
def second_function(lam: Any) -> Iterator[str]:
    name = f"fn-{uuid.uuid4().hex[:12]}"
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": python_zip(SOURCE)}, Publish=True)
    yield name
    lam.delete_function(FunctionName=name)


def test_reserved_and_account_concurrency(lam: Any, create: Any, fname: str, second_function: str) -> None:
    create(SOURCE, Publish=True)
    for description in ("two", "three"):
        lam.update_function_configuration(FunctionName=fname, Description=description)
        lam.publish_version(FunctionName=fname)
    lam.put_function_concurrency(FunctionName=fname, ReservedConcurrentExecutions=10)
    lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="1", ProvisionedConcurrentExecutions=6)
    over = ("InvalidParameterValueException",
            "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function",
            400)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as too_many:
        lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="2", ProvisionedConcurrentExecutions=5)
    assert error_of(too_many) == over
    lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="2", ProvisionedConcurrentExecutions=4)
    # replacing a configuration counts its new amount, not old + new
    lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="1", ProvisionedConcurrentExecutions=6)
    # reserved concurrency may not go below the provisioned total (6 + 4)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as below:
        lam.put_function_concurrency(FunctionName=fname, ReservedConcurrentExecutions=9)
    assert error_of(below) == ("InvalidParameterValueException", "ReservedConcurrentExecutions 9 should not be lower "
                               "than function's total provisioned concurrency [10].", 400)
    lam.put_function_concurrency(FunctionName=fname, ReservedConcurrentExecutions=10)
    reserved_ten = lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    lam.delete_function_concurrency(FunctionName=fname)

    # without reserved concurrency it comes out of the account's unreserved pool (which keeps 100):
    # fname's two configurations (10) now count there instead of its reserved 10
    unreserved = lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    assert unreserved == reserved_ten
    floor = ("InvalidParameterValueException", "Specified ConcurrentExecutions for function decreases account's "
             "UnreservedConcurrentExecution below its minimum value of [100].", 400)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as pool:
        lam.put_provisioned_concurrency_config(FunctionName=second_function, Qualifier="1",
                                               ProvisionedConcurrentExecutions=unreserved - 100 + 1)
    assert error_of(pool) == floor
    lam.put_provisioned_concurrency_config(FunctionName=second_function, Qualifier="1",
                                           ProvisionedConcurrentExecutions=unreserved - 100)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as pool:
        lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="3", ProvisionedConcurrentExecutions=1)
    assert error_of(pool) == floor
