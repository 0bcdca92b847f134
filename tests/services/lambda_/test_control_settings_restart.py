"""Layer policies, resource policies, provisioned concurrency, function settings and code signing
configurations are records on lsm: a restarted server answers them as before."""

from __future__ import annotations

import json

from botocore.config import Config as BotoConfig

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess
from lambda_helpers import ROLE, make_zip, python_zip, wait_provisioned

PROFILE = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/P/abcdef1234"


def test_settings_survive_a_restart(fresh_server: ServerProcess) -> None:
    config = BotoConfig(retries={"max_attempts": 1}, read_timeout=120)
    fresh_server.start()
    lam = make_client(fresh_server.endpoint, "lambda", config=config)
    layer = lam.publish_layer_version(LayerName="kept", Content={"ZipFile": make_zip({"python/lib.py": "X = 1\n"})})
    lam.add_layer_version_permission(LayerName="kept", VersionNumber=1, StatementId="all",
                                     Action="lambda:GetLayerVersion", Principal="*")
    arn = lam.create_function(FunctionName="kept", Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                              Code={"ZipFile": python_zip("def handler(e, c):\n    return 1\n")},
                              Publish=True)["FunctionArn"].rsplit(":", 1)[0]
    lam.put_resource_policy(ResourceArn=arn, Policy=json.dumps({"Statement": [
        {"Sid": "s", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction", "Resource": arn}]}))
    lam.put_provisioned_concurrency_config(FunctionName="kept", Qualifier="1", ProvisionedConcurrentExecutions=2)
    lam.put_function_recursion_config(FunctionName="kept", RecursiveLoop="Allow")
    lam.put_runtime_management_config(FunctionName="kept", UpdateRuntimeOn="FunctionUpdate")
    lam.put_function_scaling_config(FunctionName="kept", Qualifier="1",
                                    FunctionScalingConfig={"MinExecutionEnvironments": 1})
    csc = lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [PROFILE]})[
        "CodeSigningConfig"]
    lam.put_function_code_signing_config(CodeSigningConfigArn=csc["CodeSigningConfigArn"], FunctionName="kept")
    wait_provisioned(lam, "kept", "1")  # its two environments are initialized
    before = {
        "layer": lam.get_layer_version_policy(LayerName="kept", VersionNumber=1),
        "policy": lam.get_resource_policy(ResourceArn=arn),
        "provisioned": lam.get_provisioned_concurrency_config(FunctionName="kept", Qualifier="1"),
        "recursion": lam.get_function_recursion_config(FunctionName="kept"),
        "runtime": lam.get_runtime_management_config(FunctionName="kept"),
        "scaling": lam.get_function_scaling_config(FunctionName="kept", Qualifier="1"),
        "csc": lam.get_code_signing_config(CodeSigningConfigArn=csc["CodeSigningConfigArn"]),
        "function csc": lam.get_function_code_signing_config(FunctionName="kept"),
    }
    assert fresh_server.stop() == 0

    fresh_server.start()
    lam = make_client(fresh_server.endpoint, "lambda", config=config)
    wait_provisioned(lam, "kept", "1")  # warmed again after the restart
    after = {
        "layer": lam.get_layer_version_policy(LayerName="kept", VersionNumber=1),
        "policy": lam.get_resource_policy(ResourceArn=arn),
        "provisioned": lam.get_provisioned_concurrency_config(FunctionName="kept", Qualifier="1"),
        "recursion": lam.get_function_recursion_config(FunctionName="kept"),
        "runtime": lam.get_runtime_management_config(FunctionName="kept"),
        "scaling": lam.get_function_scaling_config(FunctionName="kept", Qualifier="1"),
        "csc": lam.get_code_signing_config(CodeSigningConfigArn=csc["CodeSigningConfigArn"]),
        "function csc": lam.get_function_code_signing_config(FunctionName="kept"),
    }
    for name in before:
        before[name].pop("ResponseMetadata")
        after[name].pop("ResponseMetadata")
        assert after[name] == before[name], name
    assert json.loads(after["layer"]["Policy"])["Statement"][0]["Resource"] == layer["LayerVersionArn"]
    assert after["provisioned"]["Status"] == "READY"
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=csc["CodeSigningConfigArn"])[
        "FunctionArns"] == [arn]
