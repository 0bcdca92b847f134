"""Code signing configurations and the functions that use them (stored and validated; awsemu has no
AWS Signer, so signatures are never checked)."""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest
from botocore.config import Config as BotoConfig

from lambda_helpers import ACCOUNT, REGION, error_of

SOURCE = "def handler(event, context):\n    return 1\n"
PROFILE = f"arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/MyProfile/abcdef1234"
CSC_ARN = re.compile(rf"^arn:aws:lambda:{REGION}:{ACCOUNT}:code-signing-config:(csc-[a-z0-9]{{17}})$")
LAST_MODIFIED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


@pytest.fixture
def csc(lam: Any) -> Iterator[dict[str, Any]]:
    made = lam.create_code_signing_config(Description="team signing",
                                          AllowedPublishers={"SigningProfileVersionArns": [PROFILE]},
                                          CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"})
    yield made["CodeSigningConfig"]
    try:
        lam.delete_code_signing_config(CodeSigningConfigArn=made["CodeSigningConfig"]["CodeSigningConfigArn"])
    except lam.exceptions.ResourceNotFoundException:
        pass


def test_create_get_update_list_delete(lam: Any, csc: dict[str, Any]) -> None:
    match = CSC_ARN.match(csc["CodeSigningConfigArn"])
    assert match is not None and match.group(1) == csc["CodeSigningConfigId"]
    assert LAST_MODIFIED.match(csc["LastModified"])
    assert csc == {"CodeSigningConfigId": csc["CodeSigningConfigId"], "CodeSigningConfigArn": csc["CodeSigningConfigArn"],
                   "Description": "team signing", "AllowedPublishers": {"SigningProfileVersionArns": [PROFILE]},
                   "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"},
                   "LastModified": csc["LastModified"]}
    arn = csc["CodeSigningConfigArn"]
    assert lam.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"] == csc

    updated = lam.update_code_signing_config(CodeSigningConfigArn=arn, Description="changed",
                                             CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Warn"})
    assert updated["CodeSigningConfig"] == {**csc, "Description": "changed",
                                            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Warn"},
                                            "LastModified": updated["CodeSigningConfig"]["LastModified"]}

    # a default policy is Warn; listing pages through every configuration of the account
    second = lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [PROFILE]})[
        "CodeSigningConfig"]
    assert (second["Description"], second["CodeSigningPolicies"]) == ("", {"UntrustedArtifactOnDeployment": "Warn"})
    try:
        seen: list[str] = []
        page = lam.list_code_signing_configs(MaxItems=1)
        while True:
            assert len(page["CodeSigningConfigs"]) <= 1
            seen += [c["CodeSigningConfigArn"] for c in page["CodeSigningConfigs"]]
            if "NextMarker" not in page:
                break
            page = lam.list_code_signing_configs(MaxItems=1, Marker=page["NextMarker"])
        assert {arn, second["CodeSigningConfigArn"]} <= set(seen) and len(seen) == len(set(seen))
    finally:
        lam.delete_code_signing_config(CodeSigningConfigArn=second["CodeSigningConfigArn"])

    deleted = lam.delete_code_signing_config(CodeSigningConfigArn=arn)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call in (lambda: lam.get_code_signing_config(CodeSigningConfigArn=arn),
                 lambda: lam.update_code_signing_config(CodeSigningConfigArn=arn, Description="x"),
                 lambda: lam.delete_code_signing_config(CodeSigningConfigArn=arn),
                 lambda: lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)):
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
            call()
        assert error_of(missing) == ("ResourceNotFoundException",
                                     f"The Lambda code signing configuration {arn} can not be found.", 404)


def test_validation(lam: Any, aws_client: Any) -> None:
    unvalidated = aws_client("lambda", config=BotoConfig(parameter_validation=False, retries={"max_attempts": 1}))
    cases = [
        ({"AllowedPublishers": {"SigningProfileVersionArns": []}},
         "Value '[]' at 'allowedPublishers.signingProfileVersionArns' failed to satisfy constraint: Member must have "
         "length greater than or equal to 1"),
        ({"AllowedPublishers": {"SigningProfileVersionArns": ["not-an-arn"]}},
         "Value 'not-an-arn' at 'allowedPublishers.signingProfileVersionArns.member' failed to satisfy constraint: "
         r"Member must satisfy regular expression pattern: arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}"
         r"((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)"),
        ({"AllowedPublishers": {"SigningProfileVersionArns": [PROFILE]},
          "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Ignore"}},
         "Value 'Ignore' at 'codeSigningPolicies.untrustedArtifactOnDeployment' failed to satisfy constraint: Member "
         "must satisfy enum value set: [Warn, Enforce]"),
        ({"AllowedPublishers": {"SigningProfileVersionArns": [PROFILE]}, "Description": "d" * 257},
         f"Value '{'d' * 257}' at 'description' failed to satisfy constraint: Member must have length less than or "
         "equal to 256"),
    ]
    for params, message in cases:
        with pytest.raises(lam.exceptions.ClientError) as invalid:
            unvalidated.create_code_signing_config(**params)
        assert error_of(invalid) == ("ValidationException", f"1 validation error detected: {message}", 400)
    with pytest.raises(lam.exceptions.ClientError) as bad_arn:
        lam.get_code_signing_config(CodeSigningConfigArn="arn:aws:lambda:us-east-1:000000000000:code-signing-config:x")
    assert error_of(bad_arn)[0] == "ValidationException"


def test_functions_using_a_configuration(lam: Any, create: Any, fname: str, csc: dict[str, Any]) -> None:
    arn = csc["CodeSigningConfigArn"]
    function_arn = create(SOURCE)["FunctionArn"]
    assert {k: v for k, v in lam.get_function_code_signing_config(FunctionName=fname).items()
            if k != "ResponseMetadata"} == {"CodeSigningConfigArn": "", "FunctionName": fname}
    put = lam.put_function_code_signing_config(CodeSigningConfigArn=arn, FunctionName=function_arn)
    assert (put["CodeSigningConfigArn"], put["FunctionName"]) == (arn, fname)
    got = lam.get_function_code_signing_config(FunctionName=fname)
    assert (got["CodeSigningConfigArn"], got["FunctionName"]) == (arn, fname)
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == [function_arn]

    with pytest.raises(lam.exceptions.ResourceConflictException) as in_use:
        lam.delete_code_signing_config(CodeSigningConfigArn=arn)
    assert error_of(in_use) == ("ResourceConflictException", f"The code signing configuration {arn} cannot be deleted "
                                f"because it is used by the following functions: {function_arn}", 409)
    missing_csc = arn[:-3] + "000"
    with pytest.raises(lam.exceptions.CodeSigningConfigNotFoundException) as not_found:
        lam.put_function_code_signing_config(CodeSigningConfigArn=missing_csc, FunctionName=fname)
    assert error_of(not_found) == (
        "CodeSigningConfigNotFoundException", "The code signing configuration cannot be found. Check that the provided "
        f"configuration is not deleted: {missing_csc}.", 404)
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as no_function:
        lam.put_function_code_signing_config(CodeSigningConfigArn=arn, FunctionName=f"{fname}-none")
    assert error_of(no_function)[1] == f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fname}-none"

    deleted = lam.delete_function_code_signing_config(FunctionName=fname)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.get_function_code_signing_config(FunctionName=fname)["CodeSigningConfigArn"] == ""
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == []
    # deleting a function drops its link too
    lam.put_function_code_signing_config(CodeSigningConfigArn=arn, FunctionName=fname)
    lam.delete_function(FunctionName=fname)
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == []


def test_create_function_attaches_its_configuration(lam: Any, csc: dict[str, Any], create: Any, fname: str) -> None:
    arn = csc["CodeSigningConfigArn"]
    missing = arn[:-17] + "0" * 17
    with pytest.raises(lam.exceptions.CodeSigningConfigNotFoundException) as not_found:
        create(SOURCE, CodeSigningConfigArn=missing)
    assert error_of(not_found) == (
        "CodeSigningConfigNotFoundException",
        f"The code signing configuration cannot be found. Check that the provided configuration is not deleted: "
        f"{missing}.", 404)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):  # nothing was created
        lam.get_function(FunctionName=fname)

    created = create(SOURCE, CodeSigningConfigArn=arn)
    attached = lam.get_function_code_signing_config(FunctionName=fname)
    assert (attached["CodeSigningConfigArn"], attached["FunctionName"]) == (arn, fname)
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == [
        created["FunctionArn"]]
    # as in Lambda, GetFunction does not name the configuration (no package was signed by AWS Signer)
    function = lam.get_function(FunctionName=fname)
    assert "CodeSigningConfigArn" not in function["Configuration"]
    assert "SigningProfileVersionArn" not in function["Configuration"]
    # a configuration in use cannot be deleted
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.delete_code_signing_config(CodeSigningConfigArn=arn)
