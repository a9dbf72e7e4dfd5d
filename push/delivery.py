"""Sending prepared pushes to the providers, outside any transaction: the
send cron claims and commits its rows first, then calls :func:`deliver`,
then records the outcomes. Nothing here touches the database."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import requests

from . import expo, fcm
from .outcome import DEFER, FAILED, RETRY, Outcome

_logger = logging.getLogger(__name__)


class Prepared(NamedTuple):
    """A claimed push, ready to send."""

    push_id: int
    provider: str
    token: str
    body: dict
    # Expo: the project of the token, when known (see expo.py); batches
    # never mix known projects.
    project: str | None = None


def http_session(settings):
    """A requests session with a pool as large as ``push_concurrency``."""
    session = requests.Session()
    size = settings["push_concurrency"]
    adapter = requests.adapters.HTTPAdapter(pool_connections=size, pool_maxsize=size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def expo_client(session, settings):
    return expo.ExpoClient(
        session,
        settings["push_expo_base_url"],
        settings["push_expo_access_token"] or None,
        settings["push_timeout_s"],
    )


def fcm_client(session, settings):
    """The FCM client of the settings; ValueError says what is missing."""
    text = settings["push_fcm_service_account"]
    path = settings["push_fcm_service_account_file"]
    if not text and path:
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except OSError as exc:
            raise ValueError(
                f"cannot read bus_mobile.push_fcm_service_account_file: {exc.strerror}"
            ) from None
    if not text:
        raise ValueError(
            "Firebase is not configured: set bus_mobile.push_fcm_service_account "
            "or bus_mobile.push_fcm_service_account_file"
        )
    return fcm.FcmClient(
        session,
        settings["push_fcm_base_url"],
        fcm.load_service_account(text),
        project_id=settings["push_fcm_project_id"] or None,
        timeout=settings["push_timeout_s"],
    )


def expo_batches(items):
    """Expo's batches of ``items`` (:class:`Prepared`): at most BATCH_SIZE
    pushes, of one known project (or of tokens whose project is unknown)."""
    by_project = {}
    for item in items:
        by_project.setdefault(item.project, []).append(item)
    for group in by_project.values():
        for start in range(0, len(group), expo.BATCH_SIZE):
            yield group[start : start + expo.BATCH_SIZE]


def deliver(prepared, settings, observe=None):
    """Send ``prepared`` (:class:`Prepared` pushes); {push id: Outcome}.
    Expo in batches of 100 by project, FCM one request each,
    ``push_concurrency`` requests at a time; none is started after
    ``push_batch_time_s``. ``observe(provider, seconds)`` is told how long
    each request took (the metrics)."""
    if not prepared:
        return {}
    outcomes = {}
    deadline = time.monotonic() + settings["push_batch_time_s"]
    with http_session(settings) as session:
        tasks = []
        expo_items = [item for item in prepared if item[1] == "expo"]
        fcm_items = [item for item in prepared if item[1] != "expo"]
        if expo_items:
            client = expo_client(session, settings)
            for chunk in expo_batches(expo_items):
                tasks.append((chunk, lambda c=chunk, cl=client: cl.send([i.body for i in c])))
        if fcm_items:
            try:
                client = fcm_client(session, settings)
            except ValueError as exc:
                for item in fcm_items:
                    outcomes[item[0]] = Outcome(FAILED, f"FCM: {exc}")
            else:
                for item in fcm_items:
                    tasks.append(([item], lambda i=item, cl=client: [cl.send(i[3])]))

        def run(task):
            chunk, call = task
            if time.monotonic() > deadline:
                return chunk, [Outcome(DEFER, "Deferred: out of time.") for _ in chunk]
            started = time.monotonic()
            try:
                return chunk, call()
            except Exception as exc:  # recorded on the rows: no push is lost
                _logger.exception("Push: unexpected error while sending")
                return chunk, [Outcome(RETRY, f"Unexpected error: {exc!r}") for _ in chunk]
            finally:
                if observe is not None:
                    observe(chunk[0][1], time.monotonic() - started)

        with ThreadPoolExecutor(max_workers=settings["push_concurrency"]) as pool:
            for chunk, results in pool.map(run, tasks):
                for item, outcome in zip(chunk, results, strict=True):
                    outcomes[item[0]] = outcome
    return outcomes


def send_now(message, provider, settings):
    """Send one PushMessage at once (the device form's test push); its Outcome."""
    with http_session(settings) as session:
        if provider == "expo":
            return expo_client(session, settings).send([expo.build(message)])[0]
        try:
            client = fcm_client(session, settings)
        except ValueError as exc:
            return Outcome(FAILED, f"FCM: {exc}")
        return client.send(fcm.build(message))
