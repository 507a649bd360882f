"""HTTP plumbing shared by the source modules: one bounded request, one retry loop.

- :func:`request` (and :func:`get`, :func:`post`) is the only place that calls
  ``requests``. It sends the project's ``User-Agent`` and bounds everything a server
  controls:

  * time: a time-out per socket operation (``timeout``) and a **deadline for the whole
    request** (``deadline_s``: connection, headers and body), so a server that drips
    one byte at a time cannot hold a download for minutes;
  * size: the body is streamed and the download stops at ``max_bytes`` on the wire and
    at ``max_decoded_bytes`` after ``gzip``/``deflate`` decompression (a gzip bomb stops
    at the cap; nothing else is accepted as ``Content-Encoding``);
  * place: redirects are followed by hand, only to ``allowed_hosts`` (default: the
    host of the URL asked), never from ``https`` down to ``http``.

  Every fault worth another try (time-out, refused connection, truncated body, HTTP
  429 and 5xx) becomes a :class:`TransientError` carrying the server's own message and
  ``Retry-After``. Faults that another try will not mend raise a plain
  :class:`~forecast.errors.SourceError` subclass at once: a host that does not resolve
  or a network that is unreachable (:class:`UnreachableError`), a body over its cap
  (:class:`BodyTooLargeError`), a redirect elsewhere (:class:`RedirectError`).
- :func:`retrying` calls a function again after a :class:`TransientError`, waiting as
  long as a caller-supplied rule says, within an overall :class:`Deadline`.
- :func:`backoff` is the usual rule: the server's ``Retry-After`` if sent, else
  exponential back-off, capped.
- :func:`safe_filename` makes a local file name from a server-chosen one.

Used by :mod:`forecast.sources.arrivals` (gov.uk), :mod:`forecast.sources.openmeteo`
and :mod:`forecast.sources.knmi`.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import email.utils
import errno
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from bs4 import BeautifulSoup

from forecast import config
from forecast.errors import ConfigError, SourceError

T = TypeVar("T")

#: Default time-out of one socket operation (connect, or wait for the next bytes) [s].
DEFAULT_TIMEOUT_S = config.HTTP_TIMEOUT_S
#: Default deadline of one whole request: connection, headers and the full body [s].
DEFAULT_REQUEST_DEADLINE_S = 120.0
#: Default deadline of all the attempts and waits of one download (:func:`retrying`) [s].
DEFAULT_TOTAL_DEADLINE_S = 300.0
#: Default cap on a body as sent on the wire (before decompression) [bytes].
DEFAULT_MAX_BYTES = 32 * 2**20
#: Default cap on a body after ``gzip``/``deflate`` decompression [bytes].
DEFAULT_MAX_DECODED_BYTES = 64 * 2**20
#: Redirects followed at most per request.
MAX_REDIRECTS = 5
#: Bytes asked of the socket per read.
CHUNK_BYTES = 64 * 1024

_REDIRECTS = (301, 302, 303, 307, 308)
_ACCEPT_ENCODING = "gzip, deflate"
# errno values of a network that is simply not there (not worth retrying).
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, getattr(errno, "ENONET", -1)}
# The overall deadline of the retry loop running now (set by :func:`retrying`): every
# request made inside it ends by then, even when the caller does not pass it along.
_OVERALL: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "forecast_http_overall_deadline", default=None
)


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
    timed_out : bool
        True when the fault is a time-out or a missed deadline.
    """

    def __init__(
        self,
        message: str,
        *,
        fault: str,
        status: int | None = None,
        server_text: str = "",
        retry_after_s: float | None = None,
        timed_out: bool = False,
    ) -> None:
        super().__init__(message)
        self.fault = fault
        self.status = status
        self.server_text = server_text
        self.retry_after_s = retry_after_s
        self.timed_out = timed_out


class UnreachableError(SourceError):
    """The host does not resolve or the network is unreachable: not retried."""


class BodyTooLargeError(SourceError):
    """A body (on the wire or decompressed) went over its cap: the download stopped."""


class RedirectError(SourceError):
    """A redirect to a host the source does not use, a downgrade to http, or a loop."""


@dataclass
class Deadline:
    """A point in time after which a download gives up.

    Parameters
    ----------
    seconds : float
        Time allowed from creation [s].
    clock : callable
        Monotonic clock [s] (tests may pass their own).
    """

    seconds: float
    clock: Callable[[], float] = time.monotonic
    start: float = field(init=False)

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise ConfigError(f"a deadline must be > 0 s (got {self.seconds!r}).")
        self.start = self.clock()

    def remaining(self) -> float:
        """Seconds left (negative once passed) [s]."""
        return self.seconds - (self.clock() - self.start)


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


def safe_filename(name: str, default: str, max_chars: int = 120) -> str:
    """A local file name built from ``name`` with only ``A-Z a-z 0-9 . _ -``.

    Every other character (``/``, ``\\``, ``%``, ``<``, spaces, ...) becomes ``_``;
    runs of dots collapse to one (no ``..``); leading and trailing ``.``, ``_`` and
    ``-`` go (no hidden files, nothing read as an option). A name longer than
    ``max_chars`` is cut, keeping its extension. Never derive a path from a URL as is:
    pass the server-chosen name here. Pure.

    Parameters
    ----------
    name : str
        The name proposed by a server or a link (already percent-decoded or not).
    default : str
        Used when nothing usable is left (it is made safe the same way).
    max_chars : int
        Longest name returned.

    Returns
    -------
    str
        A non-empty name that stays inside the folder it is joined to.
    """

    def clean(text: str) -> str:
        text = re.sub(r"[^A-Za-z0-9._-]", "_", text)
        text = re.sub(r"\.{2,}", ".", text)
        text = re.sub(r"_{2,}", "_", text)
        return text.strip("._-")

    out = clean(str(name))
    if not out:
        out = clean(str(default)) or "download"
    if len(out) > max_chars:
        stem, dot, ext = out.rpartition(".")
        if dot and 0 < len(ext) <= 10 and stem:
            out = stem[: max_chars - len(ext) - 1].rstrip("._-") + "." + ext
        else:
            out = out[:max_chars].rstrip("._-")
    return out


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"


class _Decoder:
    """Streaming ``gzip``/``deflate`` decoder that never produces more than ``cap`` bytes."""

    def __init__(self, encoding: str, cap: int, too_large: Callable[[], Exception]) -> None:
        self.encoding = encoding
        self.cap = cap
        self.too_large = too_large
        self.total = 0
        self._obj: Any = None
        self._first = True

    def _new(self, data: bytes) -> Any:
        if self.encoding == "deflate":
            # RFC 9110 "deflate" is zlib-wrapped; some servers send raw deflate.
            wbits = zlib.MAX_WBITS if data[:1] == b"\x78" else -zlib.MAX_WBITS
        else:
            wbits = 16 + zlib.MAX_WBITS
        return zlib.decompressobj(wbits=wbits)

    def feed(self, data: bytes) -> bytes:
        out = []
        while data:
            if self._obj is None:
                self._obj = self._new(data)
            room = self.cap - self.total
            piece = self._obj.decompress(data, room + 1)
            self.total += len(piece)
            if self.total > self.cap:
                raise self.too_large()
            out.append(piece)
            data = self._obj.unconsumed_tail
            if self._obj.eof:
                # gzip may hold several members one after the other
                data = self._obj.unused_data if self.encoding != "deflate" else b""
                if data:
                    self._obj = None
        return b"".join(out)

    def finish(self) -> tuple[bytes, bool]:
        """Remaining output and whether the compressed stream was complete."""
        if self._obj is None:
            return b"", True
        tail = self._obj.flush()
        self.total += len(tail)
        if self.total > self.cap:
            raise self.too_large()
        return tail, self._obj.eof


def _host_allowed(target: str, origin: str, hosts: set[str]) -> str | None:
    """Why a redirect to ``target`` is refused, or None when it is allowed."""
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https"):
        return f"its scheme {parts.scheme!r} is not http or https"
    if urlsplit(origin).scheme == "https" and parts.scheme == "http":
        return "it goes from https down to plain http"
    host = (parts.hostname or "").lower()
    if host not in hosts:
        return f"host {host!r} is not one this source uses (allowed: {', '.join(sorted(hosts))})"
    return None


def _unreachable(exc: BaseException) -> str | None:
    """A reason when ``exc`` says the host does not resolve or the network is absent."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, urllib3.exceptions.NameResolutionError | socket.gaierror):
            return "the host name does not resolve (offline, or a typo in the URL?)"
        if isinstance(e, OSError) and e.errno in _UNREACHABLE:
            return "the network is unreachable (offline?)"
        stack.extend(
            [e.__cause__, e.__context__, *[a for a in e.args if isinstance(a, BaseException)]]
        )
        reason = getattr(e, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return None


def _connection_text(exc: BaseException) -> str:
    text = re.sub(r"\s+", " ", str(exc))
    cause = re.search(r"\(Caused by (.*)\)$", text)  # urllib3's reason, without the URL
    return (cause.group(1) if cause else text)[:200]


def request(
    method: str,
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    params: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
    session: requests.Session | None = None,
    deadline_s: float | None = None,
    max_bytes: int | None = None,
    max_decoded_bytes: int | None = None,
    allowed_hosts: Collection[str] | None = None,
) -> requests.Response:
    """One bounded request of ``url``; the whole body is read before returning.

    Parameters
    ----------
    method : {"GET", "POST"}
    url : str
    timeout : float
        Time-out of each socket operation: connecting, waiting for the next bytes [s].
    params : dict, optional
        Query parameters.
    data : dict, optional
        Form fields (POST).
    session : requests.Session, optional
        Default: a one-off connection.
    deadline_s : float, optional
        The whole request (redirects, headers and body) must end within this [s].
        Default :data:`DEFAULT_REQUEST_DEADLINE_S`; never later than the overall
        deadline of an enclosing :func:`retrying`.
    max_bytes : int, optional
        Cap on the body as sent (compressed or not) [bytes]; default
        :data:`DEFAULT_MAX_BYTES`.
    max_decoded_bytes : int, optional
        Cap on the body after ``gzip``/``deflate`` decompression [bytes]; default
        :data:`DEFAULT_MAX_DECODED_BYTES`.
    allowed_hosts : collection of str, optional
        Host names a redirect may lead to. Default: the host of ``url`` only.

    Returns
    -------
    requests.Response
        Any status below 500 except 429 (the caller decides what a 4xx means), with
        ``content`` holding the decoded body.

    Raises
    ------
    ConfigError
        If ``url`` is not a valid URL (e.g. no host) or a limit is not positive.
    TransientError
        On a time-out, a missed deadline, a refused or dropped connection, a truncated
        body (fewer bytes than ``Content-Length`` or an unfinished gzip stream), HTTP
        429 or 5xx; the message names the URL and the fault.
    UnreachableError
        When the host does not resolve or the network is unreachable (not retried).
    BodyTooLargeError
        When the body goes over ``max_bytes`` or ``max_decoded_bytes``.
    RedirectError
        On a redirect to another host, from https to http, or more than
        :data:`MAX_REDIRECTS` redirects.
    SourceError
        On a ``Content-Encoding`` other than gzip/deflate/identity or a corrupt one.
    """
    method = method.upper()
    deadline_s = DEFAULT_REQUEST_DEADLINE_S if deadline_s is None else deadline_s
    max_bytes = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    max_decoded_bytes = (
        DEFAULT_MAX_DECODED_BYTES if max_decoded_bytes is None else max_decoded_bytes
    )
    try:
        shown = requests.Request(method, url, params=params).prepare().url or url
    except requests.RequestException as exc:
        raise ConfigError(
            f"URL {url!r} is not valid ({exc}); check --base-url or the *_URL environment "
            "variable that set it."
        ) from exc
    for name, value in (
        ("timeout", timeout),
        ("deadline_s", deadline_s),
        ("max_bytes", max_bytes),
        ("max_decoded_bytes", max_decoded_bytes),
    ):
        if not value > 0:
            raise ConfigError(f"HTTP {name}={value!r} must be > 0.")
    overall = _OVERALL.get()
    if overall is not None:
        left = overall.remaining()
        if left <= 0:
            raise _deadline_fault(method, shown, overall.seconds, overall=True)
        deadline_s = min(deadline_s, left)
    hosts = {h.lower() for h in allowed_hosts} if allowed_hosts else set()
    hosts.add((urlsplit(url).hostname or "").lower())

    outcome: dict[str, Any] = {}
    done = threading.Event()
    cancelled = threading.Event()
    started = time.monotonic()

    def work() -> None:
        try:
            outcome["response"] = _exchange(
                method,
                url,
                shown,
                timeout=timeout,
                params=params,
                data=data,
                session=session,
                ends_at=started + deadline_s,
                deadline_s=deadline_s,
                max_bytes=max_bytes,
                max_decoded_bytes=max_decoded_bytes,
                hosts=hosts,
                cancelled=cancelled,
            )
        except Exception as exc:  # handed over to the calling thread
            outcome["error"] = exc
        finally:
            done.set()

    # The request runs in a helper thread so that the deadline also holds while the
    # server drips its status line and headers (where no byte count can be checked).
    worker = threading.Thread(target=work, name=f"{method} {shown[:60]}", daemon=True)
    worker.start()
    if not done.wait(deadline_s):
        cancelled.set()
        raise _deadline_fault(method, shown, deadline_s)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["response"]


def _deadline_fault(
    method: str, shown: str, deadline_s: float, overall: bool = False
) -> TransientError:
    if overall:
        text = f"the overall deadline of {deadline_s:g} s for this download has passed"
    else:
        text = (
            f"no complete answer within {deadline_s:g} s, the deadline of this request "
            "(the server is too slow or sends its answer a little at a time)"
        )
    return TransientError(f"{method} {shown} failed: {text}", fault=text, timed_out=True)


def _exchange(
    method: str,
    url: str,
    shown: str,
    *,
    timeout: float,
    params: dict[str, str] | None,
    data: dict[str, str] | None,
    session: requests.Session | None,
    ends_at: float,
    deadline_s: float,
    max_bytes: int,
    max_decoded_bytes: int,
    hosts: set[str],
    cancelled: threading.Event,
) -> requests.Response:
    """Send, follow allowed redirects, read the body within its caps (worker thread)."""
    client: Any = session or requests

    def fault(text: str, **kw: Any) -> TransientError:
        return TransientError(f"{method} {shown} failed: {text}", fault=text, **kw)

    headers = {"User-Agent": config.USER_AGENT, "Accept-Encoding": _ACCEPT_ENCODING}
    target, query, form, verb = url, params, data, method
    try:
        for hop in range(MAX_REDIRECTS + 1):
            response = client.request(
                verb,
                target,
                params=query,
                data=form,
                timeout=timeout,
                headers=headers,
                stream=True,
                allow_redirects=False,
            )
            location = response.headers.get("Location")
            if response.status_code not in _REDIRECTS or not location:
                break
            response.close()
            if hop == MAX_REDIRECTS:
                raise RedirectError(
                    f"{method} {shown} was redirected more than {MAX_REDIRECTS} times; "
                    "refused. Check the URL."
                )
            nxt = urljoin(response.url or target, location)
            why = _host_allowed(nxt, url, hosts)
            if why:
                raise RedirectError(
                    f"{method} {shown} was redirected (HTTP {response.status_code}) to "
                    f"{nxt[:200]}, refused: {why}. If the source really moved, set its URL "
                    "to the new address explicitly."
                )
            if response.status_code == 303 or (
                response.status_code in (301, 302) and verb == "POST"
            ):
                verb, form = "GET", None
            target, query = nxt, None
        body = _read_body(
            response,
            method,
            shown,
            ends_at=ends_at,
            deadline_s=deadline_s,
            max_bytes=max_bytes,
            max_decoded_bytes=max_decoded_bytes,
            cancelled=cancelled,
        )
    except (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError) as exc:
        raise fault(f"no answer within {timeout:g} s (time-out)", timed_out=True) from exc
    except (
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
        urllib3.exceptions.ProtocolError,
    ) as exc:
        raise fault(f"the body was cut off, the connection closed early ({exc})") from exc
    except requests.ConnectionError as exc:
        why = _unreachable(exc)
        if why:
            raise UnreachableError(
                f"{method} {shown} failed: {why}: {_connection_text(exc)}. Not retried; "
                "check the network and the URL."
            ) from exc
        raise fault(
            f"could not connect (offline, or the site is down?): {_connection_text(exc)}"
        ) from exc
    except requests.RequestException as exc:
        raise fault(f"{type(exc).__name__}: {exc}") from exc
    except OSError as exc:
        raise fault(f"the connection failed while reading ({exc})") from exc
    response._content = body
    response._content_consumed = True
    status = response.status_code
    if status == 429 or status >= 500:
        text = server_message(response)
        raise fault(
            f"HTTP {status}: {text}",
            status=status,
            server_text=text,
            retry_after_s=retry_after_s(response.headers.get("Retry-After")),
        )
    return response


def _read_body(
    response: requests.Response,
    method: str,
    shown: str,
    *,
    ends_at: float,
    deadline_s: float,
    max_bytes: int,
    max_decoded_bytes: int,
    cancelled: threading.Event,
) -> bytes:
    """Stream the body, counting wire and decoded bytes against their caps."""

    def too_large(what: str, cap: int) -> BodyTooLargeError:
        return BodyTooLargeError(
            f"{method} {shown}: the body {what} is larger than the cap of {_size(cap)} for "
            "this source; download stopped. A genuine file this large means the cap must "
            "be raised (max_bytes / max_decoded_bytes); otherwise the server is misbehaving."
        )

    def cut(text: str) -> TransientError:
        return TransientError(f"{method} {shown} failed: {text}", fault=text)

    try:
        declared = response.headers.get("Content-Length", "").strip()
        expected = int(declared) if declared.isdigit() else None
        if expected is not None and expected > max_bytes:
            raise too_large(f"announced ({expected} bytes, Content-Length)", max_bytes)
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("", "identity"):
            decoder = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            decoder = _Decoder(
                "deflate" if encoding == "deflate" else "gzip",
                max_decoded_bytes,
                lambda: too_large("once decompressed", max_decoded_bytes),
            )
        else:
            raise SourceError(
                f"{method} {shown}: the server sent Content-Encoding {encoding!r}, which was "
                "not asked for (only gzip or deflate are accepted); refused."
            )
        raw = response.raw
        parts: list[bytes] = []
        received = 0
        decoded = 0
        while True:
            if cancelled.is_set():
                raise _deadline_fault(method, shown, deadline_s)
            if time.monotonic() > ends_at:
                raise _deadline_fault(method, shown, deadline_s)
            chunk = raw.read1(CHUNK_BYTES, decode_content=False)
            if not chunk:
                break
            received += len(chunk)
            if received > max_bytes:
                raise too_large("as sent", max_bytes)
            if decoder is None:
                decoded += len(chunk)
                if decoded > max_decoded_bytes:
                    raise too_large("", max_decoded_bytes)
                parts.append(chunk)
            else:
                try:
                    parts.append(decoder.feed(chunk))
                except zlib.error as exc:
                    raise SourceError(
                        f"{method} {shown}: the {encoding} body is corrupt ({exc}); refused."
                    ) from exc
        if expected is not None and received != expected:
            raise cut(f"the body was cut off ({received} of {expected} bytes)")
        if decoder is not None:
            try:
                tail, complete = decoder.finish()
            except zlib.error as exc:
                raise SourceError(
                    f"{method} {shown}: the {encoding} body is corrupt ({exc}); refused."
                ) from exc
            if not complete:
                raise cut(f"the body was cut off (the {encoding} stream is unfinished)")
            parts.append(tail)
        return b"".join(parts)
    finally:
        response.close()


def get(url: str, **kwargs: Any) -> requests.Response:
    """One bounded GET of ``url``; see :func:`request` for the arguments and errors."""
    return request("GET", url, **kwargs)


def post(url: str, *, data: dict[str, str], **kwargs: Any) -> requests.Response:
    """One bounded POST of the form ``data`` to ``url``; see :func:`request`."""
    return request("POST", url, data=data, **kwargs)


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
    deadline: Deadline | None = None,
) -> T:
    """Return ``call()``, calling it again after each :class:`TransientError`.

    Parameters
    ----------
    call : callable
        Does one attempt (it may read ``deadline.remaining()`` to bound itself).
    wait : callable ``(error, failures) -> seconds or None``
        Asked after each fault (``failures`` counts from 1): how long to wait before
        the next attempt, or None to give up (the error propagates). It may also
        raise a more specific error itself.
    sleep : callable
        Waits between attempts (tests pass a recorder).
    deadline : Deadline, optional
        Overall limit (default: the enclosing one, else :data:`DEFAULT_TOTAL_DEADLINE_S`
        from now): no wait is begun that would end after it, and every :func:`request`
        made by ``call`` ends by then; the last error is raised instead, saying so.
    """
    deadline = deadline or _OVERALL.get() or Deadline(DEFAULT_TOTAL_DEADLINE_S)
    failures = 0
    while True:
        token = _OVERALL.set(deadline)
        try:
            return call()
        except TransientError as exc:
            failures += 1
            delay = wait(exc, failures)
            if delay is None:
                raise
            if deadline.remaining() - delay <= 0:
                note = (
                    f"gave up: the overall deadline of {deadline.seconds:g} s for this "
                    "download has passed or would pass during the next wait"
                )
                raise TransientError(
                    f"{exc} ({note})",
                    fault=f"{exc.fault} ({note})",
                    status=exc.status,
                    server_text=exc.server_text,
                    retry_after_s=exc.retry_after_s,
                    timed_out=True,
                ) from exc
            sleep(delay)
        finally:
            _OVERALL.reset(token)
