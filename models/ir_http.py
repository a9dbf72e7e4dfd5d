from odoo import models
from odoo.exceptions import ValidationError
from odoo.http import request
from odoo.tools.func import filter_kwargs

from ..tools.validation import excerpt

ROUTE_PREFIX = "/bus_mobile/"
# An unknown parameter is named in the error, at most this many of them.
MAX_NAMED_PARAMS = 5


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        result = super()._pre_dispatch(rule, args)
        if rule.endpoint.routing.get("type") == "json" and rule.rule.startswith(ROUTE_PREFIX):
            cls._bus_mobile_check_json_params(rule.endpoint)
        return result

    @classmethod
    def _bus_mobile_check_json_params(cls, endpoint):
        """Odoo's JSON-RPC dispatcher fails with a raw ``TypeError`` when
        ``params`` is not an object, and only logs (the names of) unknown
        parameters: on the mobile routes both are the app's mistake, told
        as a ValidationError naming it (a typo such as ``channelId`` is
        not silently ignored)."""
        try:
            payload = request.get_json_data()
        except ValueError:
            return  # Odoo answers "Invalid JSON data"
        if not isinstance(payload, dict):
            return  # Odoo answers "Invalid JSON-RPC data"
        params = payload.get("params", {})
        if not isinstance(params, dict):
            raise ValidationError(
                request.env._("params must be a JSON object, not %s.", excerpt(params))
            )
        known = set(filter_kwargs(endpoint.original_endpoint, params)) - {"self"}
        unknown = set(params) - known
        if unknown:
            names = ", ".join(sorted(excerpt(name, 40) for name in unknown)[:MAX_NAMED_PARAMS])
            raise ValidationError(
                request.env._(
                    "Unknown parameter(s) for %(route)s: %(names)s.",
                    route=request.httprequest.path[:100],
                    names=names,
                )
            )
