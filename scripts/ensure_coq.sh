#!/usr/bin/env bash
# Make sure Coq and Coquelicot are installed: apt-get them when missing and we are root,
# otherwise say in one line what to install.
set -euo pipefail
have() { command -v coqc >/dev/null 2>&1 && [ -d "$(coqc -where)/user-contrib/Coquelicot" ]; }
have && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Coq and Coquelicot with apt-get ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq coq libcoq-coquelicot >/dev/null
  have && exit 0
fi
echo "error: Coq with Coquelicot is missing: install the Debian packages 'coq' and 'libcoq-coquelicot' (as root: apt-get install coq libcoq-coquelicot)" >&2
exit 1
