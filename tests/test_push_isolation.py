"""One bad token, project or answer fails only its own pushes.

The send cron puts up to 100 due pushes, of any users and channels, in one
Expo request. Expo refuses a request that mixes projects (HTTP 400,
``PUSH_TOO_MANY_EXPERIENCE_IDS``) or holds one malformed message: a member
registering a token of their own Expo app failed every push batched with
theirs. (PushCase, the fake providers over real HTTP and the posting
helpers, is test_push.py's.)"""

from odoo.tests import tagged

from ..push import expo
from .fake_push_provider import DEFAULT_PROJECT
from .test_push import PushCase, expo_token

FOREIGN = "@intruder/own-app"


@tagged("post_install", "-at_install")
class TestPushIsolation(PushCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Paul, a portal user, is a member: his app is not the company's.
        cls.support = cls.make_channel(
            "Support", "private", cls.alice | cls.bob | cls.carol | cls.paul
        )

    def setUp(self):
        super().setUp()
        self.bob_phone = self.device(self.bob, expo_token("bob"))
        self.carol_phone = self.device(self.carol, expo_token("carol"))
        self.paul_phone = self.device(self.paul, expo_token("paul-own-app"))
        self.fake.token_projects[expo_token("paul-own-app")] = FOREIGN

    def sends(self):
        """The tokens of each Expo request, in order."""
        return [sorted(m["to"] for m in r["body"]) for r in self.fake.of_kind("expo_send")]

    def states(self):
        return {push.device_id.device_uuid: push.state for push in self.pushes()}

    def test_a_foreign_project_token_no_longer_fails_its_batch(self):
        """The reported case: 3 of 3 victims' pushes went from sent to
        failed, with no retry and no split."""
        self.post(channel=self.support)
        self.run_cron()
        self.assertEqual(set(self.states().values()), {"sent"}, self.pushes().mapped("reason"))
        mixed, *parts = self.sends()
        self.assertEqual(len(mixed), 3)
        self.assertEqual(
            sorted(parts),
            [[expo_token("bob"), expo_token("carol")], [expo_token("paul-own-app")]],
        )
        # What Expo said is kept: later batches never mix the projects.
        for device, project in (
            (self.bob_phone, DEFAULT_PROJECT),
            (self.carol_phone, DEFAULT_PROJECT),
            (self.paul_phone, FOREIGN),
        ):
            device.invalidate_recordset()
            self.assertEqual(device.push_project, project)
        self.fake.reset()
        self.fake.token_projects[expo_token("paul-own-app")] = FOREIGN
        self.post("again", channel=self.support)
        self.run_cron()
        self.assertEqual(
            sorted(self.sends()),
            [[expo_token("bob"), expo_token("carol")], [expo_token("paul-own-app")]],
        )
        self.assertEqual(self.pushes(state="failed").mapped("reason"), [])

    def test_the_expo_access_token_applies_to_the_parts(self):
        self.set_params(push_expo_access_token="enhanced-security")
        self.addCleanup(self.set_params, push_expo_access_token="")
        self.fake.expo_access_token = "enhanced-security"
        self.addCleanup(setattr, self.fake, "expo_access_token", None)
        self.post(channel=self.support)
        self.run_cron()
        requests = self.fake.of_kind("expo_send")
        self.assertEqual(len(requests), 3)
        for request in requests:
            self.assertEqual(request["headers"]["Authorization"], "Bearer enhanced-security")
        self.assertEqual(set(self.states().values()), {"sent"})

    def test_a_declared_project_groups_from_the_first_batch(self):
        """An app may say its project when it registers; what Expo says of
        the token wins over it."""
        for device, project in (
            (self.bob_phone, DEFAULT_PROJECT),
            (self.carol_phone, DEFAULT_PROJECT),
            (self.paul_phone, FOREIGN),
        ):
            self.env["bus_mobile.device"].with_user(device.user_id)._bus_mobile_register(
                device.device_uuid, "ios", push_project_id=project
            )
        self.post(channel=self.support)
        self.run_cron()
        self.assertEqual(len(self.sends()), 2)
        self.assertEqual(set(self.states().values()), {"sent"})
        # Declaring the company's project for the foreign token: refused
        # once, split, and corrected from Expo's answer.
        self.env["bus_mobile.device"].with_user(self.paul)._bus_mobile_register(
            self.paul_phone.device_uuid,
            "ios",
            push_token=expo_token("paul-other-install"),
            push_project_id=DEFAULT_PROJECT,
        )
        self.fake.reset()
        self.fake.token_projects[expo_token("paul-other-install")] = FOREIGN
        self.post("again", channel=self.support)
        self.run_cron()
        self.assertEqual(len(self.sends()), 3)
        self.assertEqual(self.pushes(state="failed").mapped("reason"), [])
        self.paul_phone.invalidate_recordset()
        self.assertEqual(self.paul_phone.push_project, FOREIGN)
        # Registering the same token again with the wrong project keeps
        # what Expo said.
        self.env["bus_mobile.device"].with_user(self.paul)._bus_mobile_register(
            self.paul_phone.device_uuid,
            "ios",
            push_token=expo_token("paul-other-install"),
            push_project_id=DEFAULT_PROJECT,
        )
        self.paul_phone.invalidate_recordset()
        self.assertEqual(self.paul_phone.push_project, FOREIGN)

    def test_one_message_expo_refuses_fails_alone(self):
        """A request Expo refuses for one message (400) is sent again in
        halves until that message is alone."""
        self.fake.token_projects.clear()
        self.fake.refused_tokens.add(expo_token("paul-own-app"))
        self.post(channel=self.support)
        self.run_cron()
        states = self.states()
        self.assertEqual(states.pop(self.paul_phone.device_uuid), "failed")
        self.assertEqual(set(states.values()), {"sent"})
        self.assertIn("VALIDATION_ERROR", self.pushes(device_id=self.paul_phone.id).reason)

    def test_parts_of_a_refused_batch_are_bounded(self):
        """Halving never costs more than MAX_PART_REQUESTS requests per
        batch: pushes past it fail with the refusal, never a request more."""
        self.set_params(max_devices_per_user=100)
        self.fake.token_projects.clear()
        poison_devices = self.env["bus_mobile.device"]
        for n in range(40):
            poison_devices |= self.device(self.paul, expo_token(f"poison-{n}"))
            self.fake.refused_tokens.add(expo_token(f"poison-{n}"))
        self.post(channel=self.support)
        self.run_cron()
        self.assertLessEqual(len(self.fake.of_kind("expo_send")), 1 + expo.MAX_PART_REQUESTS)
        self.assertEqual(len(self.pushes()), 43)
        # Which good pushes the budget reaches depends on where they sit in
        # the batch; none is left waiting, and every refused one failed.
        self.assertLessEqual(set(self.pushes().mapped("state")), {"sent", "failed"})
        poisoned = self.pushes().filtered(lambda push: push.device_id in poison_devices)
        self.assertEqual(len(poisoned), 40)
        self.assertEqual(set(poisoned.mapped("state")), {"failed"})
        for push in self.pushes(state="failed") - poisoned:
            self.assertIn("VALIDATION_ERROR", push.reason)

    def test_fcm_has_no_shared_failure(self):
        """FCM takes one request per push: a token of another Firebase
        project fails alone (403 SENDER_ID_MISMATCH)."""
        self.fake.token_projects.clear()
        for device, token in ((self.bob_phone, "fcm-bob"), (self.paul_phone, "fcm-paul")):
            self.env["bus_mobile.device"].with_user(device.user_id)._bus_mobile_register(
                device.device_uuid, "android", push_token=token
            )
        self.fake.fcm_foreign_tokens.add("fcm-paul")
        self.post(channel=self.support)
        self.run_cron()
        self.assertEqual(
            self.states(),
            {
                self.bob_phone.device_uuid: "sent",
                self.carol_phone.device_uuid: "sent",
                self.paul_phone.device_uuid: "failed",
            },
        )
        self.assertIn("SENDER_ID_MISMATCH", self.pushes(device_id=self.paul_phone.id).reason)
