from odoo.http import Controller, request, route


class BusMobileController(Controller):
    @route(
        "/bus_mobile/config",
        type="json",
        auth="bus_mobile",
        methods=["POST"],
        cors="*",
        readonly=True,
    )
    def config(self):
        return request.env.user._bus_mobile_config()

    @route(
        "/bus_mobile/colleagues",
        type="json",
        auth="bus_mobile",
        methods=["POST"],
        cors="*",
        readonly=True,
    )
    def colleagues(self, query="", limit=None):
        """Colleagues to start a direct chat with (``channel/create``)."""
        return request.env["res.users"]._bus_mobile_colleagues(query, limit)
