pytest_plugins = ["awsemu.testing.plugin"]
