#!/bin/sh
# Install the Debian 12 packages imgbake needs to build, run and test.
# Does nothing (and needs no root) when every package is already present.
#
#   scripts/deps.sh          build + test dependencies
#   scripts/deps.sh bench    also the tools the benchmarks compare against
set -eu

pkgs="build-essential pkg-config clang libclang-rt-dev
libvips-dev libvips-tools libmagic-dev libwebp-dev libjpeg62-turbo-dev libpng-dev
libjansson-dev libxxhash-dev libheif-dev libexif-dev liblcms2-dev
perl time mandoc webp file bsdextrautils zsh parallel git jq curl nginx-light
libxml2-utils chromium strace libavif-bin"

# npm is left out: Debian packages it apart from nodejs, while NodeSource's
# nodejs bundles it and conflicts with Debian's; scripts/bench.sh installs
# it when the command is missing.
if [ "${1-}" = bench ]; then
	pkgs="$pkgs imagemagick libjpeg-turbo-progs libavif-bin mate-backgrounds
desktop-base jq plasma-workspace-wallpapers ukui-wallpapers nodejs"
fi

missing=
for p in $pkgs; do
	if ! dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages and not root; run as root or install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
