#!/usr/bin/env bash
# What the tests need beyond npm (Chromium; the lab's cluster programs), run
# first by `npm test`: docs/testing.md, "System packages". A suite is never
# skipped, so a missing program fails here rather than half-way through.
set -euo pipefail

missing=()  # what to tell a person
apt=()      # Debian/Ubuntu packages
cask=()     # Homebrew casks

# lab:start (the README's lab removal block deletes these lines)
brew=()     # Homebrew formulae
# Debian installs server programs in sbin, which is not on every user's PATH.
has() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ]; }
# The cluster finds PostgreSQL under /usr/lib/postgresql/<major>/bin, on PATH,
# or in POSTGRES_BIN (tools/local/prerequisites.ts).
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && ! has initdb &&
	! { [ -n "${POSTGRES_BIN:-}" ] && [ -x "$POSTGRES_BIN/initdb" ]; }; then
	missing+=("PostgreSQL (initdb, postgres)")
	apt+=(postgresql)
	brew+=(postgresql@17)
fi
if ! has nats-server && ! { [ -n "${NATS_SERVER:-}" ] && [ -x "$NATS_SERVER" ]; }; then
	missing+=(nats-server)
	apt+=(nats-server)
	brew+=(nats-server)
fi
if ! has nginx && ! { [ -n "${NGINX:-}" ] && [ -x "$NGINX" ]; }; then
	missing+=(nginx)
	apt+=(nginx)
	brew+=(nginx)
fi
# lab:end
# The browser test launches /usr/bin/chromium, or CHROMIUM (test/web/browser.ts).
# Fonts make the screenshots readable without the recommended packages.
if [ -n "${CHROMIUM:-}" ]; then
	[ -x "$CHROMIUM" ] || { echo "CHROMIUM=$CHROMIUM is not an executable file" >&2; exit 1; }
elif [ ! -x /usr/bin/chromium ]; then
	missing+=("Chromium (/usr/bin/chromium)")
	apt+=(chromium fonts-liberation)
	cask+=(chromium)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
can_install=no
if [ "$(uname -s)" = Linux ] && command -v apt-get >/dev/null; then
	if [ "$(id -u)" -eq 0 ]; then
		can_install=yes
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo="sudo"
		can_install=yes
	fi
fi

if [ "$can_install" = no ]; then
	{
		list=$(printf '%s, ' "${missing[@]}")
		echo "The tests need programs that are missing here: ${list%, }."
		echo "No suite is skipped without them, so the test command stops now. Install them, then run it again:"
		echo
		echo "  Debian/Ubuntu:"
		echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${apt[*]}"
		echo
		echo "  macOS (Homebrew; only Linux is tested, see docs/testing.md):"
		if [ ${#cask[@]} -gt 0 ]; then echo "    brew install --cask ${cask[*]}"; fi
		# lab:start (the README's lab removal block deletes these lines)
		if [ ${#brew[@]} -gt 0 ]; then echo "    brew install ${brew[*]}"; fi
		# Homebrew's PostgreSQL is keg-only: its programs are not on PATH.
		if [[ " ${brew[*]} " == *" postgresql@17 "* ]]; then
			echo "    export POSTGRES_BIN=\"\$(brew --prefix postgresql@17)/bin\""
		fi
		# lab:end
		echo
		echo "(This script installs them itself on Debian or Ubuntu when run as root or with password-less sudo.)"
	} >&2
	exit 1
fi

echo "installing the Debian packages the tests need: ${apt[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=300 update -qq </dev/null
$sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${apt[@]}" </dev/null
