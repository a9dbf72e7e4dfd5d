"""Attachments of Discuss conversations for apps (doc/discuss.md,
"Attachments"): multipart upload with the bearer header, downloads and
thumbnails, CORS, limits and bad files. Only on the database with mail."""

import base64
import io

from PIL import Image

from odoo.tests import tagged

from .discuss_common import PREFIX, DiscussCase

UPLOAD = PREFIX + "attachment/upload"


def png(width=64, height=48):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@tagged("post_install", "-at_install")
class TestDiscussAttachments(DiscussCase):
    def upload(self, user, content=b"hello", filename="note.txt", channel=None, **kw):
        data = kw.pop("data", {"channel_id": str((channel or self.team).id)})
        files = kw.pop("files", {"ufile": (filename, content, "application/octet-stream")})
        token = kw.pop("token", self.key(user) if user else None)
        return self.http("POST", UPLOAD, token=token, data=data, files=files, **kw)

    def attachment_count(self):
        self.env.flush_all()
        self.env.cr.execute("SELECT count(*) FROM ir_attachment")
        return self.env.cr.fetchone()[0]

    def test_upload_post_download_and_thumbnail(self):
        image = png()
        response = self.upload(self.alice, image, "photo.png")
        self.assertEqual(response.status_code, 200, response.text)
        uploaded = response.json()["attachment"]
        self.assertEqual(
            (uploaded["name"], uploaded["mimetype"], uploaded["size"], uploaded["url"]),
            ("photo.png", "image/png", len(image), None),
        )
        posted = self.post(
            self.alice, self.team, "look", "photo-1", attachment_ids=[uploaded["id"]]
        )
        [attachment] = posted["attachments"]
        base = f"{PREFIX}channel/{self.team.id}"
        self.assertEqual(attachment["url"], f"{base}/attachment/{uploaded['id']}")
        self.assertEqual(attachment["image_url"], f"{base}/image/{uploaded['id']}")
        record = self.env["ir.attachment"].browse(uploaded["id"])
        self.assertEqual((record.res_model, record.res_id), ("discuss.channel", self.team.id))
        # The web user sees it on the message, as mail's own uploads.
        self.assertEqual(self.env["mail.message"].browse(posted["id"]).attachment_ids, record)

        download = self.http("GET", attachment["url"], token=self.key(self.bob))
        self.assertEqual(download.status_code, 200)
        self.assertEqual(download.content, image)
        self.assertEqual(download.headers["Access-Control-Allow-Origin"], "*")
        as_file = self.http("GET", attachment["url"] + "?download=1", token=self.key(self.bob))
        self.assertIn("attachment", as_file.headers["Content-Disposition"])
        thumbnail = self.http("GET", attachment["image_url"] + "/16x12", token=self.key(self.paula))
        self.assertEqual(thumbnail.status_code, 200, thumbnail.text[:300])
        self.assertEqual(Image.open(io.BytesIO(thumbnail.content)).size, (16, 12))

    def test_cors_preflight_allows_the_authorization_header(self):
        url = f"{PREFIX}channel/{self.team.id}/attachment/1"
        for path in (url, UPLOAD):
            with self.subTest(path=path):
                response = self.http(
                    "OPTIONS",
                    path,
                    headers={
                        "Origin": "https://app.example.com",
                        "Access-Control-Request-Method": "GET",
                        "Access-Control-Request-Headers": "authorization",
                    },
                )
                self.assertEqual(response.status_code, 204)
                self.assertEqual(response.headers["Access-Control-Allow-Origin"], "*")
                self.assertIn("Authorization", response.headers["Access-Control-Allow-Headers"])

    def test_a_cookie_alone_needs_odoos_csrf_token(self):
        cookie = self.session_cookie("dr_alice")
        before = self.attachment_count()
        refused = self.upload(None, headers={"Cookie": cookie})
        self.assert_json_error(refused, 403, "AccessError", "csrf_token")
        self.assertEqual(self.attachment_count(), before)
        # With the form's CSRF token, as the web client sends it.
        sid = cookie.split("=", 1)[1]
        from odoo import http

        session = http.root.session_store.get(sid)
        token = self.csrf_token_of(session)
        accepted = self.upload(
            None,
            headers={"Cookie": cookie},
            data={"channel_id": str(self.team.id), "csrf_token": token},
        )
        self.assertEqual(accepted.status_code, 200, accepted.text)

    def csrf_token_of(self, session):
        """The CSRF token Odoo would put in a form of ``session``."""
        from odoo.http import Request

        fake = Request.__new__(Request)
        fake.session = session
        fake.db = self.env.cr.dbname
        fake.env = self.env
        return Request.csrf_token(fake)

    def test_size_limit(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "bus_mobile.discuss_upload_max_bytes", "1000"
        )
        before = self.attachment_count()
        self.assertEqual(self.upload(self.alice, b"x" * 1000).status_code, 200)
        self.assert_json_error(
            self.upload(self.alice, b"x" * 1001), 413, "werkzeug.exceptions.RequestEntityTooLarge"
        )
        # Far over: refused from its Content-Length, before the body is read.
        self.assert_json_error(
            self.upload(self.alice, b"x" * 200_000),
            413,
            "werkzeug.exceptions.RequestEntityTooLarge",
        )
        self.assertEqual(self.attachment_count(), before + 1)

    def test_bad_files_and_fields(self):
        before = self.attachment_count()
        cases = [
            ({"files": {"ufile": ("a/b.txt", b"x", "text/plain")}}, "file name"),
            ({"files": {"ufile": ("x" * 256, b"x", "text/plain")}}, "filename"),
            ({"files": {"ufile": (" ", b"x", "text/plain")}}, "file name"),
            ({"files": {"other": ("a.txt", b"x", "text/plain")}}, "Unknown field"),
            ({"files": {}, "data": {"channel_id": str(self.team.id), "ufile": "text"}}, "ufile"),
            ({"data": {"channel_id": "abc"}}, "channel_id"),
            ({"data": {"channel_id": "-1"}}, "channel_id"),
            ({"data": {"channel_id": "99999999999"}}, "channel_id"),
            ({"data": {}}, "channel_id"),
            ({"data": {"channel_id": str(self.team.id), "extra": "1"}}, "Unknown field"),
        ]
        for kw, part in cases:
            with self.subTest(kw=repr(kw)[:80]):
                self.assert_json_error(self.upload(self.alice, **kw), 400, "ValidationError", part)
        # Raw file names: a NUL byte; a lone surrogate (its UTF-8-like bytes,
        # or RFC 2231's percent-encoding of them) and invalid UTF-8, for
        # which werkzeug drops the whole form: no channel_id then.
        for disposition, part in (
            (b'filename="a\x00b.txt"', "filename contains a character that cannot be stored"),
            (b'filename="a\xed\xa0\x80.txt"', "channel_id"),
            (b"filename*=UTF-8''a%ED%A0%80.txt", "channel_id"),
            (b'filename="a\xff.txt"', "channel_id"),
        ):
            with self.subTest(disposition=disposition):
                self.assert_json_error(self.raw_upload(disposition), 400, "ValidationError", part)
        self.assertEqual(self.attachment_count(), before)

    def raw_upload(self, disposition):
        body = (
            b'--b\r\nContent-Disposition: form-data; name="channel_id"\r\n\r\n%d\r\n'
            b'--b\r\nContent-Disposition: form-data; name="ufile"; %s\r\n'
            b"Content-Type: text/plain\r\n\r\nx\r\n--b--\r\n" % (self.team.id, disposition)
        )
        return self.http(
            "POST",
            UPLOAD,
            token=self.key(self.alice),
            data=body,
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )

    def test_downloads_refuse_bad_ids_and_no_credentials(self):
        base = f"{PREFIX}channel/{self.team.id}"
        self.assert_json_error(
            self.http("GET", f"{base}/attachment/1"), 401, "odoo.http.SessionExpiredException"
        )
        token = self.key(self.alice)
        self.assert_json_error(
            self.http("GET", f"{base}/attachment/99999999999", token=token), 400, "ValidationError"
        )
        self.assert_json_error(
            self.http("GET", f"{base}/attachment/-1", token=token), 400, "ValidationError"
        )
        self.assert_json_error(
            self.http("GET", f"{base}/attachment/abc", token=token),
            404,
            "werkzeug.exceptions.NotFound",
        )
        self.assert_json_error(
            self.http("GET", f"{base}/image/1/99999x1", token=token), 400, "ValidationError"
        )
        self.assert_json_error(
            self.http("GET", f"{base}/attachment/{2**31 - 1}", token=token), 404, "MissingError"
        )
        self.assert_json_error(
            self.http("GET", f"{base}/attachment/1", headers={"Authorization": "Bearer nope"}),
            401,
            "odoo.addons.bus_mobile.tools.bearer.BearerTokenError",
        )

    def test_portal_uploads_only_where_mail_allows(self):
        self.assert_json_error(self.upload(self.paula), 403, "AccessError", "not allowed to upload")
        self.team.allow_public_upload = True
        uploaded = self.upload(self.paula).json()["attachment"]
        posted = self.post(self.paula, self.team, "", "portal-att", attachment_ids=[uploaded["id"]])
        self.assertEqual(posted["attachments"][0]["id"], uploaded["id"])
        record = self.env["ir.attachment"].sudo().browse(uploaded["id"])
        self.assertTrue(record.access_token)  # as mail's upload for share users
        self.assertEqual(base64.b64decode(record.datas), b"hello")
