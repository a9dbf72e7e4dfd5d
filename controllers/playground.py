from odoo.http import Controller, request, route


class BusMobilePlaygroundController(Controller):
    @route("/bus_mobile/playground", type="http", auth="bus_mobile", methods=["GET"])
    def playground(self):
        """A page that runs the JavaScript client (static/client) against this
        server, for app developers to see it work before writing app code."""
        return request.render("bus_mobile.playground", {"user_name": request.env.user.name})
