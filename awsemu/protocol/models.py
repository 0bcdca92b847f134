"""botocore service models, loaded lazily once per service, with our patches applied.

botocore's models are written for clients; a server needs a few facts they omit (S3 error shapes
and their status codes, for one). Those live as data in ``patches/<service>.json`` and are merged
into the raw model before it is frozen into a ``ServiceModel``. A patch file is a JSON object:

    {"shapes": {"ShapeName": {...members to merge into the shape...}},
     "operations": {"OpName": {...}}}

merged recursively (dicts merge, everything else replaces). Each patch has a test.
"""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # botocore is imported on the first request, not at start-up (~100 ms)
    import botocore.loaders
    from botocore.model import ServiceModel

# The services awsemu serves, by botocore model name.
SERVICES: tuple[str, ...] = ("s3", "dynamodb", "dynamodbstreams", "sqs", "lambda", "iam", "sts")


@functools.lru_cache(maxsize=1)
def _loader() -> "botocore.loaders.Loader":
    import botocore.loaders

    return botocore.loaders.create_loader()


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def load_patch(service: str) -> dict[str, Any]:
    path = resources.files("awsemu.protocol").joinpath("patches", f"{service}.json")
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data.pop("//", None)  # free-text comment key
    return data


def raw_model(service: str) -> dict[str, Any]:
    """The botocore JSON model of a service with our patches merged (a fresh copy)."""
    raw: dict[str, Any] = copy.deepcopy(_loader().load_service_model(service, "service-2"))
    _merge(raw, load_patch(service))
    return raw


@functools.lru_cache(maxsize=None)
def service_model(service: str) -> "ServiceModel":
    """The patched, frozen model of a service; built once per process."""
    from botocore.model import ServiceModel

    return ServiceModel(raw_model(service), service_name=service)


def variant_raw_model(service: str, variant: str) -> dict[str, Any]:
    """:func:`raw_model` with ``patches/<variant>.json`` merged on top (a fresh copy)."""
    raw = raw_model(service)
    _merge(raw, load_patch(variant))
    return raw


@functools.lru_cache(maxsize=None)
def variant_model(service: str, variant: str) -> "ServiceModel":
    """A service's model in a second wire form: the patched model with ``patches/<variant>.json``
    merged on top (``variant_model("sqs", "sqs_query")`` is SQS as its legacy query protocol
    sees it: flattened lists, ``Attribute.N.Name`` maps, result wrappers, XML namespace)."""
    from botocore.model import ServiceModel

    return ServiceModel(variant_raw_model(service, variant), service_name=service)
