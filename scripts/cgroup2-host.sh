#!/usr/bin/env bash
# A real cgroup v2 Docker engine for machines whose own kernel is cgroup v1/hybrid: a Debian 12
# guest under qemu (software emulation, TCG) running dockerd on cgroup v2, reached over a TCP
# port forwarded to 127.0.0.1 only. See docs/cgroup2-host.md for usage, timings and pitfalls.
#
#   scripts/cgroup2-host.sh build                 build (or reuse) the cached guest image
#   scripts/cgroup2-host.sh up [--driver systemd|cgroupfs] [--port N] [--smp N] [--mem MiB]
#                              [--net restrict|nat] [--timeout S]
#                                                 boot it; prints `export DOCKER_HOST=…`
#   scripts/cgroup2-host.sh down                  stop the qemu that `up` started
#   scripts/cgroup2-host.sh status                running?, port, driver, guest cgroup info
#   scripts/cgroup2-host.sh env                   print the export line of the running guest
#   scripts/cgroup2-host.sh cached                exit 0 when this configuration's guest image is
#                                                 built (prints its folder), 1 when build has work
#
# Only the export line goes to stdout (so `eval "$(scripts/cgroup2-host.sh up)"` works);
# progress goes to stderr.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GUEST_FILES="$SCRIPT_DIR/cgroup2-guest/rootfs"
# --- build configuration (everything here is part of the cache key) ---------------------------
# Two guests: bookworm (Docker 20.10, the old end of the range, graph driver) and forky (Debian
# testing: Docker 28.5, containerd 2.1, runc 1.3, containerd image store on — the students'
# Ubuntu 24.04 engine as near as Debian's mirror gets). Each has its own cache and run dir.
SUITE=${LABGRADE_CGROUP2_SUITE:-bookworm}
case "$SUITE" in
  bookworm) CACHE_NAME=cgroup2-guest; DEF_STORE=graph ;;
  *) CACHE_NAME="cgroup2-guest-$SUITE"; DEF_STORE=containerd ;;
esac
# graph: dockerd's own image store on a graph driver (overlay2); containerd: the containerd
# image store (daemon.json features.containerd-snapshotter), as fresh Docker 29 installs have it.
STORE=${LABGRADE_CGROUP2_STORE:-$DEF_STORE}
case "$STORE" in graph|containerd) ;; *) echo "LABGRADE_CGROUP2_STORE must be graph or containerd" >&2; exit 2 ;; esac
CACHE_ROOT="${LABGRADE_CACHE:-/var/cache/labgrade}/$CACHE_NAME"
RUN_DIR="${LABGRADE_CGROUP2_RUN:-$CACHE_ROOT/run}"
# qemu eats every core it is given: keep it behind other work on a shared machine.
NICE=${LABGRADE_CGROUP2_NICE:-19}
MIRROR=${LABGRADE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
GUEST_PACKAGES="systemd,systemd-sysv,udev,dbus,linux-image-amd64,docker.io,iproute2,procps,ca-certificates"
DISK_SIZE=${LABGRADE_CGROUP2_DISK:-8G}          # sparse; the per-boot overlay grows into it
MASK_UNITS="apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service
fstrim.timer man-db.timer getty@tty1.service systemd-networkd-wait-online.service
systemd-timesyncd.service"
# Images of the host engine copied into the guest (see "images of the host engine" below).
IMAGES=${LABGRADE_CGROUP2_IMAGES:-ubuntu:24.04}
# preload: loaded once at build time into a qcow2 layer that every boot starts from (default);
# disk: attached at each `up` as a raw disk and loaded by the guest; tcp: `docker load` over
# DOCKER_HOST at each `up`; none. See docs/cgroup2-host.md for the measured times.
IMAGE_MODE=${LABGRADE_CGROUP2_IMAGE_MODE:-preload}
PRELOAD_TIMEOUT=${LABGRADE_CGROUP2_PRELOAD_TIMEOUT:-900}

# --- run defaults ---------------------------------------------------------------------------------
DEF_PORT=${LABGRADE_CGROUP2_PORT:-12375}
DEF_SMP=${LABGRADE_CGROUP2_SMP:-2}
DEF_MEM=${LABGRADE_CGROUP2_MEM:-4096}
DEF_DRIVER=${LABGRADE_CGROUP2_DRIVER:-systemd}
DEF_NET=${LABGRADE_CGROUP2_NET:-nat}          # nat: restrict=off (guest reaches the apt mirror); restrict: no egress
DEF_TIMEOUT=${LABGRADE_CGROUP2_TIMEOUT:-240}
# apparmor=0: Debian's docker.io would load a profile with an apparmor_parser the guest lacks,
# and every `docker run` would fail. tsc=reliable: without it the guest picks HPET, very slow to
# emulate. modprobe.blacklist: drivers udev would load for emulated hardware nobody uses (each
# module load costs about a second under TCG; kvm* appear because -cpu max offers SVM/VMX).
KERNEL_ARGS="root=/dev/vda rw console=ttyS0 systemd.unified_cgroup_hierarchy=1 apparmor=0 tsc=reliable
systemd.unit=multi-user.target
modprobe.blacklist=floppy,kvm,kvm_amd,kvm_intel,cfg80211,powernow_k8,pcspkr,joydev,serio_raw,evdev"
KERNEL_ARGS="$(printf '%s' "$KERNEL_ARGS" | tr '\n' ' ') labgrade.store=$STORE"

say() { printf 'cgroup2-host: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

need_root() { [ "$(id -u)" -eq 0 ] || die "$1 needs root (apt-get, debootstrap, chroot)."; }

# --- host packages --------------------------------------------------------------------------------
ensure_host_packages() {
  local missing=()
  command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
  command -v qemu-img >/dev/null 2>&1 || missing+=(qemu-utils)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  # mkfs.ext4 -d (populate from a directory) needs e2fsprogs >= 1.43.
  if ! command -v mkfs.ext4 >/dev/null 2>&1 || ! { mkfs.ext4 2>&1 || true; } | grep -q -- '-d root-directory'; then
    missing+=(e2fsprogs)
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root "installing ${missing[*]}"
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them."
  local t0; t0=$(now)
  say "installing host packages: ${missing[*]}…"
  export DEBIAN_FRONTEND=noninteractive
  # Other work may hold the dpkg lock: wait for it rather than fail.
  local apt=(apt-get -y -qq -o DPkg::Lock::Timeout=600)
  # Install from the lists we have; only when that fails (no or stale lists) run apt-get update.
  if ! "${apt[@]}" install --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    "${apt[@]}" update
    "${apt[@]}" install --no-install-recommends "${missing[@]}" >/dev/null
  fi
  say "host packages installed in $(since "$t0") s"
}

# --- the guest root file system -----------------------------------------------------------------
# Two cached stages, each keyed by a hash of what makes it (the functions' text via declare -f):
#   rootfs-KEY1.tar   debootstrap's output       KEY1: suite, mirror, packages, debootstrap_root
#   KEY2/base.img …   configured, packed image   KEY2: KEY1 + configure_root, scripts/cgroup2-guest/,
#                                                      disk size, masked units
# so editing a guest helper file repacks in seconds instead of running debootstrap again.
debootstrap_root() { # $1 = target dir
  mkdir -p "$CACHE_ROOT/debs"
  local script=()
  # debootstrap has no script for a suite newer than itself; testing/unstable share sid's.
  [ -e "/usr/share/debootstrap/scripts/$SUITE" ] || script=(/usr/share/debootstrap/scripts/sid)
  debootstrap --variant=minbase --include="$GUEST_PACKAGES" --cache-dir="$CACHE_ROOT/debs" \
    "$SUITE" "$1" "$MIRROR" "${script[@]}"
}

configure_root() { # $1 = target dir
  local root=$1 unit
  # Debian's docker.io 28 (forky) no longer ships the CLI: /usr/bin/docker is in docker-cli, only
  # Recommended, which debootstrap leaves out. The guest's own image loader needs it (without it
  # every preload failed: "the guest did not load ubuntu:24.04"). Installed with the guest's apt
  # and the host's resolver (the guest's resolv.conf is copied in below).
  if [ ! -x "$root/usr/bin/docker" ]; then
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    # debootstrap's own lists are named debootstrap.invalid_…: apt needs its lists fetched once.
    chroot "$root" apt-get -qq update
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-cli
    [ -x "$root/usr/bin/docker" ] || { echo "docker-cli did not install /usr/bin/docker" >&2; return 1; }
  fi
  # Helper files (network, /etc/default/docker, the daemon.json unit, fstab, hostname…).
  cp -R "$GUEST_FILES"/. "$root"/
  # A fixed machine-id: an empty one would make every boot a "first boot".
  printf '%s\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >"$root/etc/machine-id"
  systemctl --root="$root" enable systemd-networkd.service labgrade-docker-config.service \
    labgrade-load-images.service docker.service containerd.service >/dev/null 2>&1
  # Nothing that wakes the emulated CPU for nothing, and no wait for a network that is static.
  for unit in $MASK_UNITS; do ln -sf /dev/null "$root/etc/systemd/system/$unit"; done
  # Serial console only: getty on ttyS0 stays (the kernel's console=ttyS0 spawns it).
  # Keep the image small: no apt lists or downloaded packages.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  rm -f "$root"/etc/ssh/ssh_host_* 2>/dev/null || true
}

rootfs_key() {
  { printf '%s\n' "$SUITE" "$MIRROR" "$GUEST_PACKAGES"; declare -f debootstrap_root; } |
    sha256sum | cut -c1-16
}

config_key() {
  {
    rootfs_key
    printf '%s\n' "$DISK_SIZE" "$MASK_UNITS"
    declare -f configure_root
    (cd "$GUEST_FILES" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
}

# Leaves debootstrap's output, unconfigured, in $CACHE_ROOT/rootfs-KEY1.tar; prints its path.
rootfs_tar() {
  local tar t0 tmp
  tar="$CACHE_ROOT/rootfs-$(rootfs_key).tar"
  if [ -s "$tar" ]; then printf '%s\n' "$tar"; return 0; fi
  t0=$(now)
  tmp="$CACHE_ROOT/rootfs.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp/root"
  say "debootstrap $SUITE (+ kernel, systemd, docker.io): 2 to 5 min, longer on a busy machine…"
  if ! debootstrap_root "$tmp/root" >"$tmp/debootstrap.log" 2>&1; then
    tail -n 30 "$tmp/debootstrap.log" >&2
    die "debootstrap failed (log: $tmp/debootstrap.log)"
  fi
  rm -f "$CACHE_ROOT"/rootfs-*.tar
  # The downloaded .debs stay in $CACHE_ROOT/debs (debootstrap's --cache-dir), not in the tar.
  tar --numeric-owner --xattrs --xattrs-include='*' --exclude='./var/cache/apt/archives/*.deb' \
    -C "$tmp/root" -cf "$tar.tmp" . &&
    mv "$tar.tmp" "$tar"
  rm -rf "$tmp"
  say "debootstrap done in $(since "$t0") s: $tar"
  printf '%s\n' "$tar"
}

cmd_build() {
  need_root build
  ensure_host_packages
  local key dir t0
  key=$(config_key)
  dir="$CACHE_ROOT/$key"
  if [ -f "$dir/complete" ]; then
    say "guest image cached: $dir"
  else
    t0=$(now)
    mkdir -p "$CACHE_ROOT"
    local tar
    tar=$(rootfs_tar)
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp/root"
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$dir.tmp/root" -xf "$tar"
    configure_root "$dir.tmp/root" >"$dir.tmp/build.log" 2>&1 || {
      tail -n 30 "$dir.tmp/build.log" >&2; die "configuring the guest root failed"; }
    local kernel initrd
    kernel=$(ls "$dir.tmp/root"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1)
    initrd=$(ls "$dir.tmp/root"/boot/initrd.img-* 2>/dev/null | sort -V | tail -n1)
    [ -n "$kernel" ] && [ -n "$initrd" ] || die "no kernel or initrd in the guest's /boot"
    cp "$kernel" "$dir.tmp/vmlinuz"
    cp "$initrd" "$dir.tmp/initrd.img"
    basename "$kernel" >"$dir.tmp/kernel-version"
    local t1; t1=$(now)
    mkfs.ext4 -q -F -L lgroot -E root_owner=0:0 -d "$dir.tmp/root" "$dir.tmp/base.img" "$DISK_SIZE" \
      >>"$dir.tmp/build.log" 2>&1 || { tail -n 20 "$dir.tmp/build.log" >&2; die "mkfs.ext4 -d failed"; }
    say "packed into ext4 image in $(since "$t1") s ($(du -sh --apparent-size "$dir.tmp/root" | cut -f1) of files)"
    rm -rf "$dir.tmp/root"
    date -u +%FT%TZ >"$dir.tmp/complete"
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
    say "guest image built in $(since "$t0") s: $dir"
  fi
  ln -sfn "$key" "$CACHE_ROOT/current"
  # Builds of other configurations are about 1 GiB each: drop them, unless a guest still runs
  # on one (its overlay is backed by that base.img).
  if ! our_qemu_pid >/dev/null; then
    local old
    for old in "$CACHE_ROOT"/*/complete; do
      old=$(dirname "$old")
      [ -L "$old" ] && continue
      [ "$old" = "$dir" ] || { rm -rf "$old"; say "removed the older build $(basename "$old")"; }
    done
  fi
  case "$IMAGE_MODE" in
    preload) preload_images "$dir" || true ;;
    none) ;;
    *) save_images >/dev/null || true ;;
  esac
}

# --- images of the host engine -------------------------------------------------------------------
# `docker save` of $IMAGES from the host engine, cached by image ids. Whatever DOCKER_HOST says,
# the host's own engine is asked (DOCKER_HOST may already point at the guest).
images_key() {
  local ids
  ids=$(env -u DOCKER_HOST docker image inspect -f '{{.Id}}' $IMAGES 2>/dev/null) || return 1
  printf '%s %s' "$IMAGES" "$ids" | sha256sum | cut -c1-16
}

save_images() { # prints the tar's path
  [ -n "$IMAGES" ] || return 1
  local key tar t0
  if ! key=$(images_key); then
    say "host engine has no $IMAGES (scripts/provision-base-image.sh makes ubuntu:24.04): none copied into the guest"
    return 1
  fi
  tar="$CACHE_ROOT/images/$key.tar"
  if [ ! -s "$tar" ]; then
    t0=$(now)
    mkdir -p "$CACHE_ROOT/images"
    rm -f "$CACHE_ROOT"/images/*.tar
    env -u DOCKER_HOST docker save -o "$tar.tmp" $IMAGES >&2 || { rm -f "$tar.tmp"; return 1; }
    mv "$tar.tmp" "$tar"
    say "saved $IMAGES from the host engine in $(since "$t0") s ($(du -h "$tar" | cut -f1))"
  fi
  printf '%s\n' "$tar"
}

# The common part of every qemu command line, in QEMU. $1 = disk image, $2 = its format,
# $3 = cache mode. Reads DIR (build dir), SMP, MEM.
qemu_args() {
  QEMU=(nice -n "$NICE" qemu-system-x86_64 -name labgrade-cgroup2
    -accel tcg,thread=multi -cpu max -smp "$SMP" -m "$MEM"
    -nodefaults -display none -no-reboot
    -kernel "$DIR/vmlinuz" -initrd "$DIR/initrd.img"
    -drive "file=$1,format=$2,if=virtio,cache=$3,discard=unmap")
}

# Boots the guest once with the images' tar as a second disk and labgrade.poweroff=1: the guest
# loads them and powers off, and the qcow2 layer it wrote (backed by base.img) keeps them. Every
# `up` then starts from that layer with the images already in /var/lib/docker.
# $1 = build dir. Prints nothing; sets PRELOADED to the layer's path when there is one.
preload_images() {
  local dir=$1 tar key layer t0 console
  PRELOADED=
  if ! tar=$(save_images); then
    # Host engine unreachable or image missing: keep using the newest layer there is, if any.
    layer=$(ls -t "$dir"/images-"$STORE"-*.qcow2 2>/dev/null | head -n1 || true)
    [ -n "$layer" ] && { say "using the images preloaded earlier: $layer"; PRELOADED=$layer; }
    return 0
  fi
  key=$(basename "$tar" .tar)
  layer="$dir/images-$STORE-$key.qcow2"
  if [ -s "$layer" ]; then PRELOADED=$layer; return 0; fi
  t0=$(now)
  console="$dir/preload-console.log"
  rm -f "$dir"/images-"$STORE"-*.qcow2 "$dir/preload.qcow2"
  # Backing file named relative to the layer, so the cache dir may move.
  (cd "$dir" && qemu-img create -q -f qcow2 -F raw -b base.img preload.qcow2)
  say "preloading $IMAGES into the guest image (one boot that loads them, then powers off)…"
  # cache=writeback: this layer is kept, so the guest's flushes at power-off must reach it.
  DIR=$dir SMP=$DEF_SMP MEM=$DEF_MEM qemu_args "$dir/preload.qcow2" qcow2 writeback
  if timeout "$PRELOAD_TIMEOUT" "${QEMU[@]}" \
      -append "$KERNEL_ARGS labgrade.cgroupdriver=$DEF_DRIVER labgrade.poweroff=1" \
      -drive "file=$tar,format=raw,if=virtio,readonly=on" \
      -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,romfile= \
      -serial "file:$console" -monitor none >"$dir/preload-qemu.log" 2>&1 &&
      grep -q 'labgrade: images loaded' "$console"; then
    mv "$dir/preload.qcow2" "$layer"
    PRELOADED=$layer
    say "preloaded $IMAGES in $(since "$t0") s ($(grep -o 'images loaded in [0-9.]* s' "$console" | head -n1) of it on the guest clock)"
  else
    tail -n 40 "$console" >&2 || true
    cat "$dir/preload-qemu.log" >&2 || true
    rm -f "$dir/preload.qcow2"
    say "preloading the images failed (or took over $PRELOAD_TIMEOUT s); 'up' will load them at each boot instead"
    return 1
  fi
}

load_images_tcp() { # $1 = DOCKER_HOST of the guest
  local tar t0
  tar=$(save_images) || return 0
  t0=$(now)
  DOCKER_HOST=$1 docker load -q -i "$tar" >/dev/null ||
    { say "loading $IMAGES into the guest failed"; return 1; }
  say "loaded $IMAGES into the guest over TCP in $(since "$t0") s"
}

# --- run state ------------------------------------------------------------------------------------
STATE="$RUN_DIR/state"
PIDFILE="$RUN_DIR/qemu.pid"
OVERLAY="$RUN_DIR/overlay.qcow2"
CONSOLE="$RUN_DIR/console.log"

# Prints the pid of the qemu that `up` started, if it still runs; checks that the pid is a qemu
# whose command line names our overlay (a recycled pid must never be killed).
our_qemu_pid() {
  [ -s "$PIDFILE" ] || return 1
  local pid cmdline
  pid=$(tr -dc 0-9 <"$PIDFILE")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  case "$cmdline" in
    qemu-system-x86_64*"$OVERLAY"* | */qemu-system-x86_64*"$OVERLAY"*) printf '%s\n' "$pid" ;;
    *) return 1 ;;
  esac
}

state_get() { # $1 = key
  [ -f "$STATE" ] && sed -n "s/^$1=//p" "$STATE" | tail -n1
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

guest_answers() { # $1 = DOCKER_HOST
  DOCKER_HOST=$1 timeout 15 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

stop_qemu() {
  local pid i
  if pid=$(our_qemu_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
    say "stopped qemu (pid $pid)"
    return 0
  fi
  return 1
}

cmd_up() {
  local restrict driver=$DEF_DRIVER port=$DEF_PORT smp=$DEF_SMP mem=$DEF_MEM net=$DEF_NET timeout=$DEF_TIMEOUT
  while [ $# -gt 0 ]; do
    case "$1" in
      --driver) driver=${2:?}; shift 2 ;;
      --driver=*) driver=${1#*=}; shift ;;
      --port) port=${2:?}; shift 2 ;;
      --port=*) port=${1#*=}; shift ;;
      --smp) smp=${2:?}; shift 2 ;;
      --smp=*) smp=${1#*=}; shift ;;
      --mem) mem=${2:?}; shift 2 ;;
      --mem=*) mem=${1#*=}; shift ;;
      --net) net=${2:?}; shift 2 ;;
      --net=*) net=${1#*=}; shift ;;
      --timeout) timeout=${2:?}; shift 2 ;;
      --timeout=*) timeout=${1#*=}; shift ;;
      *) die "up: unknown option $1" ;;
    esac
  done
  case "$driver" in systemd|cgroupfs) ;; *) die "--driver must be systemd or cgroupfs" ;; esac
  case "$net" in restrict) restrict=on ;; nat) restrict=off ;; *) die "--net must be restrict or nat" ;; esac
  [[ "$port" =~ ^[0-9]+$ && "$smp" =~ ^[0-9]+$ && "$mem" =~ ^[0-9]+$ && "$timeout" =~ ^[0-9]+$ ]] ||
    die "--port, --smp, --mem and --timeout take numbers"

  local pid host
  if pid=$(our_qemu_pid); then
    host="tcp://127.0.0.1:$(state_get port)"
    if [ "$(state_get driver)" = "$driver" ] && guest_answers "$host"; then
      say "already running (pid $pid, driver $driver)"
      printf 'export DOCKER_HOST=%s\n' "$host"
      return 0
    fi
    die "a guest already runs (pid $pid, driver $(state_get driver), port $(state_get port)): run '$0 down' first"
  fi

  local key dir
  key=$(config_key)
  dir="$CACHE_ROOT/$key"
  [ -f "$dir/complete" ] || { say "no guest image for this configuration: building it…"; cmd_build; }
  command -v qemu-system-x86_64 >/dev/null 2>&1 || ensure_host_packages
  port_in_use "$port" && die "127.0.0.1:$port is already in use: pick another with --port"

  local mode=$IMAGE_MODE backing="$dir/base.img" backing_fmt=raw extra=() tar=
  [ -n "$IMAGES" ] || mode=none
  case "$mode" in
    preload)
      preload_images "$dir" || true
      if [ -n "$PRELOADED" ]; then backing=$PRELOADED; backing_fmt=qcow2
      elif tar=$(save_images); then mode=disk; else mode=none; fi ;;
    disk) tar=$(save_images) || mode=none ;;
    tcp|none) ;;
    *) die "LABGRADE_CGROUP2_IMAGE_MODE must be preload, disk, tcp or none" ;;
  esac
  [ "$mode" = disk ] && extra=(-drive "file=$tar,format=raw,if=virtio,readonly=on")

  mkdir -p "$RUN_DIR"
  rm -f "$OVERLAY" "$PIDFILE" "$STATE" "$CONSOLE" "$RUN_DIR/qemu.log"
  qemu-img create -q -f qcow2 -F "$backing_fmt" -b "$backing" "$OVERLAY"
  host="tcp://127.0.0.1:$port"
  local t0; t0=$(now)
  # -daemonize: qemu detaches (setsid) and writes its pid file itself once it runs.
  # cache=unsafe: the overlay is thrown away, so flushes are wasted work.
  # romfile=: no iPXE option ROM (we boot with -kernel; saves the ROM and the probe).
  DIR=$dir SMP=$smp MEM=$mem qemu_args "$OVERLAY" qcow2 unsafe
  if ! "${QEMU[@]}" "${extra[@]}" \
      -append "$KERNEL_ARGS labgrade.cgroupdriver=$driver" \
      -netdev "user,id=n0,restrict=$restrict,hostfwd=tcp:127.0.0.1:$port-10.0.2.15:2375" \
      -device virtio-net-pci,netdev=n0,romfile= \
      -serial "file:$CONSOLE" -monitor none \
      -pidfile "$PIDFILE" -daemonize >"$RUN_DIR/qemu.log" 2>&1; then
    cat "$RUN_DIR/qemu.log" >&2
    rm -f "$OVERLAY"
    die "qemu did not start"
  fi
  pid=$(our_qemu_pid) || die "qemu started but its pid file is missing or wrong"
  {
    printf 'suite=%s\nstore=%s\npid=%s\nport=%s\ndriver=%s\nnet=%s\nsmp=%s\nmem=%s\nkey=%s\nimages=%s\nstarted=%s\n' \
      "$SUITE" "$STORE" "$pid" "$port" "$driver" "$net" "$smp" "$mem" "$key" "$mode" "$(date -u +%FT%TZ)"
  } >"$STATE"
  say "qemu pid $pid booting (driver $driver, net $net, smp $smp, mem ${mem} MiB; console: $CONSOLE)…"

  local deadline=$(( $(date +%s) + timeout ))
  until guest_answers "$host"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$CONSOLE" >&2 || true
      cat "$RUN_DIR/qemu.log" >&2 || true
      rm -f "$OVERLAY" "$PIDFILE"
      die "qemu exited before dockerd answered"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      say "dockerd in the guest did not answer within $timeout s; last console lines:"
      tail -n 40 "$CONSOLE" >&2 || true
      stop_qemu || true
      rm -f "$OVERLAY" "$PIDFILE" "$STATE"
      exit 1
    fi
    sleep 2
  done
  local boot; boot=$(since "$t0")
  printf 'boot_seconds=%s\n' "$boot" >>"$STATE"
  say "dockerd answers after $boot s: $(DOCKER_HOST=$host docker info --format 'cgroup v{{.CgroupVersion}}, driver {{.CgroupDriver}}, server {{.ServerVersion}}' 2>/dev/null)"
  case "$mode" in
    tcp) load_images_tcp "$host" || true ;;
    disk)
      # The guest loads /dev/vdb itself; wait for the tags (or its failure marker).
      until DOCKER_HOST=$host docker image inspect $IMAGES >/dev/null 2>&1; do
        if grep -q 'labgrade: loading images failed' "$CONSOLE" || [ "$(date +%s)" -ge "$deadline" ]; then
          say "the guest did not load $IMAGES (see $CONSOLE)"; break
        fi
        sleep 2
      done
      say "guest loaded $IMAGES from the attached disk $(since "$t0") s after boot start ($(grep -o 'images loaded in [0-9.]* s' "$CONSOLE" | head -n1 || true))" ;;
    preload) say "$IMAGES preloaded in the guest image" ;;
  esac
  printf 'export DOCKER_HOST=%s\n' "$host"
}

cmd_down() {
  stop_qemu || say "no guest running"
  rm -f "$OVERLAY" "$PIDFILE" "$STATE"
}

cmd_status() {
  local pid port
  if ! pid=$(our_qemu_pid); then
    echo "cgroup2 guest: not running"
    return 3
  fi
  port=$(state_get port)
  echo "cgroup2 guest: running (qemu pid $pid, started $(state_get started))"
  echo "  DOCKER_HOST=tcp://127.0.0.1:$port  driver=$(state_get driver)  net=$(state_get net)  smp=$(state_get smp)  mem=$(state_get mem)MiB"
  if info=$(DOCKER_HOST="tcp://127.0.0.1:$port" timeout 15 docker info \
      --format 'Cgroup Version {{.CgroupVersion}}, Cgroup Driver {{.CgroupDriver}}, Server {{.ServerVersion}}, Kernel {{.KernelVersion}}' 2>/dev/null); then
    echo "  engine: $info"
  else
    echo "  engine: not answering (yet?); console: $CONSOLE"
  fi
}

cmd_cached() {
  local dir
  dir="$CACHE_ROOT/$(config_key)"
  if [ -f "$dir/complete" ]; then echo "$dir"; return 0; fi
  echo "not built: $dir" >&2
  return 1
}

cmd_env() {
  our_qemu_pid >/dev/null || die "no guest running: '$0 up' first"
  printf 'export DOCKER_HOST=tcp://127.0.0.1:%s\n' "$(state_get port)"
}

case "${1:-}" in
  build) shift; cmd_build "$@" ;;
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down ;;
  status) shift; cmd_status ;;
  env) shift; cmd_env ;;
  cached) shift; cmd_cached ;;
  *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
