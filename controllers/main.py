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
