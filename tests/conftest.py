# pytester drives the shipped pytest plugin (awsemu.testing.plugin, loaded by its pytest11 entry point).
pytest_plugins = ["pytester"]
