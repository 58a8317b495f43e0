"""Which webhook URLs a subscription may name, signing bodies, and posting them.

The policy (docs/subscriptions.md): a webhook is where CreditHub sends personal and credit
data on its own initiative, so a URL must not turn the service into a way to reach what only
it can reach (server-side request forgery). Refused:

* a scheme other than ``http`` or ``https``; user name or password in the URL; no host;
* a host that is, or resolves to, a loopback, private, link-local (cloud metadata at
  169.254.169.254), multicast, reserved or unspecified address, unless the deployment allows
  private targets (``CREDITHUB_WEBHOOK_ALLOW_PRIVATE``, for a closed government network and
  for tests).

The address is checked when the subscription is made *and* before every delivery (a name can
be re-pointed after it was accepted), and redirects are never followed.

Signature: header ``X-CreditHub-Signature: sha256=<hex>``, the HMAC-SHA256 of
``<timestamp>.<body>`` with the subscription's secret, the timestamp in
``X-CreditHub-Timestamp`` (so a receiver can refuse old replays); the idempotency key in
``Idempotency-Key`` is the same on every retry of a delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from core.errors import ServiceRefused

SIGNATURE_HEADER = "X-CreditHub-Signature"
TIMESTAMP_HEADER = "X-CreditHub-Timestamp"
KEY_HEADER = "Idempotency-Key"
_SCHEMES = ("http", "https")


class WebhookRefused(ServiceRefused):
    status = 422


def check_webhook_url(url: str, *, allow_private: bool) -> None:
    """Raises :class:`WebhookRefused` when ``url`` breaks the policy (module docstring)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in _SCHEMES:
        raise _refused(url, "the scheme must be http or https")
    if parts.username or parts.password:
        raise _refused(url, "the URL must not carry a user name or password")
    if not parts.hostname:
        raise _refused(url, "the URL names no host")
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port)}
    except (OSError, ValueError) as exc:
        raise _refused(url, f"the host does not resolve ({exc})") from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise _refused(url, f"the host resolves to a non-public address ({ip})")


def _refused(url: str, why: str) -> WebhookRefused:
    return WebhookRefused(f"Webhook URL refused: {why}.", errors={"url": [why]})


def sign(secret: str, timestamp: str, body: str) -> str:
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}.{body}".encode(), hashlib.sha256
    ).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: str, signature: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(
    *,
    url: str,
    body: str,
    headers: dict[str, str],
    timeout: float,
    http: requests.Session | None = None,
) -> Answer:
    """POST ``body`` (over ``http``'s pooled connections when given); never follows
    redirects, never raises for the receiver's failures."""
    try:
        response = (http or requests).post(
            url,
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8", **headers},
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:500])
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Answer(response.status_code, error)
