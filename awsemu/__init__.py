"""awsemu: a local, durable, AWS-compatible HTTP emulator."""

__version__ = "0.1.0"
