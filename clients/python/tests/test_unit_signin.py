"""How the command signs in, without a server: which credential wins, when
the password and the two-factor code are asked, and that nobody is asked
without a terminal."""

import io

import pytest
from bus_mobile_client.cli import build_parser, joined_secret_values
from bus_mobile_client.client import TotpRequired
from bus_mobile_client.signin import (
    PASSWORD_ENV,
    TOKEN_ENV,
    Prompt,
    SignInImpossible,
    ask_missing_password,
    credentials,
    sign_in,
)


def parse(*argv):
    return build_parser().parse_args(joined_secret_values(list(argv)))


class Terminal(io.StringIO):
    """What the person types, line by line; a terminal or a pipe."""

    def __init__(self, text="", tty=True):
        super().__init__(text)
        self.tty = tty

    def isatty(self):
        return self.tty


class Asked:
    """A prompt whose answers are given, recording the questions."""

    def __init__(self, secret="s3cret", typed="", tty=True):
        self.questions = []
        self.stderr = io.StringIO()

        def ask_secret(question):
            self.questions.append(question)
            return secret

        self.prompt = Prompt(stdin=Terminal(typed, tty), stderr=self.stderr, ask_secret=ask_secret)


class DeviceClient:
    """The part of ``MobileBusClient`` that sign-in uses: ``device_login``
    answering as the server does for a one- or a two-factor account."""

    def __init__(self, password, two_factor=False, token=None):
        self.login, self.password, self.token = "anna", password, token
        self.two_factor = two_factor
        self.calls = []

    def device_login(self, totp_code=None, platform="other"):
        self.calls.append({"password": self.password, "totp_code": totp_code})
        if self.two_factor and totp_code is None:
            raise TotpRequired("two-factor")
        self.token = "issued"


def test_a_token_wins_and_nothing_is_asked():
    asked = Asked()
    args = parse("watch", "http://x", "--db", "d", "--login", "anna", "--token", "-tok")
    creds = ask_missing_password(credentials(args, environ={}), args, asked.prompt)
    assert (creds.token, creds.token_from, creds.password) == ("-tok", "--token", None)
    assert asked.questions == []


def test_the_token_and_the_password_from_the_environment():
    args = parse("watch", "http://x", "--db", "d", "--login", "anna")
    creds = credentials(args, environ={TOKEN_ENV: "abc", PASSWORD_ENV: "pw"})
    assert (creds.token, creds.token_from, creds.password) == ("abc", f"${TOKEN_ENV}", "pw")
    # The option wins over the variable.
    args = parse("watch", "http://x", "--token", "opt", "--password", "given")
    creds = credentials(args, environ={TOKEN_ENV: "abc", PASSWORD_ENV: "pw"})
    assert (creds.token, creds.token_from, creds.password) == ("opt", "--token", "given")


def test_an_empty_token_variable_is_no_token():
    args = parse("watch", "http://x", "--db", "d", "--login", "anna")
    assert credentials(args, environ={TOKEN_ENV: ""}).token is None


def test_the_password_is_asked_when_nothing_is_given():
    asked = Asked(secret="typed-pw")
    args = parse("chat", "http://x", "--db", "d", "--login", "anna")
    creds = ask_missing_password(credentials(args, environ={}), args, asked.prompt)
    assert creds.password == "typed-pw"
    assert asked.questions == ["Password of anna on http://x: "]


@pytest.mark.parametrize(
    "given",
    [("--password", "pw"), ("--session-id", "sid")],
)
def test_no_prompt_with_a_password_or_a_session(given):
    asked = Asked()
    args = parse("diagnose", "http://x", "--db", "d", "--login", "anna", *given)
    creds = ask_missing_password(credentials(args, environ={}), args, asked.prompt)
    assert asked.questions == []
    assert (creds.password or creds.session_id) == given[1]


def test_an_empty_password_given_is_a_password():
    asked = Asked()
    args = parse("chat", "http://x", "--db", "d", "--login", "anna")
    creds = ask_missing_password(credentials(args, environ={PASSWORD_ENV: ""}), args, asked.prompt)
    assert (creds.password, asked.questions) == ("", [])


def test_nothing_to_sign_in_with_names_what_to_give():
    asked = Asked()
    args = parse("watch", "http://x")
    with pytest.raises(SignInImpossible, match=r"--db and --login .* \$BUS_MOBILE_TOKEN"):
        ask_missing_password(credentials(args, environ={}), args, asked.prompt)
    assert asked.questions == []


def test_no_terminal_no_question():
    asked = Asked(tty=False)
    args = parse("chat", "http://x", "--db", "d", "--login", "anna")
    with pytest.raises(SignInImpossible, match=r"no terminal to ask: set \$BUS_MOBILE_PASSWORD"):
        ask_missing_password(credentials(args, environ={}), args, asked.prompt)
    assert asked.questions == []


def test_a_one_factor_account_signs_in_without_a_code():
    asked = Asked()
    client = DeviceClient("pw")
    assert sign_in(client, asked.prompt) is True
    assert client.calls == [{"password": "pw", "totp_code": None}]
    assert (client.token, client.password) == ("issued", None)
    assert asked.stderr.getvalue() == ""


def test_a_two_factor_account_is_asked_its_code_and_signs_in_again():
    asked = Asked(typed=" 123456 \n")
    client = DeviceClient("pw", two_factor=True)
    assert sign_in(client, asked.prompt) is True
    assert client.calls == [
        {"password": "pw", "totp_code": None},
        {"password": "pw", "totp_code": "123456"},
    ]
    assert "Two-factor code of anna" in asked.stderr.getvalue()
    assert client.password is None, "the password is forgotten once the token is there"


def test_a_two_factor_account_without_a_terminal_is_an_error():
    asked = Asked(tty=False)
    client = DeviceClient("pw", two_factor=True)
    with pytest.raises(SignInImpossible, match="two-factor code of anna .* no terminal"):
        sign_in(client, asked.prompt)
    assert len(client.calls) == 1


def test_no_code_typed_is_an_error():
    asked = Asked(typed="")
    client = DeviceClient("pw", two_factor=True)
    with pytest.raises(SignInImpossible, match="no two-factor code"):
        sign_in(client, asked.prompt)


def test_a_token_or_a_session_is_not_signed_in_again():
    asked = Asked()
    for client in (DeviceClient("pw", token="given"), DeviceClient(None)):
        assert sign_in(client, asked.prompt) is False
        assert client.calls == []
