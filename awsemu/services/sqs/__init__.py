"""SQS: standard and FIFO queues on the lsm engine (see provider.py for the operation map)."""
