#!/usr/bin/env bash
# Build dnetlab's own traffic-control image, dnetlab/nettools:latest, from this
# machine's Debian packages (no registry is reached, nothing is pulled):
#
#   tc        iproute2's tc, with its qdisc/action modules (/usr/lib/*/tc)
#   iptables  xtables-nft-multi (iptables, ip6tables; nf_tables back end), with
#             the xtables extensions: not used for impairments (see
#             dnetlab/engine/impair.py for why), there for looking at a lab
#   ip        iproute2's ip
#   tcpdump   for `dnetlab capture` (pcap from a container's namespace)
#   sh        the machine's dash; busybox (static) for grep, awk, cat, ...
#
# Why dash and not busybox's sh: Debian builds busybox-static with
# FEATURE_PREFER_APPLETS, so its sh runs its own `tc` and `ip` applets by name
# even when /usr/sbin/tc is iproute2's (and busybox's tc cannot add a tbf).
#
# dnetlab runs it, with NET_ADMIN, in a lab container's network namespace
# (--network container:<id>) to apply, read back and remove impairments
# (docs/impairments.md). Each binary is copied with the shared libraries ldd
# names, so the image holds only what these tools need (about 8 MB).
# Label dnetlab.tools.image=1, and dnetlab.tools.contents=$CONTENTS: an image whose
# contents label differs (one built before tcpdump was added) is built again, so
# `make engine` / `make test` bring an old machine up to date.
#
#   scripts/nettools-image.sh            build it when the engine lacks it (or it is old)
#   scripts/nettools-image.sh --rebuild  build it again
set -euo pipefail

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export DOCKER_HOST=${DNETLAB_IMAGE_DOCKER_HOST:-unix:///var/run/docker.sock}
unset DOCKER_CONTEXT

IMAGE=dnetlab/nettools:latest
# What the image holds; change it whenever make_rootfs adds a tool (dnetlab checks it too:
# dnetlab/engine/capture.py CONTENTS_LABEL)
CONTENTS=tc,ip,iptables,tcpdump
BUSYBOX_BIN=/bin/busybox
PATH_IN_IMAGE=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'nettools-image: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
image_script_start "$@"

if ((!rebuild)) && "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
    have=$("$DOCKER" image inspect --format '{{index .Config.Labels "dnetlab.tools.contents"}}' \
        "$IMAGE" 2>/dev/null || true)
    if [[ $have == "$CONTENTS" ]]; then
        log "$IMAGE present"
        exit 0
    fi
    log "$IMAGE holds ${have:-tc,ip,iptables}, not $CONTENTS: building it again"
fi

need_packages() {
    local missing=() p
    for p in iproute2 iptables busybox-static tcpdump; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing Debian packages ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# Copy a program of this machine and the shared libraries it needs.
copy_program() {
    local root=$1 src=$2 dest=$3 lib
    install -D -m 0755 "$(readlink -f "$src")" "$root$dest"
    while read -r lib; do
        [[ -e $root$lib ]] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
    done < <(ldd "$src" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
}

make_rootfs() {
    local root=$1 xt tcmods so
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,sys,dev,run,var/lib}
    chmod 1777 "$root/tmp"
    install -m 0755 "$BUSYBOX_BIN" "$root/bin/busybox"
    chroot "$root" /bin/busybox --install -s
    # iproute2's tc and ip, and dash as sh (see the top: busybox's sh would run
    # its own applets instead)
    rm -f "$root"/{bin,sbin,usr/bin,usr/sbin}/{tc,ip,sh}
    copy_program "$root" "$(command -v dash)" /bin/dash
    ln -s dash "$root/bin/sh"
    copy_program "$root" "$(command -v ip)" /usr/sbin/ip
    copy_program "$root" "$(command -v tc)" /usr/sbin/tc
    copy_program "$root" "$(command -v xtables-nft-multi)" /usr/sbin/xtables-nft-multi
    copy_program "$root" "$(PATH=$PATH:/usr/sbin command -v tcpdump)" /usr/sbin/tcpdump
    for t in iptables ip6tables iptables-save ip6tables-save; do
        ln -sf xtables-nft-multi "$root/usr/sbin/$t"
    done
    xt=$(dirname "$(readlink -f /usr/lib/x86_64-linux-gnu/xtables/libxt_statistic.so 2>/dev/null ||
        find /usr/lib -name libxt_statistic.so | head -1)")
    [[ -d $xt ]] || die "no xtables extensions directory (libxt_statistic.so) found"
    mkdir -p "$root$xt"
    cp -a "$xt"/. "$root$xt"/
    for so in "$xt"/*.so; do
        while read -r lib; do
            [[ -e $root$lib ]] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
        done < <(ldd "$so" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
    done
    tcmods=$(dirname "$(find /usr/lib -path '*/tc/*.dist' | head -1)")
    if [[ -d $tcmods ]]; then
        mkdir -p "$root$tcmods"
        cp -a "$tcmods"/. "$root$tcmods"/
    fi
    # nftables' iptables needs the protocol and service names
    [[ -f /etc/protocols ]] && cp /etc/protocols "$root/etc/"
    [[ -f /etc/services ]] && cp /etc/services "$root/etc/"
    printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\n' >"$root/etc/group"
}

main() {
    local root old new out iproute iptables
    need_packages
    [[ -x $BUSYBOX_BIN ]] || die "$BUSYBOX_BIN missing"
    TMP_ROOT=$(mktemp -d /tmp/dnetlab-nettools.XXXXXX)
    trap 'rm -rf "$TMP_ROOT"' EXIT
    root=$TMP_ROOT/root
    make_rootfs "$root"
    iproute=$(dpkg-query -W -f='${Version}' iproute2)
    iptables=$(dpkg-query -W -f='${Version}' iptables)
    old=$("$DOCKER" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
    new=$(tar -C "$root" --numeric-owner --owner=0 --group=0 -c . |
        "$DOCKER" import \
            --change 'CMD ["sh"]' \
            --change "ENV PATH=$PATH_IN_IMAGE" \
            --change 'LABEL dnetlab.tools.image=1' \
            --change "LABEL dnetlab.tools.contents=$CONTENTS" \
            --message "dnetlab scripts/nettools-image.sh: iproute2 $iproute, iptables $iptables" \
            - "$IMAGE")
    if [[ -n $old && $old != "$new" ]]; then
        "$DOCKER" rmi "$old" >/dev/null 2>&1 || true
    fi
    # The check runs in a namespace of its own (--network none): the rules and qdisc it
    # adds on lo go away with it.
    if ! out=$("$DOCKER" run --rm --network none --cap-add NET_ADMIN --label dnetlab.test=1 \
        "$IMAGE" sh -c '
            set -e
            tc qdisc replace dev lo root tbf rate 1mbit burst 32kbit latency 400ms
            tc qdisc show dev lo | grep -q "tbf.*rate 1Mbit"
            ip -o link show lo | grep -q LOOPBACK
            tc qdisc del dev lo root
            tc qdisc add dev lo root handle d1: htb default 1
            tc class add dev lo parent d1: classid d1:2 htb rate 8kbit quantum 1514
            tc qdisc add dev lo parent d1:2 handle d2: blackhole
            tc filter add dev lo parent d1: protocol all prio 1 bpf \
                bytecode "4,32 0 0 4294963256,53 0 1 1288490189,6 0 0 0,6 0 0 13697026" flowid d1:2
            tc filter show dev lo parent d1: | grep -q bytecode
            iptables -N DNETLAB-CHECK
            iptables -S DNETLAB-CHECK >/dev/null
            tcpdump -Z root -i lo -d icmp >/dev/null
            echo "tc tbf, htb with a blackhole and a bpf filter, iptables and tcpdump work"' 2>&1); then
        printf '%s\n' "$out" >&2
        "$DOCKER" rmi "$IMAGE" >/dev/null 2>&1 || true # never leave a broken image behind
        die "$IMAGE does not work as intended"
    fi
    log "built $IMAGE ($(du -sh "$root" | cut -f1)): ${out##*$'\n'}"
}

main
