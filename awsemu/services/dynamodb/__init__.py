"""DynamoDB and DynamoDB Streams on the lsm engine (see provider.py for the map of modules)."""
