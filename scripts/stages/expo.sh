# Stage part: the Expo example app (examples/expo-chat) built by the React
# Native toolchain apps use, and its web build driven against the live
# server. SOURCED by scripts/stages/live.sh for the mail flavor, after
# js.sh, while the servers run: it uses LIVE_PORT, LIVE_DB and digest_line,
# and sets status=1 on any failure.
#   - npm ci in the example (its lock holds third-party packages only; npm's
#     cache makes a repeat run cheap), then the client packed from
#     static/client now and installed with --no-save: a lock pinning the
#     tarball would let npm ci reuse an older cached copy of the same
#     version. The installed files must be the fresh tarball's;
#   - tsc --noEmit (the app against the package's .d.ts);
#   - the package's own files through npm's Hermes compiler
#     (tests/expo/hermes-check.cjs);
#   - expo export --platform web, and --platform android (Metro, Babel and
#     the Hermes compiler, as a release build): any error, or a missing
#     bundle, fails;
#   - the web export served from another origin than Odoo, in headless
#     Chromium (tests/js/expo-web.test.js).
# BUS_MOBILE_EXPO=0 leaves it out; BUS_MOBILE_EXPO_NPM_TIMEOUT_S (600) bounds each
# npm ci. Reports: $RUN_DIR/expo-report.txt,
# expo-*.out (step output; *.log names server logs only), expo-web.tap
# (its tests: scripts/expected/expo-web.txt), expo-web-*.png.

# An npm ci that takes this long hangs (it takes under a minute from npm's cache).
EXPO_NPM_TIMEOUT_S=${BUS_MOBILE_EXPO_NPM_TIMEOUT_S:-600}

expo_fail() {
  log "Expo example: $*"
  digest_line "Expo example: $*"
  status=1
}

# expo_step NAME LOG COMMAND...: run in the example's folder, timed; the
# log's tail on failure. EXPO_TRIES=2: a failed first try is run again.
expo_step() {
  local name=$1 logfile=$2 start try tries=${EXPO_TRIES:-1}; shift 2
  start=$(date +%s)
  for ((try = 1; try <= tries; try++)); do
    if (cd "$EXPO_APP" && "$@") > "$logfile" 2>&1; then
      echo "$name: $(( $(date +%s) - start )) s$([ "$try" = 1 ] || echo " (try $try)")" >> "$EXPO_REPORT"
      return 0
    fi
    if [ "$try" -lt "$tries" ]; then
      tail -5 "$logfile" >&2
      log "Expo example: $name failed or timed out (try $try of $tries), once more"
    fi
  done
  tail -40 "$logfile" >&2
  expo_fail "$name failed (log: $logfile)"
  return 1
}

# expo_export PLATFORM: the export, failing on any error line or missing bundle.
expo_export() {
  local platform=$1 out=$RUN_DIR/expo-$1 logfile=$RUN_DIR/expo-export-$1.out bundle
  rm -rf "$out"
  expo_step "expo export --platform $platform" "$logfile" \
    env CI=1 npx expo export --platform "$platform" --output-dir "$out" || return 1
  if grep -n -i -E "error|failed" "$logfile" >&2; then
    expo_fail "expo export --platform $platform logged errors (above; log: $logfile)"; return 1
  fi
  case $platform in
    web) bundle=$(find "$out/_expo/static/js/web" -name '*.js' 2>/dev/null | head -1)
         [ -f "$out/index.html" ] || { expo_fail "the web export has no index.html"; return 1; } ;;
    android) bundle=$(find "$out/_expo/static/js/android" -name '*.hbc' 2>/dev/null | head -1) ;;
  esac
  [ -n "$bundle" ] && [ -s "$bundle" ] || { expo_fail "no $platform bundle in $out"; return 1; }
  if [ "$platform" = android ] && [ "$(head -c 8 "$bundle" | od -An -tx1 | tr -d ' \n')" != c61fbc03c103191f ]; then
    expo_fail "the android bundle is not Hermes bytecode: $bundle"; return 1
  fi
  echo "$platform bundle: ${bundle#"$out/"} ($(stat -c %s "$bundle") bytes)" >> "$EXPO_REPORT"
}

expo_stage() {
  EXPO_APP=$ROOT/examples/expo-chat EXPO_REPORT=$RUN_DIR/expo-report.txt
  local pack=$RUN_DIR/expo-pack tarball
  : > "$EXPO_REPORT"
  need_debian node nodejs && need_debian npm npm || { expo_fail "node and npm are needed"; return; }
  need_chromium || { expo_fail "Chromium is needed"; return; }
  log "Expo example: npm ci, the client's fresh tarball, tsc, Hermes, exports (web, android), the web build in Chromium"

  # npm ci now and then hangs for good, idle, no connection open (seen here
  # once for 15 min; npm/cli#4028): bounded, and tried twice.
  EXPO_TRIES=2 expo_step "npm ci" "$RUN_DIR/expo-npm-ci.out" \
    timeout -k 10 "$EXPO_NPM_TIMEOUT_S" npm ci --no-audit --no-fund --prefer-offline || return
  rm -rf "$pack"; mkdir -p "$pack/unpacked"
  tarball=$(cd "$ROOT/static/client" && npm pack --silent --pack-destination "$pack" | tail -1)
  [ -f "$pack/$tarball" ] || { expo_fail "npm pack static/client gave no tarball"; return; }
  expo_step "npm install --no-save $tarball" "$RUN_DIR/expo-npm-client.out" \
    npm install --no-save --no-audit --no-fund "$pack/$tarball" || return
  # The installed package must be this tarball, file for file.
  tar -xzf "$pack/$tarball" -C "$pack/unpacked"
  if ! diff -r "$pack/unpacked/package" "$EXPO_APP/node_modules/odoo-bus-mobile" >&2; then
    expo_fail "node_modules/odoo-bus-mobile is not the freshly packed client (diff above)"; return
  fi
  if git -C "$ROOT" ls-files --error-unmatch examples/expo-chat/node_modules >/dev/null 2>&1; then
    expo_fail "examples/expo-chat/node_modules is committed"
  fi

  expo_step "tsc --noEmit" "$RUN_DIR/expo-tsc.out" npx tsc --noEmit || true
  expo_step "Hermes compiler over static/client" "$RUN_DIR/expo-hermes-client.out" \
    node "$ROOT/tests/expo/hermes-check.cjs" "$EXPO_APP/node_modules" "$ROOT/static/client" "$pack/hermes" \
    && tail -1 "$RUN_DIR/expo-hermes-client.out" >> "$EXPO_REPORT"
  expo_export web || true
  expo_export android || true

  if [ ! -d "$ROOT/tests/js/node_modules/puppeteer-core" ]; then
    EXPO_TRIES=2 expo_step "npm ci (tests/js)" "$RUN_DIR/expo-npm-ci-tests.out" \
      bash -c "cd '$ROOT/tests/js' && timeout -k 10 $EXPO_NPM_TIMEOUT_S npm ci --no-audit --no-fund --prefer-offline" || return
  fi
  BUS_MOBILE_URL=http://127.0.0.1:$LIVE_PORT BUS_MOBILE_DB=$LIVE_DB \
    BUS_MOBILE_ADMIN_LOGIN=admin BUS_MOBILE_ADMIN_PASSWORD=admin BUS_MOBILE_RUN_DIR=$RUN_DIR \
    BUS_MOBILE_EXPO_WEB_DIR=$RUN_DIR/expo-web BUS_MOBILE_CHROMIUM=$CHROMIUM \
    expo_step "the web export in Chromium" "$RUN_DIR/expo-web-test.out" \
    node --preserve-symlinks --test --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$RUN_DIR/expo-web.tap" \
      "$ROOT/tests/js/expo-web.test.js" \
    && { grep -E "^ℹ (tests|pass|fail)" "$RUN_DIR/expo-web-test.out" >&2 || true; }
  expect_tests expo-web tap "$RUN_DIR/expo-web.tap" || expo_fail "the web test's tests are not scripts/expected/expo-web.txt"
  ls "$RUN_DIR"/expo-web-*.png >> "$EXPO_REPORT" 2>/dev/null || true
  sed 's/^/[bus_mobile] Expo example: /' "$EXPO_REPORT" >&2
}

if [ "${BUS_MOBILE_EXPO:-}" = 0 ]; then
  narrowed "the Expo example's exports and web test (BUS_MOBILE_EXPO=0)"
else
  expo_started=$(date +%s)
  # Its failures set status (expo_fail): a step that stops it early must not
  # end the whole run here (set -e), before the servers' logs are checked.
  expo_stage || true
  # What the example adds to `make test` (the lead keeps the whole under 30 min).
  log "Expo example: $(( $(date +%s) - expo_started )) s in all"
fi
