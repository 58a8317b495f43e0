"""Environment references in adapter settings: ``${NAME}`` and ``${NAME:-default}``.

An exchange database's password, an API token in a request header or the port of a local
simulator differ per machine and some are secrets: they belong neither in the catalogue file
(which lives in version control) nor in the database (which analysts' reports read). The
catalogue therefore may write ``url = "postgresql://reader:${HRSS_DB_PASSWORD}@db/exchange"``;
sync stores the reference as written, and it is expanded only when a run builds its adapter,
in the process that runs it, and its values are redacted from the run's error message. An
unset variable without a default fails that run with an error
naming the variable (never its value); a malformed reference is refused at sync.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_OPENING = "${"
_SHORTEST_REDACTED = 4


class EnvironmentReferenceError(ValueError):
    """A setting names an environment variable that is not set and has no default."""


def has_reference(value: str) -> bool:
    return _OPENING in value


def reference_problems(settings: Mapping[str, Any]) -> list[str]:
    """Malformed references (``${`` not followed by ``NAME}`` or ``NAME:-default}``), each
    named by its setting's path."""
    problems = []
    for path, value in _strings(settings, ""):
        if _OPENING in _REFERENCE.sub("", value):
            problems.append(
                f"{path}: malformed environment reference in {value!r} "
                "(write ${NAME} or ${NAME:-default})"
            )
    return problems


def expand_environment(
    settings: Mapping[str, Any], *, environ: Mapping[str, str]
) -> dict[str, Any]:
    """A copy of ``settings`` with every reference in every string (nested tables and lists
    included) replaced from ``environ``; raises :class:`EnvironmentReferenceError`."""
    return {key: _expand(value, str(key), environ) for key, value in settings.items()}


def referenced_values(settings: Mapping[str, Any], *, environ: Mapping[str, str]) -> list[str]:
    """The values the settings' references take from ``environ``, for :func:`redact`."""
    names = {
        m.group(1) for _path, text in _strings(settings, "") for m in _REFERENCE.finditer(text)
    }
    return [environ[name] for name in sorted(names) if name in environ]


def redact(text: str, values: list[str]) -> str:
    """``text`` (an error message) with every value that came from the environment replaced by
    ``***``: a token in a URL's query or a password in a database URL may appear in an
    adapter's or a driver's message, and run errors are shown to department users. Values
    shorter than four characters are left: they cannot be told apart from ordinary text."""
    for value in sorted(values, key=len, reverse=True):
        if len(value) >= _SHORTEST_REDACTED:
            text = text.replace(value, "***")
    return text


def _expand(value: Any, path: str, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _expand_string(value, path, environ) if _OPENING in value else value
    if isinstance(value, Mapping):
        return {k: _expand(v, _join(path, k), environ) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, f"{path}[{i}]", environ) for i, v in enumerate(value)]
    return value


def _expand_string(value: str, path: str, environ: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise EnvironmentReferenceError(
            f"{path}: environment variable {name} is not set "
            f"(the catalogue refers to it as ${{{name}}})"
        )

    return _REFERENCE.sub(replace, value)


def _strings(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, Mapping):
        return [pair for k, v in value.items() for pair in _strings(v, _join(path, k))]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in _strings(v, f"{path}[{i}]")]
    return []


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)
