"""Stored function settings: recursive loop detection, runtime management, Managed Instances scaling."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.config import Config as BotoConfig

from lambda_helpers import ACCOUNT, REGION, error_of

SOURCE = "def handler(event, context):\n    return 1\n"
RUNTIME_VERSION = ("arn:aws:lambda:us-east-1::runtime:"
                   "0cdcfbdefbc5e7d3343f73c2e2dd3cba17d61dea0686b404502a0c9ce83931b9")


def _body(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


@pytest.fixture
def unvalidated(aws_client: Any) -> Any:
    return aws_client("lambda", config=BotoConfig(parameter_validation=False, retries={"max_attempts": 1}))


def test_recursion_config(lam: Any, create: Any, fname: str, unvalidated: Any) -> None:
    create(SOURCE)
    assert _body(lam.get_function_recursion_config(FunctionName=fname)) == {"RecursiveLoop": "Terminate"}
    assert _body(lam.put_function_recursion_config(FunctionName=fname, RecursiveLoop="Allow")) == {"RecursiveLoop": "Allow"}
    assert _body(lam.get_function_recursion_config(FunctionName=fname)) == {"RecursiveLoop": "Allow"}
    with pytest.raises(lam.exceptions.ClientError) as invalid:
        unvalidated.put_function_recursion_config(FunctionName=fname, RecursiveLoop="Sometimes")
    assert error_of(invalid) == ("ValidationException", "1 validation error detected: Value 'Sometimes' at "
                                 "'recursiveLoop' failed to satisfy constraint: Member must satisfy enum value set: "
                                 "[Allow, Terminate]", 400)
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
        lam.get_function_recursion_config(FunctionName=f"{fname}-none")
    assert error_of(missing) == ("ResourceNotFoundException",
                                 f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fname}-none", 404)


def test_runtime_management_config(lam: Any, create: Any, fname: str, unvalidated: Any) -> None:
    arn = create(SOURCE, Publish=True)["FunctionArn"].rsplit(":", 1)[0]
    assert _body(lam.get_runtime_management_config(FunctionName=fname)) == {"UpdateRuntimeOn": "Auto",
                                                                           "FunctionArn": arn}
    put = lam.put_runtime_management_config(FunctionName=fname, Qualifier="1", UpdateRuntimeOn="Manual",
                                            RuntimeVersionArn=RUNTIME_VERSION)
    assert _body(put) == {"UpdateRuntimeOn": "Manual", "FunctionArn": f"{arn}:1", "RuntimeVersionArn": RUNTIME_VERSION}
    assert _body(lam.get_runtime_management_config(FunctionName=fname, Qualifier="1")) == _body(put)
    # per version: $LATEST keeps its own
    assert lam.get_runtime_management_config(FunctionName=fname)["UpdateRuntimeOn"] == "Auto"
    lam.put_runtime_management_config(FunctionName=fname, UpdateRuntimeOn="FunctionUpdate")
    assert _body(lam.get_runtime_management_config(FunctionName=fname, Qualifier="$LATEST")) == {
        "UpdateRuntimeOn": "FunctionUpdate", "FunctionArn": arn}
    # an alias means its version
    lam.create_alias(FunctionName=fname, Name="live", FunctionVersion="1")
    assert lam.get_runtime_management_config(FunctionName=fname, Qualifier="live")["UpdateRuntimeOn"] == "Manual"

    errors = [
        ({"UpdateRuntimeOn": "Manual"}, "InvalidParameterValueException",
         "RuntimeVersionArn must be set when UpdateRuntimeOn is Manual."),
        ({"UpdateRuntimeOn": "Auto", "RuntimeVersionArn": RUNTIME_VERSION}, "InvalidParameterValueException",
         "RuntimeVersionArn cannot be set when UpdateRuntimeOn is Auto; it is only valid with Manual."),
        ({"UpdateRuntimeOn": "Never"}, "ValidationException", "1 validation error detected: Value 'Never' at "
         "'updateRuntimeOn' failed to satisfy constraint: Member must satisfy enum value set: "
         "[Auto, Manual, FunctionUpdate]"),
    ]
    for params, code, message in errors:
        with pytest.raises(lam.exceptions.ClientError) as invalid:
            unvalidated.put_runtime_management_config(FunctionName=fname, **params)
        assert error_of(invalid) == (code, message, 400)
    with pytest.raises(lam.exceptions.ClientError) as bad_arn:
        lam.put_runtime_management_config(FunctionName=fname, UpdateRuntimeOn="Manual",
                                          RuntimeVersionArn="arn:aws:lambda:us-east-1:runtime:nope")
    assert error_of(bad_arn)[0] == "ValidationException"
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
        lam.get_runtime_management_config(FunctionName=fname, Qualifier="4")
    assert error_of(missing) == ("ResourceNotFoundException", f"Function not found: {arn}:4", 404)


def test_scaling_config(lam: Any, create: Any, fname: str, unvalidated: Any) -> None:
    arn = create(SOURCE, Publish=True)["FunctionArn"].rsplit(":", 1)[0]
    assert _body(lam.get_function_scaling_config(FunctionName=fname, Qualifier="1")) == {"FunctionArn": f"{arn}:1"}
    put = lam.put_function_scaling_config(FunctionName=fname, Qualifier="$LATEST.PUBLISHED",
                                          FunctionScalingConfig={"MinExecutionEnvironments": 2,
                                                                 "MaxExecutionEnvironments": 8})
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert _body(put) == {"FunctionState": "Active"}
    scaling = {"MinExecutionEnvironments": 2, "MaxExecutionEnvironments": 8}
    assert _body(lam.get_function_scaling_config(FunctionName=fname, Qualifier="1")) == {
        "FunctionArn": f"{arn}:1", "AppliedFunctionScalingConfig": scaling, "RequestedFunctionScalingConfig": scaling}

    with pytest.raises(lam.exceptions.InvalidParameterValueException) as crossed:
        lam.put_function_scaling_config(FunctionName=fname, Qualifier="1", FunctionScalingConfig={
            "MinExecutionEnvironments": 9, "MaxExecutionEnvironments": 8})
    assert error_of(crossed) == ("InvalidParameterValueException",
                                 "MinExecutionEnvironments must be less than or equal to MaxExecutionEnvironments.", 400)
    with pytest.raises(lam.exceptions.ClientError) as too_big:
        unvalidated.put_function_scaling_config(FunctionName=fname, Qualifier="1", FunctionScalingConfig={
            "MaxExecutionEnvironments": 15001})
    assert error_of(too_big) == ("ValidationException", "1 validation error detected: Value '15001' at "
                                 "'functionScalingConfig.maxExecutionEnvironments' failed to satisfy constraint: "
                                 "Member must have value less than or equal to 15000", 400)
    with pytest.raises(lam.exceptions.ClientError) as latest:
        lam.get_function_scaling_config(FunctionName=fname, Qualifier="$LATEST")
    assert error_of(latest) == ("ValidationException", "1 validation error detected: Value '$LATEST' at 'qualifier' "
                                r"failed to satisfy constraint: Member must satisfy regular expression pattern: "
                                r"(\$LATEST\.PUBLISHED|[0-9]+)", 400)
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
        lam.get_function_scaling_config(FunctionName=fname, Qualifier="2")
    assert error_of(missing) == ("ResourceNotFoundException", f"Function not found: {arn}:2", 404)


def test_runtime_version_config_in_the_function_configuration(lam: Any, create: Any, fname: str) -> None:
    create(SOURCE, Publish=True)
    shown = lam.get_function_configuration(FunctionName=fname)["RuntimeVersionConfig"]
    assert list(shown) == ["RuntimeVersionArn"]
    assert re.fullmatch(rf"arn:aws:lambda:{REGION}::runtime:[0-9a-f]{{64}}", shown["RuntimeVersionArn"])
    # one version per runtime: every version of the function, and GetFunction, show the same
    assert lam.get_function(FunctionName=fname)["Configuration"]["RuntimeVersionConfig"] == shown
    assert lam.get_function_configuration(FunctionName=fname, Qualifier="1")["RuntimeVersionConfig"] == shown
    # a Manual pin is what the pinned version shows; $LATEST keeps the runtime's own
    lam.put_runtime_management_config(FunctionName=fname, Qualifier="1", UpdateRuntimeOn="Manual",
                                      RuntimeVersionArn=RUNTIME_VERSION)
    pinned = {"RuntimeVersionArn": RUNTIME_VERSION}
    assert lam.get_function_configuration(FunctionName=fname, Qualifier="1")["RuntimeVersionConfig"] == pinned
    assert lam.get_function(FunctionName=fname, Qualifier="1")["Configuration"]["RuntimeVersionConfig"] == pinned
    lam.create_alias(FunctionName=fname, Name="live", FunctionVersion="1")
    assert lam.get_function_configuration(FunctionName=fname, Qualifier="live")["RuntimeVersionConfig"] == pinned
    assert lam.get_function_configuration(FunctionName=fname)["RuntimeVersionConfig"] == shown
    # back to Auto: the runtime's version again
    lam.put_runtime_management_config(FunctionName=fname, Qualifier="1", UpdateRuntimeOn="Auto")
    assert lam.get_function_configuration(FunctionName=fname, Qualifier="1")["RuntimeVersionConfig"] == shown
