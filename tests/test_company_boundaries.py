"""Company boundaries: a partner an employee may not read (another
company's customer, by Odoo's own record rules) can never be made a member
of a channel, nor named by one; it is refused as a partner that does not
exist."""

from odoo.exceptions import AccessError, MissingError
from odoo.tests import tagged

from .common import ChannelCase


@tagged("post_install", "-at_install")
class TestCompanyBoundaries(ChannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company_a = cls.env.ref("base.main_company")
        company_b = cls.env["res.company"].create({"name": "Company B"})
        cls.employee_a = cls.make_user(
            "mc_employee_a", company_id=company_a.id, company_ids=[company_a.id]
        )
        cls.manager = cls.make_user(
            "mc_manager",
            name="Manager",
            company_id=company_a.id,
            company_ids=[company_a.id, company_b.id],
        )
        cls.customer_b = cls.make_user(
            "mc_customer_b",
            name="Secret Customer B",
            groups="base.group_portal",
            company_id=company_b.id,
            company_ids=[company_b.id],
        )
        cls.customer_b.partner_id.company_id = company_b
        cls.room = cls.make_channel("Room A", "private", cls.employee_a | cls.alice)
        cls.absent_id = cls.env["res.partner"].search([], order="id desc", limit=1).id + 1000

    def test_the_customer_is_not_readable_by_the_employee(self):
        """The premise: Odoo's rules hide the customer from the employee."""
        with self.assertRaises(AccessError):
            self.customer_b.partner_id.with_user(self.employee_a).check_access("read")
        self.customer_b.partner_id.with_user(self.manager).check_access("read")

    def refusal(self, route, partner_id, **params):
        """The MissingError message of ``route`` with ``partner_id``, the
        partner's id written as ``<id>`` (to compare two refusals)."""
        message = self.assert_rpc_error(
            self.employee_a, route, MissingError, None, partner_ids=[partner_id], **params
        )
        return message.replace(str(partner_id), "<id>")

    def test_direct_channel_with_an_unreadable_partner_is_refused(self):
        """The reported case: a direct channel with the customer's id was
        created, named after the customer, and the message reached them."""
        route = "/bus_mobile/channel/create"
        hidden = self.refusal(route, self.customer_b.partner_id.id, channel_type="direct")
        absent = self.refusal(route, self.absent_id, channel_type="direct")
        self.assertEqual(hidden, absent)
        self.assertNotIn("Secret", hidden)
        for channel_type in ("private", "public"):
            hidden = self.refusal(
                route, self.customer_b.partner_id.id, name="x", channel_type=channel_type
            )
            self.assertEqual(
                hidden, self.refusal(route, self.absent_id, name="x", channel_type=channel_type)
            )
        Channel = self.env["bus_mobile.channel"].with_context(active_test=False)
        self.assertFalse(
            Channel.search([("member_ids.partner_id", "=", self.customer_b.partner_id.id)])
        )

    def test_adding_an_unreadable_partner_is_refused(self):
        route = "/bus_mobile/channel/add_members"
        hidden = self.refusal(route, self.customer_b.partner_id.id, channel_id=self.room.id)
        self.assertEqual(hidden, self.refusal(route, self.absent_id, channel_id=self.room.id))
        self.assertNotIn(self.customer_b.partner_id, self.room.member_ids.partner_id)

    def test_a_readable_partner_is_still_accepted(self):
        """A manager of both companies may open a direct channel with the
        customer, named as the manager reads the names."""
        direct = self.rpc(
            self.manager,
            "/bus_mobile/channel/create",
            channel_type="direct",
            partner_ids=[self.customer_b.partner_id.id],
        )
        self.assertEqual(direct["name"], "Manager, Secret Customer B")
        channel = self.rpc(
            self.employee_a,
            "/bus_mobile/channel/create",
            name="Team",
            channel_type="private",
            partner_ids=[self.alice.partner_id.id],
        )
        self.assertEqual(
            sorted(channel["member_partner_ids"]),
            sorted([self.alice.partner_id.id, self.employee_a.partner_id.id]),
        )

    def test_presence_of_an_unreadable_partner_is_not_told(self):
        self.assertEqual(
            self.rpc(
                self.employee_a, "/bus_mobile/presence", partner_ids=[self.customer_b.partner_id.id]
            ),
            [],
        )
