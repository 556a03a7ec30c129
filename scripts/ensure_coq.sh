#!/usr/bin/env bash
# Make sure Coq, Coquelicot and the Coq world's automation (CoqHammer with its external provers
# eprover, z3 and cvc5; Interval; csdp, the SDP solver behind micromega's `psatz`) are
# installed: apt-get them when missing and we are root, otherwise say in one line what to
# install. Without the automation the pipeline still runs (its tactics are simply not offered,
# or fail); without Coq it cannot. Chromium (headless: the test that screenshots the tree page
# of `make browse`) is installed the same way; without it that one test is skipped.
set -euo pipefail
PKGS="coq libcoq-coquelicot libcoq-hammer libcoq-interval eprover z3 cvc5 coinor-csdp"
lib() { [ -d "$(coqc -where)/user-contrib/$1" ]; }
have() { command -v coqc >/dev/null 2>&1 && lib Coquelicot; }
full() { have && lib Hammer && lib Interval && command -v eprover >/dev/null 2>&1 && command -v z3 >/dev/null 2>&1 && command -v csdp >/dev/null 2>&1; }
browser() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
full && browser && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  if ! full; then
    echo "installing Coq, Coquelicot, CoqHammer (eprover, z3, cvc5), Interval and csdp with apt-get ..."
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PKGS >/dev/null || true
  fi
  if ! browser; then  # on its own: a failure here must not cost the Coq packages, nor the reverse
    echo "installing chromium with apt-get (headless, for the browse-page screenshot test) ..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || true
  fi
fi
browser || echo "note: chromium is missing (Debian package chromium): the browse-page screenshot test cannot run" >&2
full && exit 0
if have; then
  echo "warning: CoqHammer, Interval or csdp is missing (Debian: $PKGS): their tactics are not offered or fail" >&2
  exit 0
fi
echo "error: Coq with Coquelicot is missing: install the Debian packages '$PKGS' (as root: apt-get install $PKGS)" >&2
exit 1
