"""STS `GetCallerIdentity` on the EC2 endpoint: Terraform asks it before anything else.

Terraform's AWS provider validates its credentials and learns the account id with STS unless told to
skip it (`skip_credentials_validation`, `skip_requesting_account_id`), and users point its `sts` endpoint
at the same URL as `ec2`. The two services share the endpoint, so a request is STS when its SigV4
credential scope names the service `sts` (`AKID/20260101/us-east-1/sts/aws4_request`), or, without a
scope (SigV2, unsigned), when its query string carries STS's API version. Everything else is EC2.

The signature is verified exactly as for EC2 (same store, same skew, same codes). The answer is STS's
own XML (a `...Result` wrapper and `ResponseMetadata`, unlike EC2), errors STS's `<ErrorResponse>`
(aws-sdk-go, which Terraform uses, reads `Error>Code` under the root, which EC2's `Errors` would hide).
The account is the one EC2 answers as `OwnerId` (inventory.account_id), so the ARNs Terraform builds
match the resources it reads; the ARN names the oVirt identity the access key acts as.
"""
from __future__ import annotations

import hashlib
import logging
from typing import Mapping

from flask import Response, g, request

from gateway import request_stats
from gateway.app import current_gateway
from gateway.errors import GatewayError

from . import inventory, signing
from .call import Call
from .errors import Ec2Error, from_gateway
from .render import text

log = logging.getLogger("cloudgw.ec2")
STS_VERSION = "2011-06-15"
NAMESPACE = f"https://sts.amazonaws.com/doc/{STS_VERSION}/"
ACTIONS = ("GetCallerIdentity",)
CONTENT_TYPE = "text/xml;charset=UTF-8"


def scope_service(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The service named by the SigV4 credential scope of the header or a presigned query, if any."""
    credential = query.get("X-Amz-Credential")
    if not credential:
        header = headers.get("Authorization", "")
        fields = dict(signing.AUTH_FIELD.findall(header.partition(" ")[2]))
        credential = fields.get("Credential")
    if not credential:
        return None
    parts = credential.split("/")
    return parts[3] if len(parts) == 5 else None


def addressed_to_sts(headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
    """True for STS requests; reads only headers and the query string (the body must stay unread
    until it is captured for the signature)."""
    service = scope_service(headers, query)
    if service is not None:
        return service == "sts"
    return query.get("Version") == STS_VERSION and query.get("Action") in ACTIONS


def caller_identity(call: Call) -> dict[str, str]:
    """Account (as EC2's OwnerId), an IAM-user ARN naming the oVirt identity, and a stable user id."""
    account = inventory.account_id(call)
    username = call.scope.credentials.username
    digest = hashlib.sha256(call.owner.encode()).hexdigest().upper()
    return {"Arn": f"arn:aws:iam::{account}:user/{username}", "UserId": f"AIDA{digest[:17]}",
            "Account": account}


def render_identity(identity: dict[str, str], request_id: str) -> bytes:
    members = "".join(f"<{k}>{text(v)}</{k}>" for k, v in identity.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<GetCallerIdentityResponse xmlns="{NAMESPACE}">'
            f"<GetCallerIdentityResult>{members}</GetCallerIdentityResult>"
            f"<ResponseMetadata><RequestId>{text(request_id)}</RequestId></ResponseMetadata>"
            f"</GetCallerIdentityResponse>").encode()


def render_error(code: str, message: str, request_id: str, status: int) -> bytes:
    kind = "Receiver" if status >= 500 else "Sender"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{NAMESPACE}"><Error>'
            f"<Type>{kind}</Type><Code>{text(code)}</Code><Message>{text(message)}</Message></Error>"
            f"<RequestId>{text(request_id)}</RequestId></ErrorResponse>").encode()


def error_response(exc: Ec2Error) -> Response:
    response = Response(render_error(exc.code, exc.message, getattr(g, "request_id", ""), exc.status),
                        status=exc.status, content_type=CONTENT_TYPE)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _answer(params: dict[str, str], body: bytes) -> dict[str, str]:
    from .endpoint import scope_for, signed_request  # the endpoint imports this module first

    gateway = current_gateway()
    verified = signing.verify(signed_request(params, body), gateway.store.credential,
                              skew=gateway.config.signature_skew_seconds, service="sts")
    request_stats.note_identity(verified.credential.access_key)
    action, version = params.get("Action", ""), params.get("Version", STS_VERSION)
    if not action:
        raise Ec2Error("MissingAction", "The request must contain the parameter Action")
    if action not in ACTIONS or version != STS_VERSION:
        raise Ec2Error("InvalidAction", f"Could not find operation {action[:100]} for version {version[:20]}")
    request_stats.name_action("ec2", f"sts.{action}")
    scope = scope_for(verified)
    call = Call(action=action, params={}, scope=scope, driver=gateway.driver_for(scope.provider),
                gateway=gateway, region=verified.region or "", request_id=getattr(g, "request_id", ""))
    return caller_identity(call)


def handle() -> Response:
    """Serve one STS request (called by the EC2 endpoint when `addressed_to_sts`)."""
    from .endpoint import flat_params

    request_id = getattr(g, "request_id", "")
    try:
        body = request.get_data(cache=True)  # before the form is read, or the signed body is lost
        identity = _answer(flat_params(), body)
        return Response(render_identity(identity, request_id), content_type=CONTENT_TYPE)
    except Ec2Error as exc:
        return error_response(exc)
    except GatewayError as exc:
        return error_response(from_gateway(exc))
    except Exception:
        log.exception("STS request failed", extra={"request_id": request_id})
        return error_response(Ec2Error("InternalFailure", "An internal error has occurred", 500))

