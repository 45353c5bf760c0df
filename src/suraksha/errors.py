"""One error tree for every area: callers catch by meaning, adapters map by type.

::

    SurakshaError                      code            HTTP  CLI exit
    ├── InvalidInput (ValueError)      bad_request      400   1
    │   ├── TooLarge                   payload_too_large 413  1
    │   └── UnsupportedMediaType       unsupported_media_type 415  1
    ├── NotFound (LookupError)         not_found        404   1
    ├── Conflict                       conflict         409   1
    ├── Forbidden                      forbidden        403   1
    └── Unavailable                    unavailable      503   1   (optional ``retry_after`` seconds)

An area's error subclasses one node (``BankError(InvalidInput)``, ``BankNotFound(NotFound)``) and
may override ``code``; its message is the reason a user is shown, so it never holds a secret or
an item's content. The API (``suraksha.api.errors``), the web pages (``suraksha.web.errors``) and
the CLI (``suraksha.cli_support.one_line_errors``) each map this tree in one place; anything that is
not a ``SurakshaError`` is a bug: a logged 500 (or CLI exit 70) with an error id, never a 400.

Why ``InvalidInput`` is a ``ValueError`` and ``NotFound`` a ``LookupError``: pydantic turns only
``ValueError`` raised in a validator into a 422 (schemas call service validators), and callers
outside the adapters still catch the stdlib bases the area errors had before this tree.
Nothing maps an error by its message text.
"""

from __future__ import annotations


class SurakshaError(Exception):
    """An expected failure whose message is safe to show: the reason, never a secret or content."""

    code: str = "error"
    http_status: int = 400
    exit_code: int = 1


class InvalidInput(SurakshaError, ValueError):
    """The input is wrong (a bad name, a malformed value, a file that does not parse)."""

    code = "bad_request"
    http_status = 400


class TooLarge(InvalidInput):
    """The input is over a documented size limit."""

    code = "payload_too_large"
    http_status = 413


class UnsupportedMediaType(InvalidInput):
    """The input's format is not one of the documented formats."""

    code = "unsupported_media_type"
    http_status = 415


class NotFound(SurakshaError, LookupError):
    """No such thing (or none the caller may see)."""

    code = "not_found"
    http_status = 404


class Conflict(SurakshaError):
    """The request is valid but clashes with the stored state (a name taken, a step not allowed now)."""

    code = "conflict"
    http_status = 409


class Forbidden(SurakshaError):
    """The caller may not do this (wrong role, another agency's request, a refused link)."""

    code = "forbidden"
    http_status = 403


class Unavailable(SurakshaError):
    """A dependency is down or busy; try again later (``retry_after`` seconds when known)."""

    code = "unavailable"
    http_status = 503

    def __init__(self, *args: object, retry_after: float | None = None) -> None:
        super().__init__(*args)
        self.retry_after = retry_after


#: The tree's nodes, most specific first: what the adapters' tests walk.
NODES: tuple[type[SurakshaError], ...] = (
    TooLarge,
    UnsupportedMediaType,
    InvalidInput,
    NotFound,
    Conflict,
    Forbidden,
    Unavailable,
)
