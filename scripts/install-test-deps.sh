#!/usr/bin/env bash
# Installs, from Debian's packages, the real components that the tests and benchmarks use and that
# are missing here: redis-server (the benchmark's anchor) and redis-tools (its redis-benchmark,
# which drives the server-get scenarios), dnsmasq (dnsPeers tests), etcd-server
# (etcdPeers tests), prometheus (for its promtool, which checks /_burrow/metrics; no server is run),
# Go with golang/groupcache (the groupcache interop tests build a small Go node from
# test/support/groupcache-node/ in GOPATH mode, offline), and chromium (the dashboard's tests drive
# it headless through puppeteer-core, on loopback only). Each server is started by the tests
# themselves on a free loopback port and stopped by its PID; this script only installs, and keeps
# the packages' own services from starting.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-tools)
[ -x /usr/sbin/dnsmasq ] || command -v dnsmasq >/dev/null 2>&1 || missing+=(dnsmasq)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# dpkg -s, not a PATH lookup: the library is source files under /usr/share/gocode, not a command.
# (A removed package whose config files remain is known to dpkg too: only "install ok installed" counts.)
for pkg in golang-go golang-github-golang-groupcache-dev; do
  status=$(dpkg -s "$pkg" 2>/dev/null || true)
  [[ $status == *"Status: install ok installed"* ]] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${missing[*]}; install them (Debian: apt-get install -y ${missing[*]}) or the tests that need them fail" >&2
  exit 0
fi
echo "== installing ${missing[*]}"
apt-get update -qq
# policy-rc.d exit 101: the packages' postinst scripts must not start system services (etcd on
# 2379, dnsmasq on 53, prometheus on 9090).
own_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
