import json

from odoo.http import Controller, request, route

from ..metrics import scrape


class BusMobileMetricsController(Controller):
    """Operations: Prometheus metrics of this node and a health probe
    (``metrics/scrape.py`` says how each finds its database and who may
    scrape). ``auth='none'``: scrapes carry a bearer token, probes nothing;
    loaded server-wide, both answer without a database too."""

    @route("/bus_mobile/metrics", type="http", auth="none", methods=["GET"], save_session=False)
    def metrics(self, db=None):
        try:
            status, headers, body = scrape.exposition(request, db)
        except scrape.Refused as refusal:
            status, headers, body = refusal.status, refusal.headers, str(refusal)
            headers = {**headers, "Content-Type": "text/plain; charset=utf-8"}
        return request.make_response(body, list(headers.items()), status=status)

    @route("/bus_mobile/health", type="http", auth="none", methods=["GET"], save_session=False)
    def health(self, db=None):
        status, facts = scrape.health(request, db)
        headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
        return request.make_response(json.dumps(facts), headers, status=status)
