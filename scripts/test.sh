#!/usr/bin/env bash
# The README's test command. It installs what the tests need (Prometheus,
# Alertmanager and PostgreSQL with apt-get as root on Debian; staticcheck
# and Toxiproxy with go install), then runs every test: vet, staticcheck, a
# build for darwin and windows, unit, contract, integration and
# fault-injection tests with the race detector, and each fuzz target for
# FUZZTIME (default 5s) from its seed corpus.
#
# Integration tests start real Prometheus, Alertmanager, PostgreSQL and
# Toxiproxy processes on free loopback ports. With CI=true a missing server
# fails.
set -euo pipefail
cd "$(dirname "$0")/.."

STATICCHECK_VERSION=v0.8.2
TOXIPROXY_VERSION=v2.12.0
FUZZTIME=${FUZZTIME:-5s}

missing=()
for bin in prometheus promtool prometheus-alertmanager tmux; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
# Debian keeps PostgreSQL's server programs off PATH, in
# /usr/lib/postgresql/VERSION/bin; the tests look there too.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(initdb)
fi
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing prometheus, prometheus-alertmanager, postgresql and tmux with apt-get (missing: ${missing[*]})"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager postgresql tmux >/dev/null
  else
    cat >&2 <<MSG
test.sh: missing ${missing[*]}.
  The integration tests run real Prometheus, Alertmanager and PostgreSQL
  servers, and the cockpit's end-to-end test drives it in tmux.
  On Debian or Ubuntu: sudo apt-get install prometheus prometheus-alertmanager postgresql tmux
  Elsewhere: put prometheus, promtool, an alertmanager binary named
  prometheus-alertmanager, PostgreSQL's initdb and pg_ctl, and tmux on
  PATH. Without them those tests are skipped (and fail when CI=true).
MSG
    [ "${CI:-}" = true ] && exit 1
  fi
fi

if ! command -v go >/dev/null 2>&1; then
  echo "test.sh: go is not on PATH; install Go 1.26 or newer from https://go.dev/dl/" >&2
  exit 1
fi
gobin=$(go env GOPATH)/bin
export PATH="$gobin:$PATH"
if [ ! -x "$gobin/staticcheck" ]; then
  echo "test.sh: installing staticcheck $STATICCHECK_VERSION with go install"
  go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
# Toxiproxy's command is named "server"; it is installed under a clear name.
if ! command -v toxiproxy-server >/dev/null 2>&1; then
  echo "test.sh: installing toxiproxy-server $TOXIPROXY_VERSION with go install"
  tmp=$(mktemp -d)
  GOBIN="$tmp" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION"
  mv "$tmp/server" "$gobin/toxiproxy-server"
  rmdir "$tmp"
fi

echo "== go vet"
go vet ./...
echo "== staticcheck"
staticcheck ./...
# The Unix-only parts (process groups, flock) have a fallback elsewhere;
# building for two other systems keeps them from going missing.
echo "== go build for darwin and windows"
GOOS=darwin go build ./... && GOOS=windows go build ./...
echo "== go test (race detector on)"
# cmd/oncall and remediate take about 7 minutes each under the race
# detector on 2 cores; a busy machine must not turn that into go test's
# default 10-minute timeout. A test that hangs still fails, at 20.
go test -race -count=1 -timeout 20m $(go list ./... | grep -v /internal/evaltest)
# The evaluation against the simulator's truth simulates hours of a fleet
# per seed; the race detector makes that ten times slower and finds
# nothing there that the packages' own tests under it do not.
echo "== go test internal/evaltest (grading against the simulator's truth)"
go test -count=1 ./internal/evaltest

echo "== fuzz, $FUZZTIME per target"
grep -rlE --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u | while read -r dir; do
  for target in $(grep -hoE '^func Fuzz[A-Za-z0-9_]+' "$dir"/*_test.go | cut -d' ' -f2); do
    # Minimising a newly interesting input may take up to a minute by
    # default and outlast a short -fuzztime; the engine then stops with
    # "context deadline exceeded". Minimisation is capped at 1s, and that
    # engine timeout is retried once; a crasher ("Failing input written
    # to") never is.
    ok=0
    for attempt in 1 2; do
      if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime=1s "$dir" >/tmp/oncall-fuzz.log 2>&1; then
        ok=1; break
      fi
      if grep -q 'Failing input written' /tmp/oncall-fuzz.log || ! grep -q 'context deadline exceeded' /tmp/oncall-fuzz.log; then
        break
      fi
      echo "test.sh: $target: the fuzzing engine timed out (not a finding); retrying once"
    done
    if [ "$ok" != 1 ]; then
      cat /tmp/oncall-fuzz.log; echo "fuzz target $target in $dir failed" >&2; exit 1
    fi
    echo "ok   $dir $target"
  done
done
echo "test.sh: all tests passed"
