# shellcheck shell=bash
# Shell helpers shared by scripts/engine-up.sh and scripts/testbed.sh (sourced, not run).
# The caller defines log() and die().

# The state letter and parent PID of process $1 ("S 1234"), or nothing. The
# command name in /proc/PID/stat may hold spaces and parentheses: read after
# the last ") ".
proc_stat() {
    sed -n 's/^.*) \([A-Za-z]\) \([0-9]\{1,\}\) .*/\1 \2/p' "/proc/$1/stat" 2>/dev/null || true
}

# Whether PID $1 is a live process: a killed daemon lingers as a zombie until
# its parent reaps it, and that does not count.
pid_alive() {
    local state
    state=$(proc_stat "$1")
    state=${state%% *}
    [[ -n $state && $state != [ZX] ]]
}

# The PID in pidfile $1 if that process is alive and is named $2, else nothing.
live_pid() {
    local pidfile=$1 name=$2 pid
    [[ -r $pidfile ]] || return 0
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null || true) == "$name" ]] || return 0
    pid_alive "$pid" || return 0
    echo "$pid"
}

# Installs the Debian packages among "$@" that are missing. With
# NO_SERVICE_START=1 no package script may start a service of the machine's
# own (the test bed wants no sshd on every address of the root namespace, no
# second root dockerd).
ensure_packages() {
    local p missing=()
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
            missing+=("$p")
        fi
    done
    ((${#missing[@]})) || return 0
    [[ $(id -u) -eq 0 ]] || die "missing packages (${missing[*]}) and not root: cannot apt-get install"
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    local policy=/usr/sbin/policy-rc.d made=0
    if [[ ${NO_SERVICE_START:-0} == 1 && ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        made=1
    fi
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
        ((made)) && rm -f "$policy"
        die "apt-get install ${missing[*]} failed"
    fi
    ((made)) && rm -f "$policy"
    return 0
}

# The image scripts' common start (busybox-image.sh, nettools-image.sh): sets DOCKER to
# Debian's docker CLI when installed, else the one on PATH; rebuild=1 for --rebuild;
# prints the calling script's header for --help; dies on anything else or when no engine
# answers on $DOCKER_HOST.
image_script_start() {
    if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
    rebuild=0
    case "${1:-}" in
    "") ;;
    --rebuild) rebuild=1 ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown argument: $1 (try --help)" ;;
    esac
    timeout 15 "$DOCKER" info >/dev/null 2>&1 ||
        die "no Docker engine answers on $DOCKER_HOST: run scripts/engine-up.sh (or make engine)"
}
