"""How the ``bus-mobile`` command signs in: the ways apps do.

The first of these that is given wins:

1. a bearer token, ``--token`` or ``$BUS_MOBILE_TOKEN``: a device token
   (from an app's sign-in) or one of the user's Odoo API keys. Nothing
   else is needed, and the command leaves it as it was;
2. a password, ``--password`` (``ps`` and the shell's history show it: for
   scripts that already have it there) or ``$BUS_MOBILE_PASSWORD``;
3. a session id, ``--session-id`` (Odoo's ``session_id`` cookie);
4. else, the password asked at a prompt (in a terminal only).

A password signs this run in as a device (``/bus_mobile/device/login``, as
apps do), asking for the code of a two-factor account; the command signs
that device out when it ends, so that no token outlives it.
"""

import getpass
import os
import sys
from dataclasses import dataclass

from .client import BusMobileError, TotpRequired

TOKEN_ENV = "BUS_MOBILE_TOKEN"
PASSWORD_ENV = "BUS_MOBILE_PASSWORD"


class SignInImpossible(BusMobileError):
    """Nothing to sign in with, and nobody at a terminal to ask."""


@dataclass
class Credentials:
    """What the command line and the environment give (secrets included)."""

    token: str | None = None
    password: str | None = None
    session_id: str | None = None
    # Where the token came from, to name it when the server refuses it.
    token_from: str | None = None

    @property
    def needs_password(self):
        """Nothing but a login: the password must be asked."""
        return not (self.token or self.password is not None or self.session_id)


def credentials(args, environ=None):
    """The :class:`Credentials` of parsed ``args`` (``token``, ``password``,
    ``session_id``) and of ``environ`` (default: the process's)."""
    environ = os.environ if environ is None else environ
    password = args.password if args.password is not None else environ.get(PASSWORD_ENV)
    token, token_from = args.token, "--token"
    if not token:
        token, token_from = environ.get(TOKEN_ENV) or None, f"${TOKEN_ENV}"
    return Credentials(
        token=token,
        password=password,
        session_id=getattr(args, "session_id", None),
        token_from=token_from if token else None,
    )


class Prompt:
    """Questions to the person at the terminal: never asked without one
    (a script waits for nobody), never written to stdout (``--json``)."""

    def __init__(self, stdin=None, stderr=None, ask_secret=getpass.getpass):
        self.stdin = stdin or sys.stdin
        self.stderr = stderr or sys.stderr
        self.ask_secret = ask_secret

    @property
    def interactive(self):
        return self.stdin.isatty()

    def _check(self, what, instead):
        if not self.interactive:
            raise SignInImpossible(f"{what} is needed and there is no terminal to ask: {instead}")

    def password(self, login, url):
        self._check(
            "a password",
            f"set ${PASSWORD_ENV}, or give a device token or an API key in ${TOKEN_ENV}",
        )
        return self.ask_secret(f"Password of {login} on {url}: ")

    def totp_code(self, login):
        self._check(
            f"the two-factor code of {login}",
            f"sign in with a device token or an API key in ${TOKEN_ENV}",
        )
        self.stderr.write(f"Two-factor code of {login} (from the authenticator app): ")
        self.stderr.flush()
        answer = self.stdin.readline()
        if not answer:
            raise SignInImpossible("no two-factor code given")
        return answer.strip()


def ask_missing_password(creds, args, prompt):
    """``creds`` with the password asked when nothing else was given (a
    database and a login are needed to sign in with it)."""
    if not creds.needs_password:
        return creds
    if not (args.db and args.login):
        raise SignInImpossible(
            f"give --db and --login (the password is then asked), or a device token or an "
            f"API key in ${TOKEN_ENV}"
        )
    creds.password = prompt.password(args.login, args.url)
    return creds


def sign_in_device(client, ask_code, platform="other"):
    """Sign ``client`` in as a device with its login and password, calling
    ``ask_code()`` for the code of a two-factor account; then forget the
    password, as an app does (it keeps the token).

    :raises AuthenticationFailed: wrong login, password or code
    """
    try:
        client.device_login(platform=platform)
    except TotpRequired:
        client.device_login(totp_code=ask_code(), platform=platform)
    client.password = None


def sign_in(client, prompt):
    """Sign ``client`` in the way its credentials say: a device sign-in for
    a password, nothing for a token or a session (the first call checks
    them). Returns whether it signed a device in (sign it out at the end)."""
    if client.token or client.password is None:
        return False
    sign_in_device(client, lambda: prompt.totp_code(client.login))
    return True
