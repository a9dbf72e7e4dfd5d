# The two commands (see README.rst): `make serve` and `make test`.
.PHONY: serve test bench lint

serve:
	bash tools/serve.sh

test:
	bash tools/test.sh

bench:
	bash tools/bench.sh
