"""Who may read ``/metrics``: a regulator (bearer token), or, without a token, a caller from
``CREDITHUB_METRICS_ALLOW`` (the Prometheus server; default this machine only).

A caller who sends a token is judged by its role wherever it calls from: an analyst on the
server itself is still an analyst. The address is the connection's peer (``remote_addr``):
behind a reverse proxy that is the proxy, so list the Prometheus server's own route to the
service, not a proxy that forwards the public.
"""

from __future__ import annotations

from ipaddress import ip_address

from flask import abort, request

from app.auth.access import current_client
from app.runtime import runtime
from core.models import Role


def from_allowed_address() -> bool:
    """Whether the caller's address is in the configured range (False when unreadable)."""
    try:
        address = ip_address(request.remote_addr or "")
    except ValueError:
        return False
    networks = runtime().config.metrics_networks
    return any(address in network for network in networks if network.version == address.version)


def require_metrics_reader() -> None:
    """401 for a bad token (as everywhere), 403 for any other role or a caller without a
    token from outside the allowed range."""
    if request.headers.get("Authorization"):
        client = current_client()
        if client is not None and client.role is Role.REGULATOR:
            return
        abort(403, description="Only a regulator may read the metrics.")
    if not from_allowed_address():
        abort(403, description="Metrics are served to a regulator or the monitoring network.")
