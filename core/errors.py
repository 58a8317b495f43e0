"""The one base of a service's refusal: what it was asked cannot be done, and why.

Services below the web layer raise a subclass; the web layer has one handler
(``app.errors``) that answers the API with a problem-details document and the pages with an
error page, using the refusal's ``status`` (an HTTP status, because that is the vocabulary
every caller already speaks) and its ``message``. The CLI prints the message.
"""

from __future__ import annotations

from collections.abc import Mapping


class ServiceRefused(Exception):
    """Refusal of a request; ``status`` is the HTTP status that says why (400 unless a subclass
    or the raiser says otherwise), ``errors`` optional problems by field or parameter."""

    status: int = 400

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: Mapping[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.errors: dict[str, list[str]] = dict(errors or {})


class NotFound(ServiceRefused):
    """What was asked for does not exist, or the caller may not know that it does."""

    status = 404
