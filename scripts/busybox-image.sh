#!/usr/bin/env bash
# Build the two local images the test bed needs, each only when the engine
# does not have it yet (no registry can be reached, so nothing is pulled):
#
#   busybox:latest       Debian's static busybox (busybox-static 1.35) with
#                        every applet linked: ping, ping6, traceroute(6),
#                        nslookup, nc, wget, httpd, ip, ifconfig, route, arp...
#                        CMD ["sh"], a normal PATH. About 2 MB.
#   dnetlab/bare:latest  an image WITHOUT the probe tools (ping, ping6,
#                        traceroute, traceroute6, nslookup, nc, wget), for
#                        tests of what happens when a node lacks them.
#                        Label dnetlab.test.image=1.
#
# Why dnetlab/bare is not "busybox minus a few links": Debian builds
# busybox-static with FEATURE_SH_STANDALONE and FEATURE_PREFER_APPLETS, so its
# `sh` (and `env`, `timeout`, `xargs`, ...) run any compiled-in applet by name
# even when no link exists: `sh -c 'command -v ping'` still says "ping". So in
# the bare image `sh` is Debian's dash, `env`/`timeout`/`xargs`/`nice`/`nohup`
# are the machine's coreutils/findutils (all need only libc, which is copied
# in), and busybox applets that exec other programs are not linked. Only an
# explicit `busybox ping` still reaches the applet.
#
#   scripts/busybox-image.sh            build what is missing
#   scripts/busybox-image.sh --rebuild  rebuild both images
set -euo pipefail

# dockerd, chroot and friends live in sbin; a caller's PATH may lack it.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

export DOCKER_HOST=unix:///var/run/docker.sock
unset DOCKER_CONTEXT

BUSYBOX_BIN=/bin/busybox
IMAGE=busybox:latest
BARE=dnetlab/bare:latest
PATH_IN_IMAGE=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PROBE_TOOLS=(ping ping6 traceroute traceroute6 nslookup nc wget)
# busybox applets that exec a program by name (and so would find a hidden
# applet through FEATURE_PREFER_APPLETS); not linked in the bare image.
EXEC_APPLETS=(sh ash chroot cttyhack env ionice linux32 linux64 nsenter run-parts
    setpriv setsid start-stop-daemon su taskset time timeout unshare watch xargs)
# Replacements from the machine for the common ones (each needs only libc).
HOST_TOOLS=(dash env timeout xargs nice nohup setsid)

log() { printf 'busybox-image: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
image_script_start "$@"

have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

need_busybox() {
    if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
        log "installing Debian package busybox-static"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
    fi
    [[ -x $BUSYBOX_BIN ]] || die "$BUSYBOX_BIN missing"
    file_is_static "$BUSYBOX_BIN" || die "$BUSYBOX_BIN is not statically linked (package busybox, not busybox-static?)"
}

file_is_static() {
    # ldd prints "not a dynamic executable" (and fails) for a static binary.
    ! ldd "$1" >/dev/null 2>&1
}

# A root filesystem: static busybox + every applet link + minimal /etc.
make_rootfs() {
    local root=$1 bad n
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var/www,proc,sys,dev}
    chmod 1777 "$root/tmp"
    chmod 0700 "$root/root"
    install -m 0755 "$BUSYBOX_BIN" "$root/bin/busybox"
    # Run inside the new root so that each link points at /bin/busybox there
    # (in a chroot busybox falls back to its absolute argv[0] as the target).
    chroot "$root" /bin/busybox --install -s
    bad=$(find "$root" -type l ! -lname /bin/busybox -printf '%P -> %l\n')
    [[ -z $bad ]] || die "links not pointing at /bin/busybox: $bad"
    n=$(find "$root" -type l | wc -l)
    ((n > 200)) || die "only $n applet links were installed"
    for t in sh ping traceroute nslookup nc wget httpd ip ifconfig route; do
        [[ -L $root/bin/$t || -L $root/sbin/$t || -L $root/usr/bin/$t || -L $root/usr/sbin/$t ]] ||
            die "applet link $t missing"
    done
    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
    log "root filesystem: $n applet links -> /bin/busybox"
}

find_link() {
    local root=$1 name=$2 d
    for d in bin sbin usr/bin usr/sbin; do
        if [[ -L $root/$d/$name ]]; then
            echo "$root/$d/$name"
            return 0
        fi
    done
}

# Copy a program of this machine and the shared libraries it needs.
copy_host_program() {
    local root=$1 src=$2 dest=$3 lib
    install -D -m 0755 "$src" "$root$dest"
    while read -r lib; do
        [[ -e $root$lib ]] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
    done < <(ldd "$src" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
}

import_rootfs() {
    local root=$1 tag=$2 old new
    shift 2
    old=$("$DOCKER" image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
    new=$(tar -C "$root" --numeric-owner --owner=0 --group=0 -c . |
        "$DOCKER" import \
            --change 'CMD ["sh"]' \
            --change "ENV PATH=$PATH_IN_IMAGE" \
            "$@" - "$tag")
    # A rebuild leaves the old image untagged: drop it unless something uses it.
    if [[ -n $old && $old != "$new" ]]; then
        "$DOCKER" rmi "$old" >/dev/null 2>&1 || true
    fi
}

# Runs a check in a throw-away container with no network at all (loopback
# only); prints its output only when it fails.
run_check() {
    local image=$1 script=$2 out
    if ! out=$("$DOCKER" run --rm --network none --label dnetlab.test=1 "$image" sh -c "$script" 2>&1); then
        printf '%s\n' "$out" >&2
        die "$image does not work as intended"
    fi
    log "checked $image: ${out##*$'\n'}"
}

build_busybox() {
    local root=$1 t0 version
    t0=$(date +%s.%N)
    version=$(dpkg-query -W -f='${Version}' busybox-static)
    # No LABEL here: image labels end up on every container made from it.
    import_rootfs "$root" "$IMAGE" \
        --message "dnetlab scripts/busybox-image.sh: Debian busybox-static $version"
    log "built $IMAGE ($(elapsed "$t0")s)"
    # nslookup has no server to ask here and may fail: only report it.
    run_check "$IMAGE" '
        ping -c1 -W2 127.0.0.1 || exit 1
        nslookup localhost 127.0.0.1 >/dev/null 2>&1 || echo "(nslookup: no server, as expected)"
        which traceroute nc wget httpd ip ifconfig route || exit 1
        echo "ping 127.0.0.1 answers; traceroute nc wget httpd ip ifconfig route present"
    '
}

build_bare() {
    local root=$1 t0 t l
    t0=$(date +%s.%N)
    for t in "${PROBE_TOOLS[@]}" "${EXEC_APPLETS[@]}"; do
        l=$(find_link "$root" "$t")
        [[ -z $l ]] || rm -f "$l"
    done
    for t in "${HOST_TOOLS[@]}"; do
        copy_host_program "$root" "$(command -v "$t")" "/bin/$t"
    done
    ln -s dash "$root/bin/sh"
    import_rootfs "$root" "$BARE" \
        --change 'LABEL dnetlab.test.image=1' \
        --message "dnetlab scripts/busybox-image.sh: busybox-static without probe tools, dash as sh"
    log "built $BARE ($(elapsed "$t0")s)"
    # Nothing may find a probe tool, whichever way it is asked for.
    run_check "$BARE" '
        for t in ping ping6 traceroute traceroute6 nslookup nc wget; do
            if command -v "$t" || which "$t"; then echo "bare image has $t" >&2; exit 1; fi
        done
        if timeout 2 ping -c1 127.0.0.1 2>/dev/null; then echo "timeout finds ping" >&2; exit 1; fi
        if env ping -c1 127.0.0.1 2>/dev/null; then echo "env finds ping" >&2; exit 1; fi
        if echo 127.0.0.1 | xargs ping -c1 2>/dev/null; then echo "xargs finds ping" >&2; exit 1; fi
        ls / >/dev/null && sleep 0 && echo "sh works; no probe tool found by sh, timeout, env, xargs"
    '
}

main() {
    local want_busybox=0 want_bare=0
    if ((rebuild)) || ! have_image "$IMAGE"; then want_busybox=1; fi
    if ((rebuild)) || ! have_image "$BARE"; then want_bare=1; fi
    if ((!want_busybox && !want_bare)); then
        log "$IMAGE and $BARE present"
        return 0
    fi
    need_busybox
    TMP_ROOT=$(mktemp -d /tmp/dnetlab-rootfs.XXXXXX)
    trap 'rm -rf "$TMP_ROOT"' EXIT
    make_rootfs "$TMP_ROOT/root"
    if ((want_busybox)); then build_busybox "$TMP_ROOT/root"; fi
    if ((want_bare)); then build_bare "$TMP_ROOT/root"; fi # changes the root: last
}

main
