# The two commands (see README.rst): `make serve` and `make test`.
# `make lint` is part of `make test`; `make readme` writes README.rst from
# readme/*.md; `make pot` exports i18n/bus_mobile.pot with Odoo.
.PHONY: serve test bench bench-push lint readme pot

serve:
	bash scripts/serve.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh

# Push notifications alone (also run at the end of `make bench`).
bench-push:
	bash scripts/bench_push.sh

lint:
	bash scripts/lint.sh

readme:
	bash scripts/readme.sh

pot:
	bash scripts/pot.sh
