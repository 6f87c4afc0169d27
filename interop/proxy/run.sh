#!/bin/sh
# SIPp's built-in uac -> `netsip proxy` -> SIPp's built-in uas, on loopback.
#   interop/proxy/run.sh [NETSIP_BINARY]
# Two runs of 10 calls each:
#   udp-udp: UDP all the way, with --record-route;
#   udp-tcp: the uas listens on TCP and --domain2proxy sends requests for 127.0.0.1 to it
#            over TCP: UDP in, TCP out, and back.
# A run passes when both SIPp processes exit 0 (every call completed: INVITE, 100/180/200,
# ACK, BYE, 200) and the proxy stops with status 0 on SIGTERM. Logs: target/interop/proxy/.
set -eu
cd "$(dirname "$0")/../.."
NETSIP=${1:-target/debug/netsip}
OUT=target/interop/proxy
mkdir -p "$OUT"
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# run NAME UAS_TRANSPORT(u1|t1) PROXY_ARGS...; the word UAS in PROXY_ARGS becomes the uas port.
run() {
    name=$1 uas_transport=$2
    shift 2
    uas=$(free_port)
    proxy=$(free_port)
    uac=$(free_port)
    args=$(echo "$*" | sed "s/UAS/$uas/g")
    sipp -sn uas -i 127.0.0.1 -p "$uas" -t "$uas_transport" -m 10 -timeout 40s -nostdin \
        -trace_err -error_file "$OUT/$name-uas-errors.log" >"$OUT/$name-uas.out" 2>&1 &
    uas_pid=$!
    # shellcheck disable=SC2086 # $args is a list of words
    RUST_LOG=${RUST_LOG:-info,sip_proxy=debug} "$NETSIP" proxy \
        --listen "udp:127.0.0.1:$proxy" --listen "tcp:127.0.0.1:$proxy" $args \
        >"$OUT/$name-proxy.out" 2>"$OUT/$name-proxy.log" &
    proxy_pid=$!
    sleep 0.5
    status=0
    sipp -sn uac 127.0.0.1:"$uas" -rsa 127.0.0.1:"$proxy" -i 127.0.0.1 -p "$uac" -m 10 -r 5 \
        -timeout 30s -nostdin -trace_err -error_file "$OUT/$name-uac-errors.log" \
        >"$OUT/$name-uac.out" 2>&1 || status=$?
    uas_status=0
    wait "$uas_pid" || uas_status=$?
    kill -TERM "$proxy_pid"
    proxy_status=0
    wait "$proxy_pid" || proxy_status=$?
    if [ "$status$uas_status$proxy_status" = 000 ]; then
        echo "$name: pass"
    else
        echo "$name: FAIL (uac $status, uas $uas_status, proxy $proxy_status; logs in $OUT)"
        return 1
    fi
}

failed=0
run udp-udp u1 --record-route || failed=1
run udp-tcp t1 --domain2proxy 127.0.0.1=tcp:127.0.0.1:UAS || failed=1
exit $failed
