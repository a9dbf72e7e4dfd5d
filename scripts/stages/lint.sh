# stage: background
# Stage: the lint, the same script as `make lint` (scripts/lint.sh).
bash "$ROOT/scripts/lint.sh" || status=1
