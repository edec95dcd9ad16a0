#!/usr/bin/env bash
# Debian packages the test suite needs beyond npm: PostgreSQL, nats-server and
# nginx for the multi-node cluster tests (test/cluster/), Chromium for the
# browser test (test/web/). `npm test` runs this first. It installs only what
# is missing, non-interactively, as root or through sudo; without either it
# says exactly what to install and stops.
set -euo pipefail

need=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null || need+=(postgresql)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
# playwright-core never downloads a browser of its own; fonts make the saved
# screenshots readable without the recommended packages.
command -v chromium >/dev/null || need+=(chromium fonts-liberation)
[ ${#need[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo="sudo"
	else
		echo "the tests need Debian packages that are missing: ${need[*]}" >&2
		echo "install them with: sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
		exit 1
	fi
fi
echo "installing Debian packages for the cluster and browser tests: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=300 update -qq </dev/null
$sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" </dev/null
