"""Which codec class serves which protocol; one compiled codec per (service, protocol), cached."""

from __future__ import annotations

import functools

from awsemu.protocol.codec import Codec


@functools.lru_cache(maxsize=None)
def codec_for(service: str, protocol: str | None = None) -> Codec:
    from awsemu.protocol.models import service_model  # botocore loads on the first request

    model = service_model(service)
    proto = protocol or model.metadata["protocol"]
    if proto == "rest-xml":
        from awsemu.protocol.rest_xml import RestXmlCodec

        return RestXmlCodec(model)
    if proto == "rest-json":
        from awsemu.protocol.rest_json import RestJsonCodec

        return RestJsonCodec(model)
    if proto == "json":
        from awsemu.protocol.json_rpc import JsonCodec

        return JsonCodec(model)
    if proto == "query":
        from awsemu.protocol.query import QueryCodec

        return QueryCodec(model)
    raise ValueError(f"no codec for protocol {proto!r} of {service}")
