#!/usr/bin/env bash
# Installs the Temporal Java time-skipping test server (io.temporal:temporal-test-server, see
# temporal-dev/test-server/pom.xml) from Maven Central into the git-ignored temporal-dev/.java/ and writes an
# executable wrapper, temporal-dev/.java/temporal-test-server <port>, usable as
#   TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } })
#
# Prints on stdout ONLY the wrapper's absolute path. Idempotent: reuses the install while pom.xml, this
# script and the JVM are unchanged.
#
# Start-up time matters: the TypeScript SDK gives the server only ~5 s (50 x 100 ms connect attempts, hard-coded in
# sdk-core) to answer. Besides C1-only JIT and SerialGC, the wrapper uses an AppCDS archive (class-data sharing)
# generated here from the classes the server loads at start-up, which cuts the JVM start roughly in half.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
POM="$SCRIPT_DIR/test-server/pom.xml"
JAVA_DIR="$SCRIPT_DIR/.java"
LIB_DIR="$JAVA_DIR/lib"
CDS_ARCHIVE="$JAVA_DIR/test-server.jsa"
WRAPPER="$JAVA_DIR/temporal-test-server"
STAMP="$JAVA_DIR/.install-stamp"
MAIN_CLASS="io.temporal.testserver.TestServer"
# Fast-start JVM flags (the server is short-lived and light: C1 only, serial GC, no perf-data file).
JVM_FLAGS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData -Dorg.slf4j.simpleLogger.defaultLogLevel=warn"

log() { printf '%s\n' "$*" >&2; }
die() { printf 'ensure-test-server: %s\n' "$*" >&2; exit 1; }

# --- locate java (baked into the wrapper as an absolute path so the CDS archive always matches its JVM) ---
if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
  JAVA="${JAVA_HOME}/bin/java"
elif command -v java >/dev/null 2>&1; then
  JAVA="$(command -v java)"
else
  die "java is not installed: install a JDK/JRE 11+ (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
fi
JAVA="$(readlink -f "$JAVA")"

hash_of() { sha256sum | cut -c1-64; }
want_stamp="$( { cat "$POM"; cat "${BASH_SOURCE[0]}"; printf '%s\n' "$JAVA"; "$JAVA" -version 2>&1; } | hash_of)"

is_installed() {
  [[ -x "$WRAPPER" && -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]] \
    && compgen -G "$LIB_DIR/temporal-test-server-*.jar" >/dev/null
}

if is_installed; then
  printf '%s\n' "$WRAPPER"
  exit 0
fi

mkdir -p "$JAVA_DIR"
# Serialise concurrent installs (e.g. two test runs started at once).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$JAVA_DIR/.install.lock"
  flock 9
  if is_installed; then
    printf '%s\n' "$WRAPPER"
    exit 0
  fi
fi

command -v mvn >/dev/null 2>&1 \
  || die "mvn (Apache Maven) is not installed: it is needed once to fetch the test server from Maven Central (e.g. apt-get install maven)"

start=$SECONDS
log "Installing the Temporal time-skipping test server from Maven Central into $JAVA_DIR (first run only)…"
rm -f "$STAMP"
tmp_lib="$JAVA_DIR/lib.tmp.$$"
rm -rf "$tmp_lib"
# (sed: Maven 3.8's jansi emits colour-reset codes even in batch mode)
if mvn -q -B -Dstyle.color=never -f "$POM" \
     dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp_lib" 2>&1 \
     | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' >&2; then
  mvn_status=0
else
  mvn_status=$? # pipefail: mvn's status
fi
if [[ "$mvn_status" != 0 ]]; then
  rm -rf "$tmp_lib"
  die "mvn dependency:copy-dependencies failed (see the output above)"
fi
compgen -G "$tmp_lib/temporal-test-server-*.jar" >/dev/null || die "Maven did not produce temporal-test-server-*.jar"
rm -rf "$LIB_DIR"
mv "$tmp_lib" "$LIB_DIR"

# Explicit, sorted class path (rather than lib/*): CDS requires the exact same class path at dump and run time.
CLASSPATH_LIST="$(find "$LIB_DIR" -maxdepth 1 -name '*.jar' | LC_ALL=C sort | paste -sd: -)"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    port_in_use "$p" || { printf '%s\n' "$p"; return 0; }
  done
  return 1
}

# --- AppCDS archive: record the classes loaded while the server starts, then dump a static archive ---
generate_cds() {
  local classlist="$JAVA_DIR/test-server.classlist" port pid i
  rm -f "$CDS_ARCHIVE" "$classlist"
  port="$(pick_port)" || return 1
  # shellcheck disable=SC2086
  "$JAVA" $JVM_FLAGS -Xshare:off -XX:DumpLoadedClassList="$classlist" -cp "$CLASSPATH_LIST" "$MAIN_CLASS" "$port" \
    >/dev/null 2>&1 &
  pid=$!
  for i in $(seq 1 300); do
    port_in_use "$port" && break
    kill -0 "$pid" 2>/dev/null || { wait "$pid" || true; return 1; }
    sleep 0.1
  done
  sleep 1 # let the last start-up classes load
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [[ -s "$classlist" ]] || return 1
  # shellcheck disable=SC2086
  "$JAVA" -Xshare:dump -XX:SharedClassListFile="$classlist" -XX:SharedArchiveFile="$CDS_ARCHIVE" \
    -cp "$CLASSPATH_LIST" -Xlog:cds=off -Xlog:cds+dynamic=off >/dev/null 2>&1 || return 1
  rm -f "$classlist"
  # The archive must be accepted by the JVM (-Xshare:on fails hard if it is not).
  "$JAVA" -XX:SharedArchiveFile="$CDS_ARCHIVE" -Xshare:on -cp "$CLASSPATH_LIST" -version >/dev/null 2>&1
}

CDS_FLAG=""
if [[ "${TEMPORAL_TEST_SERVER_NO_CDS:-}" != "1" ]]; then
  if generate_cds; then
    CDS_FLAG="-XX:SharedArchiveFile=$CDS_ARCHIVE"
  else
    rm -f "$CDS_ARCHIVE"
    log "warning: could not create the class-data sharing archive; the test server will start more slowly."
  fi
fi

tmp_wrapper="$WRAPPER.tmp.$$"
cat >"$tmp_wrapper" <<EOF
#!/bin/sh
# Generated by temporal-dev/ensure-test-server.sh; do not edit (re-run that script instead).
# Usage: temporal-test-server <port> [server args...]
# exec: the SDK stops the server by killing this process, so the JVM must BE this process.
# Extra JVM options: TEMPORAL_TEST_SERVER_JAVA_OPTS.
exec '$JAVA' $JVM_FLAGS -Xshare:auto $CDS_FLAG \${TEMPORAL_TEST_SERVER_JAVA_OPTS:-} \\
  -cp '$CLASSPATH_LIST' \\
  $MAIN_CLASS "\$@"
EOF
chmod +x "$tmp_wrapper"
mv "$tmp_wrapper" "$WRAPPER"
printf '%s\n' "$want_stamp" >"$STAMP"

log "Temporal test server installed in $((SECONDS - start))s${CDS_FLAG:+ (with CDS archive)}: $WRAPPER"
printf '%s\n' "$WRAPPER"
