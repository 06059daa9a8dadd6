# e2e-timeout: 300
guest_xl_cfg zs zstok > /tmp/zs.cfg
xl_start zs /tmp/zs.cfg > /dev/null; con_wait zs 90 "DOMU-MARKER zstok" || info "no marker"
con_send zs "RUN while :; do :; done"
spin() { _i=0; while [ $_i -lt 150 ]; do /bin/cat /dev/null; /usr/bin/stat / > /dev/null; _i=$((_i+1)); done; }
t=$(up)
spin & spin & spin; wait
info "spins done in $(dt $t $(up))s"
n=$(dmesg | grep -c segfault)
dmesg | grep segfault | head -5 | while read -r l; do info "$l"; done
pass z/stress "segfaults=$n in $(dt $t $(up))s"
xl_stop zs
