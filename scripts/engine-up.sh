#!/usr/bin/env bash
# Bring up (or reuse) the local Docker engine that dnetlab's tests and demo
# run against, then clear what an earlier run left on it. Idempotent: run it
# as often as you like.
#
#   scripts/engine-up.sh               ensure an engine answers, clear leftovers
#   scripts/engine-up.sh --clean-only  only clear leftovers (if an engine answers)
#
# On a fresh Debian 12 machine (as root) it installs what is missing with apt
# and starts Debian's dockerd (20.10, API 1.41) in the background. If an
# engine already answers on the default socket, that engine is used as is.
#
# Leftovers are what this project's own runs made: objects labelled
# `dnetlab.test=1` or `dnetlab.kind=helper`, the labs named in PROJECT_LABS
# below, and the benchmark's compose project `bench-compose`. Nothing else on the engine is touched, other dnetlab labs included.
#
# Environment:
#   DNETLAB_ENGINE_WAIT  seconds to wait for a started dockerd (default 60)
set -euo pipefail

# dockerd, chroot and friends live in sbin; a caller's PATH may lack it.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

SOCK=/var/run/docker.sock
PIDFILE=/var/run/docker.pid
# dockerd's own containerd, and the pidfile it reuses it by.
CONTAINERD_PIDFILE=/var/run/docker/containerd/containerd.pid
LOG=/var/log/dnetlab-dockerd.log
WAIT_SECS=${DNETLAB_ENGINE_WAIT:-60}
PACKAGES=(docker.io iptables busybox-static openssh-server iproute2)

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Always the default socket, whatever the caller's environment says.
export DOCKER_HOST="unix://$SOCK"
unset DOCKER_CONTEXT

log() { printf 'engine-up: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

# Prefer Debian's client (same version as Debian's engine); the 28.x client in
# /usr/local/bin works against API 1.41 too and is the fallback.
pick_docker() {
    if [[ -x /usr/bin/docker ]]; then
        DOCKER=/usr/bin/docker
    else
        DOCKER=$(command -v docker || true)
    fi
}

engine_answers() {
    [[ -n ${DOCKER:-} ]] || return 1
    timeout 15 "$DOCKER" info --format '{{.ServerVersion}}' >/dev/null 2>&1
}

dockerd_pid() { live_pid "$PIDFILE" dockerd; }

launch_dockerd() {
    command -v dockerd >/dev/null || die "dockerd not found even after installing docker.io"
    if [[ -e $PIDFILE ]]; then
        log "removing stale $PIDFILE"
        rm -f "$PIDFILE"
    fi
    # dockerd reuses the containerd named there if kill(pid, 0) works, which
    # is true of a zombie too: it would then wait for a socket that never
    # comes. A live containerd from an earlier dockerd is reused, as intended.
    if [[ -e $CONTAINERD_PIDFILE && -z $(live_pid "$CONTAINERD_PIDFILE" containerd) ]]; then
        log "removing stale $CONTAINERD_PIDFILE"
        rm -f "$CONTAINERD_PIDFILE"
    fi
    mkdir -p "$(dirname "$LOG")"
    printf '\n===== %s engine-up.sh: starting dockerd =====\n' "$(date -Is)" >>"$LOG"
    # Own session, no terminal, stdio away from the caller's pipes, cwd /: it
    # outlives make, does not keep make's output open nor pin the work tree.
    (cd / && exec setsid nohup dockerd --pidfile "$PIDFILE" -H "unix://$SOCK" \
        >>"$LOG" 2>&1 </dev/null) &
    STARTED_PID=$!
    log "started dockerd (pid $STARTED_PID), log in $LOG"
}

start_dockerd() {
    local pid t0 waited deadline launches=0
    t0=$(date +%s.%N)
    deadline=$((SECONDS + WAIT_SECS))
    STARTED_PID=
    pid=$(dockerd_pid)
    if [[ -n $pid ]]; then
        # Started by an earlier run (or a package script), not answering yet.
        log "dockerd (pid $pid) is running but not answering yet; waiting for it"
    fi
    until engine_answers; do
        if [[ -z $(dockerd_pid) ]] && ! { [[ -n $STARTED_PID ]] && kill -0 "$STARTED_PID" 2>/dev/null; }; then
            if ((launches >= 2)); then
                log "dockerd exited during start-up; last lines of $LOG:"
                tail -n 40 "$LOG" >&2 || true
                die "dockerd did not start"
            fi
            # None runs (any more): start ours; once more if the first one
            # died (what an earlier engine left may have been on its way out).
            ((launches)) && log "dockerd exited during start-up; trying once more"
            launch_dockerd
            launches=$((launches + 1))
        fi
        if ((SECONDS >= deadline)); then
            log "no answer on $SOCK after ${WAIT_SECS}s; last lines of $LOG:"
            tail -n 40 "$LOG" >&2 || true
            die "dockerd did not come up in ${WAIT_SECS}s"
        fi
        sleep 0.5
    done
    waited=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    log "engine answers after ${waited}s"
}

# The labs this project's own runs make: the seed scenarios (make demo), the test
# suite's t-/a-/b-<6 hex> labs and the benchmarks' bench-* labs. A user's other labs
# on the same engine are not ours to clear.
PROJECT_LABS='^((t|a|b)-[0-9a-f]{6}|bench-.*|unreach|none|host|bridge|static-ip|isolation|overlay)$'

# IDs of objects (ps / network ls / volume ls) that an earlier run of ours left.
leftover_ids() {
    local kind=$1 id scen
    local -a list=("$DOCKER" "$kind" ls -q)
    [[ $kind == container ]] && list=("$DOCKER" ps -aq)
    # (and the docker-compose project of the lab benchmark, the reference it measures)
    for f in label=dnetlab.test=1 label=dnetlab.kind=helper \
        label=com.docker.compose.project=bench-compose; do
        "${list[@]}" --filter "$f"
    done
    local fmt='{{.ID}} {{.Label "dnetlab.scenario"}}'
    [[ $kind == volume ]] && fmt='{{.Name}} {{.Label "dnetlab.scenario"}}'
    local -a ls=("$DOCKER" "$kind" ls)
    [[ $kind == container ]] && ls=("$DOCKER" ps -a)
    "${ls[@]}" --filter label=dnetlab.scenario --format "$fmt" |
        while read -r id scen; do
            [[ $scen =~ $PROJECT_LABS ]] && echo "$id"
        done
    return 0
}

# Removes network $1; fails only if it is still there afterwards.
remove_network() {
    "$DOCKER" network rm "$1" >/dev/null 2>&1 || ! "$DOCKER" network inspect "$1" >/dev/null 2>&1
}

# Docker 20.10 can keep a dead endpoint on a network after heavy churn: "has
# active endpoints" with no container attached, until dockerd restarts. When
# every network in "$@" is so and no container runs on the engine (a restart
# disturbs nothing), restart the dockerd this script manages; else say how.
restart_for_dead_endpoints() {
    local id n pid
    for id in "$@"; do
        n=$("$DOCKER" network inspect -f '{{len .Containers}}' "$id" 2>/dev/null || echo 1)
        [[ $n == 0 ]] || return 1
    done
    pid=$(dockerd_pid)
    if [[ -n $("$DOCKER" ps -q) || -z $pid ]]; then
        log "WARNING: network(s) $* keep a dead endpoint (a Docker 20.10 fault); restarting dockerd clears it"
        return 1
    fi
    log "network(s) $* keep a dead endpoint (a Docker 20.10 fault) and no container runs: restarting dockerd (pid $pid)"
    kill -TERM "$pid"
    local deadline=$((SECONDS + WAIT_SECS))
    while pid_alive "$pid"; do
        ((SECONDS < deadline)) || die "dockerd (pid $pid) did not stop in ${WAIT_SECS}s"
        sleep 0.2
    done
    start_dockerd
}

clean_leftovers() {
    local id rc=0
    local -a ids
    mapfile -t ids < <(leftover_ids container | sort -u)
    ((${#ids[@]})) && log "removing ${#ids[@]} leftover container(s)"
    for id in "${ids[@]}"; do
        # It may vanish meanwhile (--rm, a concurrent clean-up): not an error.
        if ! "$DOCKER" rm -f "$id" >/dev/null 2>&1 && "$DOCKER" inspect "$id" >/dev/null 2>&1; then
            log "WARNING: could not remove container $id"
            rc=1
        fi
    done
    mapfile -t ids < <(leftover_ids network | sort -u)
    ((${#ids[@]})) && log "removing ${#ids[@]} leftover network(s)"
    local -a stuck=()
    for id in "${ids[@]}"; do
        remove_network "$id" || stuck+=("$id")
    done
    if ((${#stuck[@]})) && restart_for_dead_endpoints "${stuck[@]}"; then
        stuck=()
        for id in "${ids[@]}"; do
            remove_network "$id" || stuck+=("$id")
        done
    fi
    for id in "${stuck[@]}"; do
        # Still in use by a container without our labels: leave both alone.
        log "WARNING: could not remove network $id (unlabelled containers attached?)"
        rc=1
    done
    mapfile -t ids < <(leftover_ids volume | sort -u)
    for id in "${ids[@]}"; do
        "$DOCKER" volume rm -f "$id" >/dev/null 2>&1 || true
    done
    return "$rc"
}

# The kernel keeps one neighbour (ARP) table for every network namespace together, by
# default at most 1024 entries (gc_thresh3). A lab of 500 containers whose probes each
# reach two others needs about 2,000: past the limit the kernel refuses new entries
# ("neighbour table overflow") and a ping gets no reply. Measured here (issue 13): 387
# of 1,000 pings of the 500-container lab failed at 1024, none at 16384. Only raised,
# never lowered; a machine where it cannot be set says so and goes on.
raise_neighbour_limits() {
    local key want have
    for pair in gc_thresh1:4096 gc_thresh2:8192 gc_thresh3:16384; do
        key=net.ipv4.neigh.default.${pair%%:*} want=${pair##*:}
        have=$(sysctl -n "$key" 2>/dev/null) || continue
        if ((have < want)); then
            sysctl -qw "$key=$want" 2>/dev/null && log "$key: $have -> $want" ||
                log "warning: could not raise $key from $have (large labs may lose pings)"
        fi
    done
}

main() {
    local clean_only=0
    case "${1:-}" in
    "") ;;
    --clean-only) clean_only=1 ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        return 0
        ;;
    *) die "unknown argument: $1 (try --help)" ;;
    esac

    pick_docker
    if ((clean_only)); then
        if engine_answers; then
            clean_leftovers || log "some leftovers could not be removed (see warnings)"
        else
            log "no engine answers on $SOCK: nothing to clean (the next engine-up cleans)"
        fi
        return 0
    fi

    if engine_answers; then
        log "engine already answers on $SOCK"
    else
        ensure_packages "${PACKAGES[@]}"
        pick_docker
        [[ -n ${DOCKER:-} ]] || die "no docker client found even after installing docker.io"
        if engine_answers; then
            log "engine answers on $SOCK (started by the package install)"
        else
            start_dockerd
        fi
    fi
    clean_leftovers || log "some leftovers could not be removed (see warnings)"
    raise_neighbour_limits
    log "ready: Docker $("$DOCKER" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})') on $DOCKER_HOST"
}

main "$@"
