# The two commands (see README.rst): `make serve` and `make test`.
.PHONY: serve test bench lint

serve:
	bash scripts/serve.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh
