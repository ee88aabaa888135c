"""boto3 CloudWatch clients on a gateway, speaking the protocol botocore picks or one forced on it.

botocore chooses among the protocols the model lists (`smithy-rpc-v2-cbor`, `json`, `query`) by its own
order of preference. To make it speak another, the test gives it a copy of the model that lists only that
one, through botocore's own mechanism for extra models (a data path searched before its own), so each
request is serialized and signed by botocore exactly as a client of that protocol would send it.
"""
from __future__ import annotations

import copy
import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

REGION = "us-east-1"
PROTOCOLS = ("smithy-rpc-v2-cbor", "json", "query")


@functools.lru_cache(maxsize=None)
def model_path(protocol: str) -> str:
    """A data path holding the CloudWatch model with only `protocol` listed."""
    model = copy.deepcopy(botocore.loaders.Loader().load_service_model("cloudwatch", "service-2", "2010-08-01"))
    model["metadata"]["protocols"] = [protocol]
    model["metadata"]["protocol"] = protocol
    root = Path(tempfile.mkdtemp(prefix=f"cloudwatch-{protocol}-"))
    target = root / "cloudwatch" / "2010-08-01"
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
    return str(root)


def cloudwatch_client(gateway: Any, protocol: str | None = None, *, secret: str | None = None,
                      access_key: str | None = None, sent: list[dict[str, str]] | None = None) -> Any:
    """A CloudWatch client of the gateway's demo key; `sent` collects each request's headers and path."""
    session = botocore.session.get_session()
    if protocol is not None:
        session.get_component("data_loader").search_paths.insert(0, model_path(protocol))
    client = boto3.Session(botocore_session=session).client(
        "cloudwatch", endpoint_url=f"{gateway.url}/", region_name=REGION,
        aws_access_key_id=access_key or gateway.access_key, aws_secret_access_key=secret or gateway.secret_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    if sent is not None:
        def note(request: Any, **_: Any) -> None:
            sent.append({"path": request.url.split("://", 1)[1].partition("/")[2],
                         **{k.lower(): v.decode() if isinstance(v, bytes) else str(v)
                            for k, v in request.headers.items()}})

        client.meta.events.register("before-send.cloudwatch", note)
    return client


def wire_of(headers: dict[str, str]) -> str:
    """Which protocol a request spoke, by what it sent."""
    if headers.get("smithy-protocol") == "rpc-v2-cbor":
        return "smithy-rpc-v2-cbor"
    if headers.get("x-amz-target", "").startswith("GraniteServiceVersion20100801."):
        return "json"
    return "query"
