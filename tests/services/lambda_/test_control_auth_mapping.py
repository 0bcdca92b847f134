"""The IAM actions and resources of the Lambda operations added for layer permissions, resource
policies by ARN and code signing (auth's mapping is pure: checked without a server)."""

from __future__ import annotations

from awsemu.auth.actions import Authorization, authorizations

A, B, REGION = "000000000000", "111111111111", "us-east-1"
LAYER = f"arn:aws:lambda:{REGION}:{B}:layer:shared"


def _needs(operation: str, **params: object) -> list[Authorization]:
    return authorizations("lambda", operation, params, A, REGION)


def test_layer_operations_name_the_layer_version() -> None:
    assert _needs("GetLayerVersion", LayerName="mine", VersionNumber=3) == [
        Authorization("lambda:GetLayerVersion", f"arn:aws:lambda:{REGION}:{A}:layer:mine:3", {}, A)]
    assert _needs("GetLayerVersion", LayerName=LAYER, VersionNumber=2) == [
        Authorization("lambda:GetLayerVersion", f"{LAYER}:2", {}, B)]
    assert _needs("GetLayerVersionByArn", Arn=f"{LAYER}:2") == [
        Authorization("lambda:GetLayerVersion", f"{LAYER}:2", {}, B)]
    for operation in ("AddLayerVersionPermission", "RemoveLayerVersionPermission", "GetLayerVersionPolicy",
                      "DeleteLayerVersion"):
        assert _needs(operation, LayerName="mine", VersionNumber=1) == [
            Authorization(f"lambda:{operation}", f"arn:aws:lambda:{REGION}:{A}:layer:mine:1", {}, A)]
    assert _needs("PublishLayerVersion", LayerName="mine") == [
        Authorization("lambda:PublishLayerVersion", f"arn:aws:lambda:{REGION}:{A}:layer:mine", {}, A)]


def test_functions_using_layers_need_get_layer_version() -> None:
    needed = _needs("CreateFunction", FunctionName="f", Layers=[f"{LAYER}:2"])
    assert needed == [Authorization("lambda:CreateFunction", f"arn:aws:lambda:{REGION}:{A}:function:f", {}, A),
                      Authorization("lambda:GetLayerVersion", f"{LAYER}:2", {}, B)]
    assert _needs("UpdateFunctionConfiguration", FunctionName="f", Layers=[f"{LAYER}:2"])[1] == \
        Authorization("lambda:GetLayerVersion", f"{LAYER}:2", {}, B)
    assert len(_needs("Invoke", FunctionName="f", Layers=[f"{LAYER}:2"])) == 1  # only the two operations above


def test_resource_arn_and_code_signing_operations() -> None:
    function = f"arn:aws:lambda:{REGION}:{B}:function:f:live"
    for operation in ("GetResourcePolicy", "PutResourcePolicy", "DeleteResourcePolicy"):
        assert _needs(operation, ResourceArn=function) == [Authorization(f"lambda:{operation}", function, {}, B)]
    csc = f"arn:aws:lambda:{REGION}:{A}:code-signing-config:csc-0123456789abcdef0"
    assert _needs("GetCodeSigningConfig", CodeSigningConfigArn=csc) == [
        Authorization("lambda:GetCodeSigningConfig", csc, {}, A)]
    # a function's own code signing operations are on the function
    assert _needs("PutFunctionCodeSigningConfig", CodeSigningConfigArn=csc, FunctionName="f") == [
        Authorization("lambda:PutFunctionCodeSigningConfig", f"arn:aws:lambda:{REGION}:{A}:function:f", {}, A)]
    assert _needs("CreateCodeSigningConfig") == [Authorization("lambda:CreateCodeSigningConfig", "*")]
