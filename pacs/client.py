"""The DICOMweb client of a project's connection, and PACS faults turned into messages
that name the cause (never a URL's query, which may carry an accession number)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus

import requests
from dicomweb_client.api import DICOMwebClient

from pacs.crypto import SecretUnreadable, secret_decrypt
from pacs.models import PacsConnection

# dicomweb-client and urllib3 log each request URL with its query (an accession number, the
# original study UID) at DEBUG: those never reach a log.
logging.getLogger("dicomweb_client").setLevel(logging.WARNING)
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)

# Instances as stored (no transcoding); WADO-RS needs an explicit media type.
DICOM_ANY = (("application/dicom", "*"),)


class PacsError(Exception):
    """A PACS fault; ``message`` is shown to the lead as is. A fault of one study only
    (``fatal=False``) lets the import go on with the next study."""

    def __init__(self, message: str, *, fatal: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.fatal = fatal


def client_for(connection: PacsConnection) -> DICOMwebClient:
    session = requests.Session()
    if connection.username:
        try:
            password = secret_decrypt(connection.password_encrypted)
        except SecretUnreadable as exc:
            raise PacsError(str(exc)) from exc
        session.auth = (connection.username, password)
    client = DICOMwebClient(
        url=connection.base_url.rstrip("/"), session=session, timeout=connection.timeout_s
    )
    # Faults are reported at once; the lead retries (a retry resumes where it stopped).
    client.set_http_retry_params(retry=False)
    return client


def _http_message(code: int) -> str:
    if code in {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}:
        return (
            f"the PACS refused the connection's user name or password (HTTP {code}); "
            "check them on the settings page"
        )
    if code == HTTPStatus.NOT_FOUND:
        return "the PACS does not have it (HTTP 404): it was deleted or moved"
    if code >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return f"the PACS failed with a server error (HTTP {code}); try again later"
    return f"the PACS refused the request (HTTP {code})"


@contextmanager
def pacs_faults(connection: PacsConnection) -> Iterator[None]:
    """Turn transport and HTTP faults into one PacsError naming the cause."""
    where = connection.base_url
    try:
        yield
    except requests.HTTPError as exc:
        code = exc.response.status_code if exc.response is not None else 0
        raise PacsError(_http_message(code), fatal=code != HTTPStatus.NOT_FOUND) from None
    except requests.Timeout:
        raise PacsError(
            f"the PACS at {where} did not answer within {connection.timeout_s:g} s (timeout)"
        ) from None
    except requests.exceptions.ChunkedEncodingError:
        raise PacsError(
            "the PACS connection broke during the transfer (the reply was cut short); "
            "what had fully arrived is kept, retry to fetch the rest"
        ) from None
    except requests.ConnectionError as exc:
        if _broke_midway(exc):
            raise PacsError(
                "the PACS connection broke during the transfer (the reply was cut short); "
                "what had fully arrived is kept, retry to fetch the rest"
            ) from None
        raise PacsError(
            f"the PACS at {where} cannot be reached (connection refused or no route)"
        ) from None
    except requests.RequestException as exc:
        raise PacsError(f"the PACS request failed ({type(exc).__name__})") from None
    except ValueError as exc:
        # dicomweb-client and pydicom raise ValueError on a reply that is not DICOMweb.
        raise PacsError(f"the PACS sent a reply that is not valid DICOMweb ({exc})") from None


def _broke_midway(exc: requests.ConnectionError) -> bool:
    text = repr(exc)
    return "IncompleteRead" in text or "Connection broken" in text or "ProtocolError" in text
