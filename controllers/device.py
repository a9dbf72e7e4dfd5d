from odoo.http import Controller, request, route


class BusMobileDeviceController(Controller):
    """Devices and presence; logic on ``bus_mobile.device`` and
    ``res.partner``."""

    @route(
        "/bus_mobile/device/register", type="json", auth="bus_mobile", methods=["POST"], cors="*"
    )
    def device_register(
        self,
        device_uuid=None,
        platform=None,
        app_version=None,
        push_token=None,
        push_provider=None,
        push_project_id=None,
    ):
        device = request.env["bus_mobile.device"]._bus_mobile_register(
            device_uuid,
            platform,
            app_version=app_version,
            push_token=push_token,
            push_provider=push_provider,
            push_project_id=push_project_id,
        )
        return device._bus_mobile_to_dict()

    @route(
        "/bus_mobile/device/unregister", type="json", auth="bus_mobile", methods=["POST"], cors="*"
    )
    def device_unregister(self, device_uuid=None):
        request.env["bus_mobile.device"]._bus_mobile_get(device_uuid)._bus_mobile_unregister()

    @route(
        "/bus_mobile/presence",
        type="json",
        auth="bus_mobile",
        methods=["POST"],
        cors="*",
        readonly=True,
    )
    def presence(self, partner_ids=None):
        return request.env["res.partner"]._bus_mobile_presence_for_watcher(partner_ids)

    @route(
        "/bus_mobile/presence/update", type="json", auth="bus_mobile", methods=["POST"], cors="*"
    )
    def presence_update(self, device_uuid=None, inactivity_ms=0, app_state="foreground"):
        request.env["bus_mobile.device"]._bus_mobile_heartbeat(
            device_uuid, inactivity_ms, app_state
        )
