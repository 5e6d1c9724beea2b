#!/usr/bin/env bash
# The multi-host test bed: N Docker hosts on this one machine. Each host is a
# network namespace with its own dockerd and its own sshd. The bed is routed:
# odd hosts sit on 10.99.0.0/24, even hosts on 10.99.1.0/24 (each subnet a
# Linux bridge of the root namespace), and a router namespace joins the two
# subnets, so that hosts of different subnets are two hops apart (the router,
# then the host) while an overlay's containers on them are one hop apart. The
# root namespace reaches every host (over ssh:// too) and the hosts reach each
# other (swarm, VXLAN overlays), with no NAT anywhere.
#
#      root namespace 10.99.0.254 (route to 10.99.1.0/24 via 10.99.0.253)
#            |
#   [dnl-tb0] 10.99.0.0/24 ---- h1 .1, h3 .3, h5 .5 ...
#            |
#      router dnl-rt: 10.99.0.253 | 10.99.1.253 (ip_forward)
#            |
#   [dnl-tb1] 10.99.1.0/24 ---- h2 .2, h4 .4 ...
#
#   scripts/testbed.sh up [N] [--fresh] [--at-least]
#                                         N hosts (default 6). A healthy bed of
#                                         exactly N hosts (with --at-least: of N
#                                         or more, what tests and benches that
#                                         need N use, so that they never shrink
#                                         a larger bed) is kept as it is (fast);
#                                         otherwise (or with --fresh) whatever an
#                                         earlier run left is cleared first and
#                                         the bed is built anew with N hosts
#   scripts/testbed.sh down               remove all of it; idempotent
#   scripts/testbed.sh status             what runs; exit 1 unless all is healthy
#   scripts/testbed.sh load-image I|all IMAGE
#                                         copy IMAGE from the local engine
#                                         (/var/run/docker.sock) to host I or to
#                                         every host (skipped where it is there)
#   scripts/testbed.sh stop-sshd I        stop / start the sshd of host I
#   scripts/testbed.sh start-sshd I
#   scripts/testbed.sh stop-engine I [--kill]
#                                         stop (SIGTERM, or SIGKILL with --kill)
#   scripts/testbed.sh start-engine I     / start the dockerd of host I
#
# Host I (1..N):
#   network namespace dnl-hI; its address ADDR is 10.99.0.I when I is odd and
#     10.99.1.I when I is even (stable: it never depends on N); eth0 ADDR/24
#     and lo, no default route: a route to the other subnet via the router
#     (10.99.0.253 or 10.99.1.253), so a host reaches 10.99.0.0/24 and
#     10.99.1.0/24 and nothing else; the other end of its veth, dnl-tb-hI, is a
#     port of the bridge dnl-tb0 (odd) or dnl-tb1 (even)
# The router: network namespace dnl-rt, eth0 10.99.0.253/24 (peer dnl-tb-r0 in
#   dnl-tb0) and eth1 10.99.1.253/24 (peer dnl-tb-r1 in dnl-tb1), IPv4
#   forwarding on, no NAT, no firewall, no other route. The root namespace has
#   10.99.0.254/24 on dnl-tb0 and a route to 10.99.1.0/24 via 10.99.0.253.
#   dockerd: nsenter --net=/run/netns/dnl-hI dockerd, socket
#     unix:///run/dnetlab-testbed/hI/docker.sock, data-root
#     /var/lib/dnetlab-testbed/hI/docker, exec-root /run/dnetlab-testbed/hI/exec,
#     docker0 172.31.I.1/24, its own engine ID (trust key), log
#     /var/log/dnetlab-testbed-hI.log
#   sshd: ADDR:22, root by key only, host key under
#     /var/lib/dnetlab-testbed/hI/ssh/, `SetEnv DOCKER_HOST=<that socket>` so
#     that `docker` run over SSH (the SDK's `docker system dial-stdio`) talks to
#     that host's engine; log /var/log/dnetlab-testbed-hI-sshd.log; in a
#     private mount namespace where /root/.bashrc is Debian's default
#     (/etc/skel/.bashrc, bind-mounted over it there only): the hosts share this
#     machine's /root, and a developer's ~/.bashrc (pyenv init: ~0.1 s of CPU)
#     would otherwise run for every SSH channel, a cost no real Docker host has.
#     The machine's own /root/.bashrc is never touched.
# Also: FORWARD ACCEPT rules in and out of dnl-tb0 and dnl-tb1 (comment dnetlab-testbed;
# the root dockerd sets the FORWARD policy to DROP); root's key
# /root/.ssh/id_ed25519 (made if missing, never replaced) in
# /root/.ssh/authorized_keys; each host key in /root/.ssh/known_hosts; and, in
# the repository, .testbed/hosts.env and .testbed/hosts.json. Hosts have no
# image: `load-image` copies one. They share the machine's hostname: tell them
# (and swarm nodes) apart by ID. Logs in /var/log are kept by `down`.
#
# Environment:
#   DNETLAB_TESTBED_WAIT  seconds to wait for an engine or an sshd (default 60)
set -euo pipefail

# dockerd, sshd, ip and friends live in sbin; a caller's PATH may lack it.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
# Every docker command here names its socket.
unset DOCKER_HOST DOCKER_CONTEXT

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=$REPO/.testbed
# Two subnets: NETS[0] for odd hosts, NETS[1] for even hosts; BRIDGES likewise.
BRIDGES=(dnl-tb0 dnl-tb1)
NETS=(10.99.0 10.99.1)
BRIDGE=${BRIDGES[0]}
BRIDGE_ADDR=${NETS[0]}.254
ROUTER_NS=dnl-rt
ROUTER_HOST=253 # the router's address on each subnet: 10.99.0.253, 10.99.1.253
DATA_BASE=/var/lib/dnetlab-testbed
RUN_BASE=/run/dnetlab-testbed
LOG_DIR=/var/log
COMMENT=dnetlab-testbed
LOCK=/run/lock/dnetlab-testbed.lock
LOCAL_SOCK=/var/run/docker.sock
MAX_HOSTS=32
WAIT_SECS=${DNETLAB_TESTBED_WAIT:-60}
PACKAGES=(docker.io iptables iproute2 openssh-server openssh-client procps)
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SSH_HOME=/root/.ssh
ROOT_KEY=$SSH_HOME/id_ed25519
AUTHORIZED_KEYS=$SSH_HOME/authorized_keys
KNOWN_HOSTS=$SSH_HOME/known_hosts
SSH_OPTS=(-n -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$KNOWN_HOSTS"
    -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=5 -o LogLevel=ERROR
    -o IdentitiesOnly=yes -i "$ROOT_KEY")

log() { printf 'testbed: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Prefer Debian's client (same version as Debian's engine); the 28.x client in
# /usr/local/bin works against API 1.41 too.
if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi

# One command at a time (up, down and the rest change shared state). Whatever
# this script starts gets `9>&-` so that no daemon keeps the lock.
take_lock() {
    mkdir -p "$(dirname "$LOCK")"
    exec 9>>"$LOCK"
    flock -w 600 9 || die "another scripts/testbed.sh holds $LOCK"
}

# The names and paths of host $1, as globals.
host_vars() {
    local i=$1
    NS=dnl-h$i
    SIDE=$(((i + 1) % 2)) # 0: odd host, 1: even host
    HNET=${NETS[SIDE]}
    OTHER_NET=${NETS[1 - SIDE]}
    HBRIDGE=${BRIDGES[SIDE]}
    ADDR=$HNET.$i
    GATEWAY=$HNET.$ROUTER_HOST
    VETH=dnl-tb-h$i
    HDATA=$DATA_BASE/h$i
    HRUN=$RUN_BASE/h$i
    SOCK=$HRUN/docker.sock
    EXEC_ROOT=$HRUN/exec
    DOCKERD_PIDFILE=$HRUN/dockerd.pid
    CONTAINERD_PIDFILE=$EXEC_ROOT/containerd/containerd.pid
    DAEMON_JSON=$HDATA/daemon.json
    SSH_DIR=$HDATA/ssh
    SSHD_CONFIG=$SSH_DIR/sshd_config
    HOST_KEY=$SSH_DIR/ssh_host_ed25519_key
    SSHD_PIDFILE=$HRUN/sshd.pid
    DOCKERD_LOG=$LOG_DIR/dnetlab-testbed-h$i.log
    SSHD_LOG=$LOG_DIR/dnetlab-testbed-h$i-sshd.log
}

# --- processes -----------------------------------------------------------------

# Wait until none of the PIDs lives (zombies count as gone); 1 on timeout.
wait_gone() {
    local secs=$1 deadline p left
    shift
    deadline=$(awk -v n="$(now)" -v s="$secs" 'BEGIN { printf "%.2f", n + s }')
    while :; do
        left=0
        for p in "$@"; do pid_alive "$p" && left=1 && break; done
        ((left)) || return 0
        awk -v n="$(now)" -v d="$deadline" 'BEGIN { exit !(n >= d) }' && return 1
        sleep 0.1
    done
}

# This script and its ancestors: never to be stopped.
self_and_ancestors() {
    local p=$$
    while [[ $p =~ ^[0-9]+$ ]] && ((p > 1)); do
        echo "$p"
        p=$(proc_stat "$p")
        p=${p#* }
    done
    echo "$BASHPID"
}

# Every process of the bed: those in a dnl-h* namespace (dockerd, containerd,
# shims, sshd and its sessions, docker-proxy), those whose command line names
# the bed's directories (a namespace already deleted, a client of a host's
# socket), and all their descendants (the containers).
bed_pids() {
    local -a seeds=()
    local ns
    while read -r ns _; do
        [[ $ns =~ ^dnl-h[0-9]+$ ]] || continue
        mapfile -t -O "${#seeds[@]}" seeds < <(ip netns pids "$ns" 2>/dev/null || true)
    done < <(ip netns list 2>/dev/null || true)
    # The [d] keeps grep from finding its own command line.
    mapfile -t -O "${#seeds[@]}" seeds < <(
        grep -lasE '/(run|var/lib)/dnetlab-testbe[d]/' /proc/[0-9]*/cmdline 2>/dev/null |
            cut -d/ -f3 || true
    )
    ((${#seeds[@]})) || return 0
    ps -e -o pid=,ppid= | awk -v seeds="${seeds[*]}" -v skip="$(self_and_ancestors | tr '\n' ' ')" '
        BEGIN {
            n = split(seeds, s, " "); for (i = 1; i <= n; i++) want[s[i]] = 1
            n = split(skip, k, " "); for (i = 1; i <= n; i++) no[k[i]] = 1
        }
        { parent[$1] = $2 }
        END {
            do {
                more = 0
                for (p in parent) if (!(p in want) && (parent[p] in want)) { want[p] = 1; more = 1 }
            } while (more)
            for (p in want) if ((p in parent) && !(p in no)) print p
        }'
}

comm_of() { cat "/proc/$1/comm" 2>/dev/null || true; }

# Stop every process of the bed: containers first (SIGKILL), then dockerd and
# sshd politely (they clean up their mounts), then SIGKILL for what is left.
stop_bed_processes() {
    local -a pids=() containers=() daemons=()
    local p c
    mapfile -t pids < <(bed_pids)
    ((${#pids[@]})) || return 0
    log "stopping ${#pids[@]} process(es) of the bed"
    local shims=" "
    for p in "${pids[@]}"; do
        c=$(comm_of "$p")
        case $c in
        containerd-shim*) shims+="$p " ;;
        dockerd | sshd) daemons+=("$p") ;;
        esac
    done
    for p in "${pids[@]}"; do
        c=$(proc_stat "$p")
        c=${c#* }
        [[ -n $c && $shims == *" $c "* ]] && containers+=("$p")
    done
    if ((${#containers[@]})); then
        kill -KILL "${containers[@]}" 2>/dev/null || true
        # Descendants of those die with their PID namespace's init.
        wait_gone 5 "${containers[@]}" || true
    fi
    if ((${#daemons[@]})); then
        kill -TERM "${daemons[@]}" 2>/dev/null || true
        wait_gone 15 "${daemons[@]}" || log "some daemons ignored SIGTERM for 15s: killing them"
    fi
    local round
    for round in 1 2 3 4; do
        mapfile -t pids < <(bed_pids)
        ((${#pids[@]})) || break
        ((round < 4)) || die "processes of the bed survive SIGKILL: ${pids[*]}"
        kill -KILL "${pids[@]}" 2>/dev/null || true
        wait_gone 10 "${pids[@]}" || true
    done
}

# A shim that was killed (not told to stop by its containerd) leaves its socket
# in /run/containerd/s/, beside those of the root engine's shims; the task
# directory of its containerd names it. Call when no process of the bed is left.
remove_shim_sockets() {
    local f addr n=0
    for f in "$RUN_BASE"/h*/exec/containerd/daemon/io.containerd.runtime.v2.task/*/*/address; do
        [[ -r $f ]] || continue
        addr=$(<"$f")
        addr=${addr#unix://}
        [[ $addr == /run/containerd/s/* && -S $addr ]] || continue
        rm -f "$addr"
        n=$((n + 1))
    done
    ((n == 0)) || log "removed $n socket(s) of killed shims from /run/containerd/s"
}

# --- clearing ------------------------------------------------------------------

# The hosts' namespaces (not the router's).
bed_namespaces() {
    ip netns list 2>/dev/null | awk '$1 ~ /^dnl-h[0-9]+$/ { print $1 }'
}

router_present() { [[ -e /run/netns/$ROUTER_NS ]]; }

bed_links() {
    ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
        grep -E '^dnl-tb-(h[0-9]+|r[01])$' || true
}

# Host numbers that anything of an earlier bed still names.
known_indices() {
    {
        bed_namespaces | sed 's/^dnl-h//'
        bed_links | sed 's/^dnl-tb-h//'
        find "$DATA_BASE" "$RUN_BASE" -mindepth 1 -maxdepth 1 -name 'h*' -printf '%f\n' 2>/dev/null |
            sed -n 's/^h\([0-9]\{1,\}\)$/\1/p'
        sed -n 's/^DNETLAB_TESTBED_H\([0-9]\{1,\}\)=.*/\1/p' "$STATE_DIR/hosts.env" 2>/dev/null || true
        # Plain lines for the bed's addresses (a bed whose files are gone).
        sed -n 's/^10\.99\.[01]\.\([0-9]\{1,3\}\)[ ,].*/\1/p' "$KNOWN_HOSTS" 2>/dev/null || true
    } | awk '$1 >= 1 && $1 <= 253' | sort -un
}

# Unmount whatever is mounted under the bed's directories (dockerd bind-mounts
# its data-root onto itself; containers' overlays and network namespaces),
# deepest first. A dockerd that was killed leaves them.
unmount_bed() {
    local round m
    local -a mounts
    for round in 1 2 3 4 5; do
        mapfile -t mounts < <(findmnt -rn -o TARGET | awk -v a="$RUN_BASE" -v b="$DATA_BASE" '
            $0 == a || index($0, a "/") == 1 || $0 == b || index($0, b "/") == 1 { print length($0), $0 }' |
            sort -rn | cut -d' ' -f2-)
        ((${#mounts[@]})) || return 0
        ((round > 1)) || log "unmounting ${#mounts[@]} mount(s) left under $RUN_BASE and $DATA_BASE"
        for m in "${mounts[@]}"; do
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
        done
    done
    die "mounts remain under $RUN_BASE or $DATA_BASE: ${mounts[*]}"
}

IPT=(iptables -w 10)
RULE_TAIL=(-m comment --comment "$COMMENT" -j ACCEPT)

# Bridged frames pass the root namespace's FORWARD chain (policy DROP once the
# root dockerd runs): both bridges need them, or the router and the hosts of a
# subnet do not reach each other.
add_forward_rules() {
    local dir br
    for br in "${BRIDGES[@]}"; do
        for dir in -o -i; do
            "${IPT[@]}" -C FORWARD "$dir" "$br" "${RULE_TAIL[@]}" 2>/dev/null ||
                "${IPT[@]}" -I FORWARD 1 "$dir" "$br" "${RULE_TAIL[@]}"
        done
    done
}

forward_rules_present() {
    local br
    for br in "${BRIDGES[@]}"; do
        "${IPT[@]}" -C FORWARD -i "$br" "${RULE_TAIL[@]}" 2>/dev/null &&
            "${IPT[@]}" -C FORWARD -o "$br" "${RULE_TAIL[@]}" 2>/dev/null || return 1
    done
}

# Only the rules that carry our comment, however many an earlier run left.
remove_forward_rules() {
    command -v iptables >/dev/null || return 0
    local line n=0
    local -a args
    while read -r line; do
        read -ra args <<<"${line/#-A /-D }"
        "${IPT[@]}" "${args[@]}" && n=$((n + 1))
    done < <("${IPT[@]}" -S FORWARD 2>/dev/null | grep -F -- "--comment $COMMENT" || true)
    ((n == 0)) || log "removed $n FORWARD rule(s) marked $COMMENT"
}

remove_known_host() {
    [[ -f $KNOWN_HOSTS ]] || return 0
    if ssh-keygen -F "$1" -f "$KNOWN_HOSTS" >/dev/null 2>&1; then
        ssh-keygen -R "$1" -f "$KNOWN_HOSTS" >/dev/null 2>&1
    fi
}

# Whatever an earlier bed left, in an order that frees everything: processes,
# mounts, namespaces, links, rules, files.
clear_all() {
    local -a idx
    local i ns link
    mapfile -t idx < <(known_indices)
    stop_bed_processes
    remove_shim_sockets
    unmount_bed
    for ns in $(bed_namespaces); do
        ip netns del "$ns"
    done
    if router_present; then ip netns del "$ROUTER_NS"; fi
    for link in $(bed_links); do
        ip link del "$link" 2>/dev/null || true
    done
    local br
    for br in "${BRIDGES[@]}"; do
        # The root namespace's route to the second subnet goes with dnl-tb0.
        if ip link show "$br" >/dev/null 2>&1; then
            ip link del "$br"
        fi
    done
    remove_forward_rules
    # Either address a host had (an older bed put every host on 10.99.0.0/24).
    local net
    for i in "${idx[@]}"; do
        for net in "${NETS[@]}"; do
            remove_known_host "$net.$i"
        done
    done
    rm -rf --one-file-system "$RUN_BASE" "$DATA_BASE" "$STATE_DIR"
    ((${#idx[@]} == 0)) || log "cleared host(s) ${idx[*]} of an earlier bed"
}

# --- building ------------------------------------------------------------------

preflight() {
    [[ $(id -u) -eq 0 ]] || die "the test bed needs root (namespaces, bridge, iptables)"
    local p
    for p in dockerd nsenter ip iptables ssh ssh-keygen ssh-keyscan flock findmnt; do
        command -v "$p" >/dev/null || die "$p not found"
    done
    [[ -x /usr/sbin/sshd ]] || die "/usr/sbin/sshd not found"
    # sshd without PAM refuses every login, keys too, to an account whose
    # password field starts with "!" (locked).
    if [[ $(getent shadow root | cut -d: -f2) == '!'* ]]; then
        die "root's password field starts with '!' (locked): sshd (UsePAM no) refuses key logins;" \
            "unlock it with: usermod -p '*' root"
    fi
}

# root's key: made if missing (never replaced), and authorized once.
ensure_root_key() {
    mkdir -p "$SSH_HOME"
    chmod 0700 "$SSH_HOME"
    if [[ ! -e $ROOT_KEY ]]; then
        ssh-keygen -q -t ed25519 -N '' -C "root@dnetlab-testbed" -f "$ROOT_KEY"
        log "created $ROOT_KEY"
    fi
    ssh-keygen -y -P '' -f "$ROOT_KEY" >/dev/null 2>&1 ||
        die "$ROOT_KEY cannot be used without a passphrase: the test bed needs a key that can"
    [[ -s $ROOT_KEY.pub ]] || ssh-keygen -y -P '' -f "$ROOT_KEY" >"$ROOT_KEY.pub"
    local pub
    pub=$(awk '{ print $1, $2 }' "$ROOT_KEY.pub")
    touch "$AUTHORIZED_KEYS"
    chmod 0600 "$AUTHORIZED_KEYS"
    if ! awk -v k="$pub" '($1 " " $2) == k || index($0, " " k) { found = 1 } END { exit !found }' \
        "$AUTHORIZED_KEYS"; then
        ends_with_newline "$AUTHORIZED_KEYS" || echo >>"$AUTHORIZED_KEYS"
        cat "$ROOT_KEY.pub" >>"$AUTHORIZED_KEYS"
        log "added $ROOT_KEY.pub to $AUTHORIZED_KEYS"
    fi
}

ends_with_newline() { [[ ! -s $1 || $(tail -c1 "$1" | od -An -c | tr -d ' ') == '\n' ]]; }

setup_network() {
    local n=$1 i side net
    for net in "${NETS[@]}"; do
        if ip -4 -o addr show | awk '{ print $4 }' | grep -q "^${net//./\\.}\."; then
            die "an address in $net.0/24 is already in use: $(ip -4 -o addr show | grep " ${net}\." | head -1)"
        fi
        if ip -4 route show "$net.0/24" | grep -q .; then
            die "the root namespace already routes $net.0/24: $(ip -4 route show "$net.0/24" | head -1)"
        fi
    done
    for side in 0 1; do
        ip link add "${BRIDGES[side]}" type bridge
        ip link set "${BRIDGES[side]}" up
    done
    ip addr add "$BRIDGE_ADDR/24" dev "$BRIDGE"
    add_forward_rules
    # The router: one leg on each bridge, forwarding between them.
    ip netns add "$ROUTER_NS"
    ip -n "$ROUTER_NS" link set lo up
    for side in 0 1; do
        ip link add "dnl-tb-r$side" type veth peer name "eth$side" netns "$ROUTER_NS"
        ip link set "dnl-tb-r$side" master "${BRIDGES[side]}"
        ip link set "dnl-tb-r$side" up
        ip -n "$ROUTER_NS" addr add "${NETS[side]}.$ROUTER_HOST/24" dev "eth$side"
        ip -n "$ROUTER_NS" link set "eth$side" up
    done
    # Per namespace; nsenter, since `ip netns exec` remounts /sys.
    nsenter --net="/run/netns/$ROUTER_NS" sysctl -qw net.ipv4.ip_forward=1
    ip route replace "${NETS[1]}.0/24" via "${NETS[0]}.$ROUTER_HOST" dev "$BRIDGE"
    for ((i = 1; i <= n; i++)); do
        host_vars "$i"
        ip netns add "$NS"
        ip link add "$VETH" type veth peer name eth0 netns "$NS"
        ip link set "$VETH" master "$HBRIDGE"
        ip link set "$VETH" up
        ip -n "$NS" link set lo up
        ip -n "$NS" addr add "$ADDR/24" dev eth0
        ip -n "$NS" link set eth0 up
        ip -n "$NS" route add "$OTHER_NET.0/24" via "$GATEWAY" dev eth0
    done
    log "bridges ${BRIDGES[*]}, router $ROUTER_NS ${NETS[0]}.$ROUTER_HOST|${NETS[1]}.$ROUTER_HOST;" \
        "namespaces dnl-h1..dnl-h$n at $(host_list "$n")"
}

# "10.99.0.1 10.99.1.2 10.99.0.3" for a bed of 3 hosts.
host_list() {
    local n=$1 i out=()
    for ((i = 1; i <= n; i++)); do
        host_vars "$i"
        out+=("$ADDR")
    done
    echo "${out[*]}"
}

write_host_files() {
    local i=$1
    host_vars "$i"
    mkdir -p "$HDATA/docker" "$SSH_DIR" "$HRUN"
    # Its own trust key: otherwise every engine reads /etc/docker/key.json and
    # they all report the root engine's ID.
    cat >"$DAEMON_JSON" <<EOF
{
  "deprecated-key-path": "$HDATA/key.json"
}
EOF
    [[ -e $HOST_KEY ]] || ssh-keygen -q -t ed25519 -N '' -C "dnetlab-testbed-h$i" -f "$HOST_KEY"
    local sftp=/usr/lib/openssh/sftp-server
    {
        echo "# dnetlab test bed, host h$i (scripts/testbed.sh writes it; its down removes it)"
        echo "ListenAddress $ADDR"
        echo "Port 22"
        echo "AddressFamily inet"
        echo "HostKey $HOST_KEY"
        echo "PidFile $SSHD_PIDFILE"
        echo "PermitRootLogin prohibit-password"
        echo "PubkeyAuthentication yes"
        echo "AuthorizedKeysFile .ssh/authorized_keys"
        echo "PasswordAuthentication no"
        echo "KbdInteractiveAuthentication no"
        echo "UsePAM no"
        echo "StrictModes no"
        echo "UseDNS no"
        echo "PrintMotd no"
        echo "PrintLastLog no"
        echo "X11Forwarding no"
        # The SDK opens a channel per connection of its pool; the CLI's ssh
        # transport a connection per request.
        echo "MaxSessions 64"
        echo "MaxStartups 64:30:128"
        echo "SetEnv DOCKER_HOST=unix://$SOCK"
        [[ -x $sftp ]] && echo "Subsystem sftp $sftp"
    } >"$SSHD_CONFIG"
}

# Close every descriptor above stderr that this shell inherited. A daemon
# started here outlives the caller: a descriptor it inherits stays open as long
# as it runs. `flock /tmp/dnetlab-engine.lock pytest ...` hands the lock's
# descriptor down to a test that restarts a bed engine; the dockerd (and its
# containerd) then held that lock until the engine stopped, and every other
# run waited for it.
close_inherited_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        ((fd > 2)) || continue
        eval "exec $fd>&-" 2>/dev/null || true
    done
}

launch_dockerd() {
    local i=$1
    host_vars "$i"
    rm -f "$DOCKERD_PIDFILE"
    # dockerd reuses the containerd named there if kill(pid, 0) works, which is
    # true of a zombie too: it would then wait for a socket that never comes.
    if [[ -e $CONTAINERD_PIDFILE && -z $(live_pid "$CONTAINERD_PIDFILE" containerd) ]]; then
        rm -f "$CONTAINERD_PIDFILE"
    fi
    printf '\n===== %s testbed.sh: starting dockerd of h%s =====\n' "$(date -Is)" "$i" >>"$DOCKERD_LOG"
    # nsenter, not `ip netns exec`: that one remounts /sys and dockerd then
    # fails ("Devices cgroup isn't mounted"). Own session, stdio to the log,
    # cwd /: it outlives this script and holds none of its pipes.
    (close_inherited_fds && cd / && exec setsid nohup nsenter --net="/run/netns/$NS" dockerd \
        --config-file "$DAEMON_JSON" \
        --data-root "$HDATA/docker" \
        --exec-root "$EXEC_ROOT" \
        -H "unix://$SOCK" \
        --pidfile "$DOCKERD_PIDFILE" \
        --bip "172.31.$i.1/24" \
        --iptables=true \
        >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&-) &
    LAUNCHED[i]=$!
}

engine_id() { timeout 15 "$DOCKER" -H "unix://$1" info --format '{{.ID}}' 2>/dev/null; }

# Wait until the engine of host $1 answers; start it once more if it died.
wait_engine() {
    local i=$1 deadline=$((SECONDS + WAIT_SECS)) launches=1
    host_vars "$i"
    until engine_id "$SOCK" >/dev/null; do
        if [[ -z $(live_pid "$DOCKERD_PIDFILE" dockerd) ]] &&
            ! { [[ -n ${LAUNCHED[i]:-} ]] && pid_alive "${LAUNCHED[i]}"; }; then
            if ((launches >= 2)); then
                log "dockerd of h$i exited during start-up; last lines of $DOCKERD_LOG:"
                tail -n 30 "$DOCKERD_LOG" >&2 || true
                die "dockerd of h$i did not start"
            fi
            log "dockerd of h$i exited during start-up; trying once more"
            launch_dockerd "$i"
            host_vars "$i"
            launches=$((launches + 1))
        fi
        if ((SECONDS >= deadline)); then
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            die "no answer on $SOCK after ${WAIT_SECS}s"
        fi
        sleep 0.2
    done
}

host_key_pub() { awk '{ print $1, $2 }' "$HOST_KEY.pub"; }

start_sshd() {
    local i=$1 deadline scanned
    host_vars "$i"
    if [[ -n $(live_pid "$SSHD_PIDFILE" sshd) ]]; then
        log "h$i: sshd already runs"
        return 0
    fi
    rm -f "$SSHD_PIDFILE"
    # The privilege separation directory (the init script makes it, normally).
    mkdir -p /run/sshd
    chmod 0755 /run/sshd
    /usr/sbin/sshd -t -f "$SSHD_CONFIG" || die "sshd rejects $SSHD_CONFIG"
    printf '\n===== %s testbed.sh: starting sshd of h%s =====\n' "$(date -Is)" "$i" >>"$SSHD_LOG"
    # sshd detaches by itself (and needs its absolute path to re-exec); -E
    # sends its log to the file where its start-up errors go too.
    # shellcheck disable=SC2094
    # A mount namespace of its own (private: nothing propagates back to the
    # machine) where the login shells of its sessions read Debian's default
    # ~/.bashrc, not this machine's developer one (header).
    # shellcheck disable=SC2016
    (close_inherited_fds && cd / && unshare --mount --propagation private -- sh -c '
        if [ -f /root/.bashrc ] && [ -f /etc/skel/.bashrc ]; then
            mount --bind /etc/skel/.bashrc /root/.bashrc || exit 1
        fi
        exec nsenter --net="/run/netns/$1" /usr/sbin/sshd -f "$2" -E "$3"' sh "$NS" "$SSHD_CONFIG" "$SSHD_LOG" \
        >>"$SSHD_LOG" 2>&1 </dev/null 9>&-) || die "sshd of h$i did not start (see $SSHD_LOG)"
    deadline=$((SECONDS + WAIT_SECS))
    # Ready when it serves its own host key at its address.
    while :; do
        scanned=$(ssh-keyscan -T 2 -t ed25519 "$ADDR" 2>/dev/null | awk '{ print $2, $3 }' || true)
        [[ $scanned == "$(host_key_pub)" ]] && return 0
        if [[ -n $scanned ]]; then
            die "$ADDR:22 serves another host key than $HOST_KEY.pub"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 20 "$SSHD_LOG" >&2 || true
            die "sshd of h$i does not answer on $ADDR:22 after ${WAIT_SECS}s"
        fi
        sleep 0.1
    done
}

stop_sshd() {
    local i=$1 pid
    host_vars "$i"
    pid=$(live_pid "$SSHD_PIDFILE" sshd)
    if [[ -z $pid ]]; then
        log "h$i: sshd is not running"
        rm -f "$SSHD_PIDFILE"
        return 0
    fi
    # Only the listener: sessions open now go on (as on a real host).
    kill -TERM "$pid"
    wait_gone 10 "$pid" || {
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone 5 "$pid" || die "sshd of h$i (pid $pid) does not stop"
    }
    rm -f "$SSHD_PIDFILE"
    log "h$i: sshd stopped (pid $pid)"
}

set_known_host() {
    local i=$1
    host_vars "$i"
    touch "$KNOWN_HOSTS"
    remove_known_host "$ADDR"
    ends_with_newline "$KNOWN_HOSTS" || echo >>"$KNOWN_HOSTS"
    printf '%s %s\n' "$ADDR" "$(host_key_pub)" >>"$KNOWN_HOSTS"
}

expected_env() {
    local n=$1 i
    for ((i = 1; i <= n; i++)); do
        host_vars "$i"
        echo "DNETLAB_TESTBED_H$i=$ADDR"
    done
}

write_state() {
    local n=$1 i sep
    mkdir -p "$STATE_DIR"
    expected_env "$n" >"$STATE_DIR/hosts.env.tmp"
    {
        echo '{"hosts": ['
        for ((i = 1; i <= n; i++)); do
            host_vars "$i"
            sep=,
            ((i < n)) || sep=
            printf '  {"name": "h%s", "address": "%s", "socket": "%s", "ssh": "ssh://root@%s"}%s\n' \
                "$i" "$ADDR" "$SOCK" "$ADDR" "$sep"
        done
        echo ']}'
    } >"$STATE_DIR/hosts.json.tmp"
    mv -f "$STATE_DIR/hosts.env.tmp" "$STATE_DIR/hosts.env"
    mv -f "$STATE_DIR/hosts.json.tmp" "$STATE_DIR/hosts.json"
}

build() {
    local n=$1 i t
    t=$(now)
    ensure_root_key
    setup_network "$n"
    for ((i = 1; i <= n; i++)); do write_host_files "$i"; done
    declare -ga LAUNCHED=()
    # All engines start at once; each sshd meanwhile.
    for ((i = 1; i <= n; i++)); do launch_dockerd "$i"; done
    for ((i = 1; i <= n; i++)); do
        start_sshd "$i"
        set_known_host "$i"
    done
    for ((i = 1; i <= n; i++)); do wait_engine "$i"; done
    write_state "$n"
    log "built $n host(s) in $(elapsed "$t")s"
}

# --- health --------------------------------------------------------------------

# Whether a bed of exactly N hosts is up and every part of it answers; the
# first problem found is left in UNHEALTHY.
bed_healthy() {
    local n=$1 i
    local -a have want
    UNHEALTHY=
    [[ -r $STATE_DIR/hosts.env && -r $STATE_DIR/hosts.json ]] || {
        UNHEALTHY="no $STATE_DIR/hosts.env"
        return 1
    }
    [[ $(<"$STATE_DIR/hosts.env") == "$(expected_env "$n")" ]] || {
        UNHEALTHY="$STATE_DIR/hosts.env is not a bed of $n host(s)"
        return 1
    }
    ip -4 -o addr show dev "$BRIDGE" 2>/dev/null | grep -q " $BRIDGE_ADDR/24 " || {
        UNHEALTHY="no bridge $BRIDGE with $BRIDGE_ADDR/24"
        return 1
    }
    router_healthy || return 1
    forward_rules_present || {
        UNHEALTHY="FORWARD rules for $BRIDGE missing"
        return 1
    }
    mapfile -t have < <(bed_namespaces | sort)
    mapfile -t want < <(for ((i = 1; i <= n; i++)); do echo "dnl-h$i"; done | sort)
    [[ "${have[*]}" == "${want[*]}" ]] || {
        UNHEALTHY="namespaces are '${have[*]}', not '${want[*]}'"
        return 1
    }
    # The hosts one at a time cost an SSH login each: all at once.
    local tmp pids=() reason
    tmp=$(mktemp -d)
    for ((i = 1; i <= n; i++)); do
        host_healthy "$i" >"$tmp/$i" 2>/dev/null &
        pids+=($!)
    done
    wait "${pids[@]}" || true
    for ((i = 1; i <= n; i++)); do
        reason=$(<"$tmp/$i")
        if [[ -n $reason ]]; then
            UNHEALTHY=$reason
            break
        fi
    done
    rm -rf "$tmp"
    [[ -z $UNHEALTHY ]]
}

# The second bridge, the router and the root namespace's route through it.
router_healthy() {
    local side
    for side in 0 1; do
        ip -o link show dev "${BRIDGES[side]}" 2>/dev/null | grep -q "state UP" || {
            UNHEALTHY="bridge ${BRIDGES[side]} is not up"
            return 1
        }
        ip -o link show dev "dnl-tb-r$side" 2>/dev/null | grep -q "master ${BRIDGES[side]} .*state UP" || {
            UNHEALTHY="the router's leg dnl-tb-r$side is not up in ${BRIDGES[side]}"
            return 1
        }
    done
    router_present || {
        UNHEALTHY="no router namespace $ROUTER_NS"
        return 1
    }
    [[ $(nsenter --net="/run/netns/$ROUTER_NS" sysctl -n net.ipv4.ip_forward 2>/dev/null) == 1 ]] || {
        UNHEALTHY="the router $ROUTER_NS does not forward"
        return 1
    }
    ip -4 route show "${NETS[1]}.0/24" | grep -q "via ${NETS[0]}.$ROUTER_HOST dev $BRIDGE" || {
        UNHEALTHY="the root namespace has no route to ${NETS[1]}.0/24 via ${NETS[0]}.$ROUTER_HOST"
        return 1
    }
}

# Prints what is wrong with host $1, or nothing.
host_healthy() {
    local i=$1 id remote
    host_vars "$i"
    if ! ip -o link show dev "$VETH" 2>/dev/null | grep -q "master $HBRIDGE .*state UP"; then
        echo "h$i: $VETH not up in $HBRIDGE"
    elif ! ip -n "$NS" -4 -o addr show dev eth0 2>/dev/null | grep -q " $ADDR/24 "; then
        echo "h$i: eth0 has not $ADDR/24"
    elif ! ip -n "$NS" -4 route show "$OTHER_NET.0/24" 2>/dev/null | grep -q "via $GATEWAY "; then
        echo "h$i: no route to $OTHER_NET.0/24 via $GATEWAY"
    elif [[ -z $(live_pid "$DOCKERD_PIDFILE" dockerd) ]]; then
        echo "h$i: dockerd not running"
    elif [[ -z $(live_pid "$SSHD_PIDFILE" sshd) ]]; then
        echo "h$i: sshd not running"
    elif ! id=$(engine_id "$SOCK"); then
        echo "h$i: no engine answers on $SOCK"
    # Key, known_hosts, SetEnv: `docker` over SSH reaches this very engine.
    elif ! remote=$(timeout 20 ssh "${SSH_OPTS[@]}" "root@$ADDR" "docker info --format '{{.ID}}'" 9>&-); then
        echo "h$i: ssh root@$ADDR docker info fails"
    elif [[ $remote != "$id" ]]; then
        echo "h$i: docker over ssh reaches engine $remote, not $id"
    fi
    return 0
}

# --- commands ------------------------------------------------------------------

check_count() {
    if ! [[ $1 =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > MAX_HOSTS)); then
        die "host count must be 1..$MAX_HOSTS, not '$1'"
    fi
}

# A host number of the bed that is up.
check_host() {
    if ! [[ $1 =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > MAX_HOSTS)); then
        die "host must be a number 1..$MAX_HOSTS, not '$1'"
    fi
    host_vars "$1"
    [[ -e /run/netns/$NS && -r $SSHD_CONFIG && -r $DAEMON_JSON ]] ||
        die "host h$1 is not part of the bed (run: scripts/testbed.sh up N)"
}

cmd_up() {
    local n=6 fresh=0 at_least=0 t have
    while (($#)); do
        case $1 in
        --fresh) fresh=1 ;;
        --at-least) at_least=1 ;;
        *) n=$1 ;;
        esac
        shift
    done
    check_count "$n"
    take_lock
    t=$(now)
    have=$n
    if ((at_least)); then
        have=$(grep -c '^DNETLAB_TESTBED_H' "$STATE_DIR/hosts.env" 2>/dev/null || true)
        ((have >= n)) || have=$n
    fi
    if ((!fresh)) && bed_healthy "$have"; then
        log "a healthy bed of $have host(s) is already up (checked in $(elapsed "$t")s): $(host_list "$have")"
        return 0
    fi
    if ((fresh)); then
        log "--fresh: building the bed anew"
    elif [[ -d $STATE_DIR || -d $RUN_BASE || -d $DATA_BASE ]] || ip link show "$BRIDGE" >/dev/null 2>&1 ||
        router_present; then
        log "rebuilding: $UNHEALTHY"
    fi
    [[ $(id -u) -eq 0 ]] || die "the test bed needs root (namespaces, bridge, iptables)"
    NO_SERVICE_START=1 ensure_packages "${PACKAGES[@]}"
    preflight
    clear_all
    build "$n"
    bed_healthy "$n" || die "the bed is not healthy right after building it: $UNHEALTHY"
    log "up: $n host(s) at $(host_list "$n") in $(elapsed "$t")s; see $STATE_DIR/hosts.json"
}

cmd_down() {
    local t
    take_lock
    t=$(now)
    [[ $(id -u) -eq 0 ]] || die "the test bed needs root"
    clear_all
    log "down: nothing of the bed is left ($(elapsed "$t")s)"
}

cmd_status() {
    local n i ok=0 id remote
    if [[ ! -r $STATE_DIR/hosts.env ]]; then
        log "no bed is up (no $STATE_DIR/hosts.env)"
        return 1
    fi
    n=$(grep -c '^DNETLAB_TESTBED_H' "$STATE_DIR/hosts.env" || true)
    for ((i = 1; i <= n; i++)); do
        host_vars "$i"
        id=$(engine_id "$SOCK") || id=-
        remote=$(timeout 20 ssh "${SSH_OPTS[@]}" "root@$ADDR" "docker info --format '{{.ID}}'" 2>/dev/null) ||
            remote=-
        printf 'h%s %s dockerd=%s sshd=%s engine=%s ssh=%s\n' "$i" "$ADDR" \
            "$(live_pid "$DOCKERD_PIDFILE" dockerd || true)" "$(live_pid "$SSHD_PIDFILE" sshd || true)" \
            "$id" "$(if [[ $remote == "$id" && $id != - ]]; then echo ok; else echo FAIL; fi)"
    done
    if bed_healthy "$n"; then ok=1; fi
    if ((ok)); then log "healthy: $n host(s)"; else log "not healthy: $UNHEALTHY"; fi
    ((ok))
}

cmd_load_image() {
    (($# == 2)) || die "usage: scripts/testbed.sh load-image I|all IMAGE"
    local target=$1 image=$2 want have i t
    local -a hosts
    take_lock
    if [[ $target == all ]]; then
        mapfile -t hosts < <(sed -n 's/^DNETLAB_TESTBED_H\([0-9]\{1,\}\)=.*/\1/p' "$STATE_DIR/hosts.env" 2>/dev/null || true)
        ((${#hosts[@]})) || die "no bed is up (no $STATE_DIR/hosts.env)"
    else
        check_host "$target"
        hosts=("$target")
    fi
    want=$("$DOCKER" -H "unix://$LOCAL_SOCK" image inspect --format '{{.Id}}' "$image" 2>/dev/null) ||
        die "$image is not on the local engine ($LOCAL_SOCK): for busybox:latest run make engine"
    for i in "${hosts[@]}"; do
        host_vars "$i"
        have=$("$DOCKER" -H "unix://$SOCK" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
        if [[ $have == "$want" ]]; then
            log "h$i already has $image"
            continue
        fi
        t=$(now)
        "$DOCKER" -H "unix://$LOCAL_SOCK" save "$image" | "$DOCKER" -H "unix://$SOCK" load -q >/dev/null ||
            die "loading $image into h$i failed"
        log "loaded $image into h$i ($(elapsed "$t")s)"
    done
}

cmd_stop_engine() {
    local i=$1 sig=TERM pid ctr
    [[ ${2:-} == --kill ]] && sig=KILL
    [[ -z ${2:-} || ${2:-} == --kill ]] || die "usage: scripts/testbed.sh stop-engine I [--kill]"
    take_lock
    check_host "$i"
    pid=$(live_pid "$DOCKERD_PIDFILE" dockerd)
    ctr=$(live_pid "$CONTAINERD_PIDFILE" containerd)
    if [[ -z $pid ]]; then
        log "h$i: dockerd is not running"
        return 0
    fi
    kill "-$sig" "$pid"
    # SIGTERM: dockerd stops its containers (their stop timeout) and containerd.
    if ! wait_gone "$WAIT_SECS" "$pid"; then
        log "h$i: dockerd ignored SIGTERM for ${WAIT_SECS}s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone 10 "$pid" || die "dockerd of h$i (pid $pid) does not stop"
    fi
    # Its containerd goes with it (SIGKILL'd with it when dockerd is).
    [[ -z $ctr ]] || wait_gone 15 "$ctr" || log "h$i: containerd (pid $ctr) still runs"
    log "h$i: dockerd stopped with SIG$sig (pid $pid)"
}

cmd_start_engine() {
    local i=$1
    take_lock
    check_host "$i"
    if [[ -n $(live_pid "$DOCKERD_PIDFILE" dockerd) ]]; then
        wait_engine "$i"
        log "h$i: dockerd already runs"
        return 0
    fi
    declare -ga LAUNCHED=()
    launch_dockerd "$i"
    wait_engine "$i"
    log "h$i: engine answers on $SOCK"
}

main() {
    local cmd=${1:-}
    (($#)) && shift
    case $cmd in
    up) cmd_up "$@" ;;
    down)
        (($# == 0)) || die "usage: scripts/testbed.sh down"
        cmd_down
        ;;
    status) cmd_status ;;
    load-image) cmd_load_image "$@" ;;
    stop-sshd | start-sshd)
        (($# == 1)) || die "usage: scripts/testbed.sh $cmd I"
        take_lock
        check_host "$1"
        if [[ $cmd == stop-sshd ]]; then stop_sshd "$1"; else
            start_sshd "$1"
            log "h$1: sshd answers on $ADDR:22"
        fi
        ;;
    stop-engine)
        (($# >= 1 && $# <= 2)) || die "usage: scripts/testbed.sh stop-engine I [--kill]"
        cmd_stop_engine "$@"
        ;;
    start-engine)
        (($# == 1)) || die "usage: scripts/testbed.sh start-engine I"
        cmd_start_engine "$1"
        ;;
    -h | --help | help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        ;;
    *) die "unknown command '${cmd}' (try --help)" ;;
    esac
}

main "$@"
