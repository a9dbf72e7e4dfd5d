from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from odoo.exceptions import AccessError, ValidationError
from odoo.http import Controller, request, route

from ..tools.validation import check_id, check_text, excerpt
from .discuss import PREFIX, _discuss

MAX_FILENAME_CHARS = 255
# A multipart request is its file plus headers and the other fields.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
MAX_IMAGE_SIDE = 4096
FALSE_VALUES = ("", "0", "false")
# Errors of these routes are JSON with a 4xx status (models/ir_http.py).
HTTP_ROUTE = {"type": "http", "auth": "bus_mobile", "cors": "*"}


def _upload_max_bytes():
    return request.env["ir.config_parameter"]._bus_mobile_settings()["discuss_upload_max_bytes"]


def _form_id(value, name):
    """A form field's id (decimal digits), checked as every id is."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    return check_id(request.env, value, name)


def _filename(value):
    name = check_text(request.env, value, "filename", MAX_FILENAME_CHARS, required=True)
    if not name.strip() or "/" in name or "\\" in name:
        raise ValidationError(
            request.env._(
                "The file name must be 1 to %s characters, without '/' or '\\'.",
                MAX_FILENAME_CHARS,
            )
        )
    return name


class BusMobileDiscussAttachmentController(Controller):
    """Attachments of Discuss conversations for apps (doc/discuss.md,
    "Attachments"): multipart upload and downloads with the bearer header,
    members only; ``bus_mobile.discuss`` finds the attachment, Odoo's
    ``ir.binary`` streams it, as mail's own routes do."""

    @route(
        PREFIX + "attachment/upload",
        **HTTP_ROUTE,
        methods=["POST"],
        # A bearer token cannot come from another site; a cookie alone can:
        # checked in the route (_check_csrf).
        csrf=False,
        max_content_length=lambda _controller: _upload_max_bytes() + MULTIPART_OVERHEAD_BYTES,
    )
    def attachment_upload(self, channel_id=None, ufile=None, csrf_token=None, **unknown):
        discuss = _discuss()
        self._check_csrf(csrf_token)
        if unknown:
            names = ", ".join(sorted(excerpt(name, 40) for name in unknown)[:5])
            raise ValidationError(request.env._("Unknown field(s) for the upload: %s.", names))
        channel_id = _form_id(channel_id, "channel_id")
        if not isinstance(ufile, FileStorage):
            raise ValidationError(request.env._("ufile must be the uploaded file (multipart)."))
        filename = _filename(ufile.filename)
        max_bytes = _upload_max_bytes()
        content = ufile.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise RequestEntityTooLarge(
                request.env._("The file is larger than %s bytes.", max_bytes)
            )
        attachment = discuss._bus_mobile_upload(channel_id, filename, content)
        return request.make_json_response({"attachment": attachment})

    def _check_csrf(self, csrf_token):
        if request.bus_mobile_bearer is None and not request.validate_csrf(csrf_token):
            raise AccessError(
                request.env._(
                    "An upload signed in by a session cookie needs Odoo's csrf_token; "
                    "apps send their bearer token instead."
                )
            )

    @route(
        PREFIX + "channel/<int:channel_id>/attachment/<int:attachment_id>",
        **HTTP_ROUTE,
        methods=["GET"],
        readonly=True,
    )
    def attachment_download(self, channel_id, attachment_id, download=None, **_cache_busters):
        attachment = _discuss()._bus_mobile_attachment(
            check_id(request.env, channel_id, "channel_id"),
            check_id(request.env, attachment_id, "attachment_id"),
        )
        stream = request.env["ir.binary"]._get_stream_from(attachment)
        return stream.get_response(as_attachment=str(download or "").lower() not in FALSE_VALUES)

    @route(
        [
            PREFIX + "channel/<int:channel_id>/image/<int:attachment_id>",
            PREFIX + "channel/<int:channel_id>/image/<int:attachment_id>/<int:width>x<int:height>",
        ],
        **HTTP_ROUTE,
        methods=["GET"],
        readonly=True,
    )
    def attachment_image(self, channel_id, attachment_id, width=0, height=0, **_cache_busters):
        if not (0 <= width <= MAX_IMAGE_SIDE and 0 <= height <= MAX_IMAGE_SIDE):
            raise ValidationError(
                request.env._("Width and height are 0 to %s pixels.", MAX_IMAGE_SIDE)
            )
        attachment = _discuss()._bus_mobile_attachment(
            check_id(request.env, channel_id, "channel_id"),
            check_id(request.env, attachment_id, "attachment_id"),
        )
        stream = request.env["ir.binary"]._get_image_stream_from(
            attachment, width=width, height=height
        )
        return stream.get_response()
