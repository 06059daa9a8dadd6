# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 120
# Prints what xl makes of the guests in tests/xen/*.ini written as xl configs
# (xl -N create: parse only, nothing built), one "XLJSON NAME: line" per line
# of JSON. make check compares domud's libxl configuration with
# tests/xen/*.xl.json; after the boot run.sh compares this arch's guest with
# its file (xljson/NAME), so the files stay what this Xen's xl says. In make
# test's part boot; tests/xen/README says how to make the files again.
. /e2e/scenarios/lib/domud.sh

cat > /tmp/arm-passthrough.cfg <<'CFG'
name = "arm-passthrough"
type = "pvh"
kernel = "/dev/null"
memory = 128
maxmem = 256
vcpus = 2
dtdev = [ "/soc/serial@9000000", "/soc/gpio@9030000" ]
iomem = [ "9000,1@9000", "9030,2" ]
irqs = [ 33, 40 ]
device_tree = "/dev/null"
cpu_weight = 512
cap = 50
CFG
cat > /tmp/x86-passthrough.cfg <<'CFG'
name = "x86-passthrough"
type = "pv"
kernel = "/dev/null"
memory = 128
maxmem = 192
vcpus = 2
cpus = [ "2", "3" ]
cpus_soft = "1-3"
pci = [ "0000:03:00.0", "0000:00:1f.6,seize=1" ]
irqs = [ 17 ]
iomem = [ "fe000,4" ]
cpu_weight = 128
cap = 25
CFG
why=""
for n in arm-passthrough x86-passthrough; do
  xl -N create "/tmp/$n.cfg" > "/tmp/$n.json" 2> "/tmp/$n.err" || why="$why $n: $(head -c 200 "/tmp/$n.err");"
  grep -q '"b_info"' "/tmp/$n.json" || why="$why $n: no JSON;"
  while IFS= read -r l; do echo "E2E: XLJSON $n: $l"; done < "/tmp/$n.json"
done
if [ -z "$why" ]; then
  pass xljson/printed "xl -N create of tests/xen's two guests: JSON printed"
else
  fail xljson/printed "$why"
fi
