from werkzeug.exceptions import HTTPException, abort

from odoo import models
from odoo.exceptions import AccessDenied, AccessError, MissingError, UserError, ValidationError
from odoo.http import JSON_MIMETYPES, Response, SessionExpiredException, request
from odoo.tools.func import filter_kwargs

from ..mobile_socket import SOCKET_PATH, MobileWebsocketConnectionHandler
from ..tools.bearer import USER_MISMATCH, BearerTokenError, bearer_token
from ..tools.validation import MAX_JSON_DEPTH, excerpt, json_too_deep

ROUTE_PREFIX = "/bus_mobile/"
# Discuss's HTTP routes (uploads, downloads) answer errors as JSON.
DISCUSS_PREFIX = "/bus_mobile/discuss/"
# HTTP status of an error on those routes, by exception (first match).
ERROR_STATUS = (
    (BearerTokenError, 401),
    (SessionExpiredException, 401),
    (AccessDenied, 403),
    (AccessError, 403),
    (MissingError, 404),
    (ValidationError, 400),
    (UserError, 400),
)
# An unknown parameter is named in the error, at most this many of them.
MAX_NAMED_PARAMS = 5


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _match(cls, path_info):
        # The first hook of a request, before its transaction: a session
        # refused for reconnecting in a loop is refused again at once.
        if path_info == SOCKET_PATH:
            refusal = MobileWebsocketConnectionHandler.refusal_before_dispatch(request)
            if refusal is not None:
                abort(refusal)  # served as it is, nothing logged
        elif path_info.startswith(ROUTE_PREFIX):
            cls._bus_mobile_check_json_depth()
        return super()._match(path_info)

    @classmethod
    def _bus_mobile_check_json_depth(cls):
        """Odoo parses a JSON-RPC body before any route code runs, and
        Python's parser fails with RecursionError (a 500 and a traceback)
        on deeply nested JSON: refuse it first, as Odoo refuses JSON it
        cannot parse (400, "Invalid JSON data")."""
        httprequest = request.httprequest
        if httprequest.mimetype not in JSON_MIMETYPES:
            return
        if json_too_deep(httprequest.get_data(as_text=True)):
            message = f"Invalid JSON data: nested deeper than {MAX_JSON_DEPTH} levels"
            abort(Response(message, status=400))

    @classmethod
    def _auth_method_bus_mobile(cls):
        """``auth='bus_mobile'``, the auth of every mobile route: the
        session cookie, as ``auth='user'``, or ``Authorization: Bearer``
        with a device token or one of the user's API keys. Both on one
        request must be the same user. Unlike ``auth='bearer'``, a cookie
        alone is enough: the mobile routes take JSON only, which a
        cross-site form cannot send."""
        identity = cls._bus_mobile_bearer_identity()
        if identity is not None:
            user = request.env["res.users"].browse(identity.uid)
            request.update_env(user=identity.uid)
            # sudo: res.users - the user's own language and time zone.
            user = user.sudo()
            request.update_context(lang=user.lang, tz=user.tz)
        request.bus_mobile_bearer = identity
        cls._auth_method_user()

    @classmethod
    def _bus_mobile_bearer_identity(cls):
        """The :class:`~..tools.bearer.BearerIdentity` of the request's
        bearer token, or None without one; checked against the session's
        user (already validated by ``_authenticate``).

        :raise BearerTokenError: wrong, expired, revoked, another user's
        """
        token = bearer_token(request.httprequest.headers)
        if token is None:
            return None
        identity = request.env["res.users.apikeys"]._bus_mobile_authenticate(token)
        if request.session.uid is not None and request.session.uid != identity.uid:
            raise BearerTokenError(USER_MISMATCH)
        return identity

    @classmethod
    def _handle_error(cls, exception):
        """A refused bearer token: 401 (with Odoo's JSON-RPC error body on
        JSON routes) and RFC 6750's ``WWW-Authenticate``. Discuss's HTTP
        routes answer JSON errors (``_bus_mobile_json_error``)."""
        response = cls._bus_mobile_json_error(exception) or super()._handle_error(exception)
        if isinstance(exception, BearerTokenError):
            response.status_code = 401
            response.headers["WWW-Authenticate"] = (
                f'Bearer error="invalid_token", error_description="{exception.reason}"'
            )
        return response

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

    @classmethod
    def _bus_mobile_json_error(cls, exception):
        """On Discuss's HTTP routes (and their unknown paths), a response
        ``{"error": {"name", "message"}}`` with a 4xx status, instead of
        Odoo's HTML page or its redirect to the login; None elsewhere, and
        for unexpected errors (Odoo's 500, which logs them)."""
        path = request.httprequest.path
        dispatcher = getattr(request, "dispatcher", None)
        if (
            not path.startswith(DISCUSS_PREFIX)
            or getattr(dispatcher, "routing_type", "http") != "http"
        ):
            return None
        status = next((code for kind, code in ERROR_STATUS if isinstance(exception, kind)), None)
        if isinstance(exception, HTTPException) and exception.code and exception.code < 500:
            status, message = exception.code, exception.description
        elif status is not None:
            message = exception.args[0] if exception.args else str(exception)
        else:
            return None
        name = f"{type(exception).__module__}.{type(exception).__qualname__}"
        return request.make_json_response(
            {"error": {"name": name, "message": str(message)}}, status=status
        )
