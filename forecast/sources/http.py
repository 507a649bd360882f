"""HTTP plumbing shared by the source modules: one GET with a time-out, one retry loop.

- :func:`get` is the only place that calls ``requests``: it sends the project's
  ``User-Agent``, passes a time-out, reads the whole body and turns every fault worth
  another try (time-out, refused connection, truncated body, HTTP 429 and 5xx) into a
  :class:`TransientError` carrying the server's own message and ``Retry-After``.
- :func:`retrying` calls a function again after a :class:`TransientError`, waiting as
  long as a caller-supplied rule says, and gives up when that rule says so.
- :func:`backoff` is the usual rule: the server's ``Retry-After`` if sent, else
  exponential back-off, capped.

Used by :mod:`forecast.sources.arrivals` (gov.uk) and :mod:`forecast.sources.openmeteo`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import time
from collections.abc import Callable
from typing import TypeVar

import requests
from bs4 import BeautifulSoup

from forecast import config
from forecast.errors import ConfigError, SourceError

T = TypeVar("T")


class TransientError(SourceError):
    """A fault worth another try later: HTTP 429/5xx, time-out, no connection, cut body.

    Attributes
    ----------
    fault : str
        Short description without the URL, e.g. ``"HTTP 503: Service Unavailable"``.
    status : int or None
        HTTP status, None when no response arrived.
    server_text : str
        The server's own message ("" when no response arrived).
    retry_after_s : float or None
        The server's ``Retry-After`` [s], if sent.
    """

    def __init__(
        self,
        message: str,
        *,
        fault: str,
        status: int | None = None,
        server_text: str = "",
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.fault = fault
        self.status = status
        self.server_text = server_text
        self.retry_after_s = retry_after_s


def server_message(response: requests.Response, limit: int = 200) -> str:
    """The server's explanation in a response: JSON ``reason``, HTML text or plain text."""
    text = response.text or ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("reason"):
        text = str(body["reason"])
    elif "html" in response.headers.get("Content-Type", "") or text.lstrip().startswith("<"):
        text = BeautifulSoup(text, "html.parser").get_text(" ", strip=True)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        return text[:limit] + "..."
    return text or response.reason or "(empty body)"


def retry_after_s(value: str | None, now_utc: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    None when the header is absent or unreadable; 0 for a date in the past.
    """
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now_utc or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def get(
    url: str,
    *,
    timeout: float,
    params: dict[str, str] | None = None,
    session: requests.Session | None = None,
) -> requests.Response:
    """One GET of ``url`` with a time-out; the whole body is read before returning.

    Parameters
    ----------
    url : str
    timeout : float
        Connect and read time-out [s].
    params : dict, optional
        Query parameters.
    session : requests.Session, optional
        Default: a one-off connection.

    Returns
    -------
    requests.Response
        Any status below 500 except 429 (the caller decides what a 4xx means).

    Raises
    ------
    ConfigError
        If ``url`` is not a valid URL (e.g. no host).
    TransientError
        On a time-out, a failed connection, a truncated body (fewer bytes than
        ``Content-Length``), HTTP 429 or 5xx; the message names the URL and the fault.
    """
    http = session or requests
    try:
        shown = requests.Request("GET", url, params=params).prepare().url or url
    except requests.RequestException as exc:
        raise ConfigError(
            f"URL {url!r} is not valid ({exc}); check --base-url or the *_URL environment "
            "variable that set it."
        ) from exc

    def fault(text: str, **kw) -> TransientError:
        return TransientError(f"GET {shown} failed: {text}", fault=text, **kw)

    try:
        response = http.get(
            url, params=params, timeout=timeout, headers={"User-Agent": config.USER_AGENT}
        )
        body = response.content  # reads the whole body: truncation surfaces here
    except requests.Timeout as exc:
        raise fault(f"no answer within {timeout:g} s (time-out)") from exc
    except (
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    ) as exc:
        raise fault(f"the body was cut off, the connection closed early ({exc})") from exc
    except requests.ConnectionError as exc:
        text = re.sub(r"\s+", " ", str(exc))
        cause = re.search(r"\(Caused by (.*)\)$", text)  # urllib3's reason, without the URL
        reason = (cause.group(1) if cause else text)[:200]
        raise fault(f"could not connect (offline, or the site is down?): {reason}") from exc
    except requests.RequestException as exc:
        raise fault(f"{type(exc).__name__}: {exc}") from exc
    status = response.status_code
    if status == 429 or status >= 500:
        text = server_message(response)
        raise fault(
            f"HTTP {status}: {text}",
            status=status,
            server_text=text,
            retry_after_s=retry_after_s(response.headers.get("Retry-After")),
        )
    expected = response.headers.get("Content-Length", "")
    if (
        expected.isdigit()
        and int(expected) != len(body)
        and not response.headers.get("Content-Encoding")
    ):
        raise fault(f"the body was cut off ({len(body)} of {expected} bytes)", status=status)
    return response


def backoff(error: TransientError, failures: int, base_s: float, max_wait_s: float) -> float:
    """Wait [s] after the ``failures``-th fault: ``Retry-After`` if sent, else
    ``base_s * 2**(failures - 1)``; never more than ``max_wait_s``."""
    wait = error.retry_after_s
    if wait is None:
        wait = base_s * 2 ** (failures - 1)
    return min(max(wait, 0.0), max_wait_s)


def retrying(
    call: Callable[[], T],
    *,
    wait: Callable[[TransientError, int], float | None],
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Return ``call()``, calling it again after each :class:`TransientError`.

    Parameters
    ----------
    call : callable
        Does one attempt.
    wait : callable ``(error, failures) -> seconds or None``
        Asked after each fault (``failures`` counts from 1): how long to wait before
        the next attempt, or None to give up (the error propagates). It may also
        raise a more specific error itself.
    sleep : callable
        Waits between attempts (tests pass a recorder).
    """
    failures = 0
    while True:
        try:
            return call()
        except TransientError as exc:
            failures += 1
            delay = wait(exc, failures)
            if delay is None:
                raise
            sleep(delay)
