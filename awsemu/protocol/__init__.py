"""Wire protocols, driven by botocore's service models.

``codec_for(service)`` returns the compiled codec of a service (see :mod:`awsemu.protocol.codec`).
"""
