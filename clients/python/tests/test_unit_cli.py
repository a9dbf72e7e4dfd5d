"""The command line's arguments: pure parsing, no server."""

import pytest
from bus_mobile_client.cli import build_parser, joined_secret_values


def parse(*argv):
    return build_parser().parse_args(joined_secret_values(list(argv)))


def test_a_session_id_or_password_may_begin_with_a_dash():
    args = parse(
        "diagnose", "http://x", "--db", "d", "--session-id", "-YZjy_f-", "--password", "--p"
    )
    assert (args.session_id, args.password, args.db) == ("-YZjy_f-", "--p", "d")


def test_the_equals_form_is_kept():
    args = parse("diagnose", "http://x", "--session-id=-abc", "--login", "me")
    assert (args.session_id, args.login) == ("-abc", "me")


def test_a_secret_option_without_its_value_is_still_an_error(capsys):
    with pytest.raises(SystemExit):
        parse("diagnose", "http://x", "--session-id")
    assert "--session-id: expected one argument" in capsys.readouterr().err
