# stage: background
# Stage: what a newcomer or a packager meets first.
#   - a fresh machine: find_odoo without any Odoo 18 (scripts/test_fresh_machine.sh);
#   - the test command itself: .ci/run clears narrowing variables, and the
#     Docker path (scripts/docker-test.sh) runs scripts/test.sh with the same
#     rules on a stand-in for the odoo:18 image (scripts/test_runner.sh);
#   - the addon's wheel: `pip wheel .` (whool) in a directory named
#     bus_mobile holding the checkout's tracked files;
#   - i18n/bus_mobile.pot is what Odoo exports today (`make pot` rewrites it).
log "fresh machine: find_odoo without Odoo 18"
bash "$ROOT/scripts/test_fresh_machine.sh" > "$RUN_DIR/fresh-machine.txt" 2>&1 \
  || { cat "$RUN_DIR/fresh-machine.txt" >&2; status=1; }
tail -1 "$RUN_DIR/fresh-machine.txt"

log "the test command: .ci/run, stage names, the Docker path"
VENV=$VENV ODOO_HOME=$ODOO_HOME bash "$ROOT/scripts/test_runner.sh" > "$RUN_DIR/test-runner.txt" 2>&1 \
  || { cat "$RUN_DIR/test-runner.txt" >&2; status=1; }
tail -1 "$RUN_DIR/test-runner.txt"

log "addon wheel: pip wheel . (whool)"
pkg=$(mktemp -d)
copy_tracked "$pkg/bus_mobile"
if (cd "$pkg/bus_mobile" && "$VENV/bin/pip" wheel -q --no-build-isolation --no-deps -w "$pkg/dist" .); then
  "$PY" - "$pkg/dist" <<'PYEOF' || status=1
import pathlib, sys, zipfile
wheels = list(pathlib.Path(sys.argv[1]).glob("*.whl"))
names = [w.name for w in wheels]
assert len(wheels) == 1 and names[0].startswith("odoo_addon_bus_mobile-18.0."), names
files = zipfile.ZipFile(wheels[0]).namelist()
for needed in ("__manifest__.py", "i18n/bus_mobile.pot", "LICENSE", "README.rst"):
    assert f"odoo/addons/bus_mobile/{needed}" in files, (needed, files)
assert not [f for f in files if "/.run/" in f], "the wheel holds .run/"
assert not [f for f in files if "/node_modules/" in f], "the wheel holds node_modules/"
metadata = zipfile.ZipFile(wheels[0]).read(
    next(f for f in files if f.endswith(".dist-info/METADATA"))
).decode()
assert "Requires-Dist: google-auth" in metadata, "external_dependencies not in the wheel"
print(f"wheel OK: {names[0]}, {len(files)} files")
PYEOF
else
  log "pip wheel failed"; status=1
fi
rm -rf "$pkg"

log "i18n/bus_mobile.pot is up to date"
POT_DB=bus_mobile_pot POT_CONF=$RUN_DIR/pot.conf
unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$POT_DB" "$POT_CONF"; unset HTTP_PORT GEVENT_PORT
db_copy bus "$POT_DB" "$POT_CONF"
export_pot "$POT_CONF" "$POT_DB" "$RUN_DIR/bus_mobile.pot" || status=1
dates='^"(POT-Creation-Date|PO-Revision-Date): '
if ! diff <(grep -v -E "$dates" "$ROOT/i18n/bus_mobile.pot") \
          <(grep -v -E "$dates" "$RUN_DIR/bus_mobile.pot") >&2; then
  log "i18n/bus_mobile.pot differs from Odoo's export (above): run make pot"; status=1
fi
