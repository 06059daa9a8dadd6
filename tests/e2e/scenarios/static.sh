# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 300
# The fully static domud (threaded libxenstore, whole-archive libxenguest)
# creates and stops a DomU on real Xen.
. /e2e/scenarios/lib/domud.sh

conf_init
svc_ini solo solo-up "autostart = yes" "stop_timeout = 30s"
if ! command -v domud-static > /dev/null || ! domud_up domud-static; then
  fail static/create-stop "domud-static did not start"
  exit 0
fi
if wait_state solo running 120 && wait_for 60 console_has solo "DOMU-MARKER solo-up"; then
  d=$(jfield solo domid)
  domuctl-static stop solo > /dev/null 2>&1
  if wait_state solo stopped 60 && [ "$(jfield solo last_exit)" = stopped ] &&
     ! xl domid solo > /dev/null 2>&1; then
    pass static/create-stop "domain $d created, marker seen, stopped gracefully"
  else
    fail static/create-stop "stop: state=$(jfield solo state)"
    show_log
  fi
else
  fail static/create-stop "state=$(jfield solo state)"
  show_log 30
fi
domud_down 60
true
