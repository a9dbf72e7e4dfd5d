from odoo.http import Controller, request, route


class BusMobileAuthController(Controller):
    """Sign-in of apps: a device token instead of a password or a cookie
    (see ``bus_mobile.device.token``)."""

    @route("/bus_mobile/device/login", type="json", auth="public", methods=["POST"], cors="*")
    def device_login(
        self,
        db=None,
        login=None,
        password=None,
        device_uuid=None,
        platform=None,
        app_version=None,
        totp_code=None,
    ):
        return request.env["bus_mobile.device.token"]._bus_mobile_login(
            db, login, password, device_uuid, platform, app_version, totp_code
        )

    @route("/bus_mobile/device/logout", type="json", auth="bus_mobile", methods=["POST"], cors="*")
    def device_logout(self, device_uuid=None):
        """Sign out the calling device: the one of the device token, or with
        a session cookie the caller's device ``device_uuid``."""
        device = request.env["bus_mobile.device"]._bus_mobile_sign_out_caller(
            request.bus_mobile_bearer, device_uuid
        )
        return {"signed_out": True, "device_uuid": device.device_uuid}
