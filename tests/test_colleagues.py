from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, tagged

from .auth_common import AuthCallsMixin
from .common import RpcMixin

ROUTE = "/bus_mobile/colleagues"


@tagged("post_install", "-at_install")
class TestColleagues(AuthCallsMixin, RpcMixin, HttpCase):
    """Whom an app offers for a direct chat: internal users, searched with
    the caller's own rights."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        users = cls.env["res.users"].with_context(no_reset_password=True)
        cls.alice = users.create(
            {"name": "Colleague Alice", "login": "col_alice", "password": "col_alice"}
        )
        cls.albert = users.create(
            {"name": "Colleague Albert", "login": "col_albert", "password": "col_albert"}
        )
        cls.bob = users.create({"name": "Colleague Bob", "login": "col_bob", "password": "col_bob"})
        cls.archived = users.create(
            {"name": "Colleague Gone", "login": "col_gone", "password": "col_gone", "active": False}
        )
        cls.portal = users.create(
            {
                "name": "Colleague Portal",
                "login": "col_portal",
                "password": "col_portal",
                "groups_id": [(6, 0, [cls.env.ref("base.group_portal").id])],
            }
        )

    def names(self, **params):
        return [row["name"] for row in self.rpc(self.alice, ROUTE, **params)]

    def test_search_by_name(self):
        self.assertEqual(self.names(query="Colleague"), ["Colleague Albert", "Colleague Bob"])
        self.assertEqual(self.names(query="colleague al"), ["Colleague Albert"])
        rows = self.rpc(self.alice, ROUTE, query="Bob")
        self.assertEqual(rows, [{"partner_id": self.bob.partner_id.id, "name": "Colleague Bob"}])
        self.assertEqual(self.names(query="Colleague", limit=1), ["Colleague Albert"])

    def test_with_a_device_token(self):
        token = self.device_token("col_alice")
        rows = self.result(ROUTE, {"query": "Colleague B"}, token=token)
        self.assertEqual([row["name"] for row in rows], ["Colleague Bob"])

    def test_portal_users_may_not_search(self):
        self.assert_rpc_error(self.portal, ROUTE, AccessError, "internal users")

    def test_bad_input(self):
        for params in (
            {"query": 42},
            {"query": "x" * 101},
            {"query": "a\x00b"},
            {"query": "\ud800"},
            {"query": "a", "limit": 0},
            {"query": "a", "limit": 51},
            {"query": "a", "limit": 10**30},
            {"query": "a", "limit": "5"},
            {"query": "a", "limit": True},
        ):
            with self.subTest(params=params):
                self.assert_rpc_error(self.alice, ROUTE, ValidationError, **params)
