#!/bin/sh
# Starts the trial fleet's own Loki 3, Tempo 3 and Prometheus with data
# under /tmp/trial-stack (docs/trial-fleet.md). Loki and Tempo are the
# binaries ../shared/REAL-STACK.md builds; pids go to /tmp/trial-stack/*/pid.
#   Loki :53100, Tempo :53200 (OTLP HTTP :54318), Prometheus :59090,
#   which scrapes the fleet's /metrics on :59464 every 5 s.
set -e
here=$(cd "$(dirname "$0")" && pwd)
bin=${REALSTACK_BIN:-/work/realstack/bin}
D=/tmp/trial-stack
mkdir -p $D/loki/data $D/tempo/data $D/prom/data
cp "$here/loki.yaml" $D/loki/; cp "$here/tempo.yaml" $D/tempo/; cp "$here/prometheus.yml" $D/prom/
(cd $D/loki && nohup "$bin/loki" -config.file=$D/loki/loki.yaml >$D/loki/loki.log 2>&1 & echo $! >$D/loki/pid)
(cd $D/tempo && nohup "$bin/tempo" -config.file=$D/tempo/tempo.yaml >$D/tempo/tempo.log 2>&1 & echo $! >$D/tempo/pid)
(cd $D/prom && nohup /usr/bin/prometheus --config.file=$D/prom/prometheus.yml --storage.tsdb.path=$D/prom/data \
   --web.listen-address=127.0.0.1:59090 --web.enable-remote-write-receiver >$D/prom/prom.log 2>&1 & echo $! >$D/prom/pid)
echo "loki $(cat $D/loki/pid), tempo $(cat $D/tempo/pid), prometheus $(cat $D/prom/pid)"
