# domud-service.bbclass: ship DomUs for domud in a Dom0 image.
#
# A recipe inherits this class, names its services and describes each one
# with flags; its package then holds /etc/domud/services.d/NAME.ini and
# the images under /var/lib/domud/images/NAME/. Add the package to the Dom0
# image (IMAGE_INSTALL:append:pn-<dom0-image>, never a global append: the
# guest images would depend on themselves).
#
#   DOMUD_SERVICES = "sensors"
#   DOMUD_SERVICE_KERNEL[sensors]    = "${KERNEL_IMAGETYPE}-${MACHINE}.bin"  (required)
#   DOMUD_SERVICE_RAMDISK[sensors]   = "core-image-minimal-initramfs-${MACHINE}.cpio.gz"
#   DOMUD_SERVICE_DISKS[sensors]     = "data.ext4:xvdb:ro"   (FILE:VDEV[:ro|rw] ...)
#   DOMUD_SERVICE_MEMORY[sensors]    = "128M"                (default 128M)
#   DOMUD_SERVICE_VCPUS[sensors]     = "1"
#   DOMUD_SERVICE_TYPE[sensors]      = "pvh"                 (pv | pvh; default: pvh on arm, pv on x86)
#   DOMUD_SERVICE_CMDLINE[sensors]   = "console=hvc0 root=/dev/ram0"
#   DOMUD_SERVICE_NETWORK[sensors]   = "lan"                 (a [network:lan] of domud.conf)
#   DOMUD_SERVICE_FORWARD[sensors]   = "tcp:8080:80"
#   DOMUD_SERVICE_AUTOSTART[sensors] = "yes"                 (default yes)
#   DOMUD_SERVICE_AFTER[sensors]     = "gateway"
#   DOMUD_SERVICE_MEMRES[sensors]    = "no"
#   DOMUD_SERVICE_RESTART[sensors]   = "on-failure"
#   DOMUD_SERVICE_DEPENDS[sensors]   = "core-image-minimal-initramfs:do_image_complete virtual/kernel:do_deploy"
#
# FILE names without a / are taken from DEPLOY_DIR_IMAGE (what other recipes
# deployed, made before this one's do_install through DOMUD_SERVICE_DEPENDS),
# others are paths on the build host. Mistakes stop the parse with the
# recipe and the service named.

DOMUD_SERVICES ??= ""
DOMUD_IMAGES_DIR ?= "${localstatedir}/lib/domud/images"
DOMUD_SERVICES_DIR ?= "${sysconfdir}/domud/services.d"
DOMUD_DEFAULT_TYPE ?= "pv"
DOMUD_DEFAULT_TYPE:aarch64 ?= "pvh"
DOMUD_DEFAULT_TYPE:arm ?= "pvh"

# the images are the machine's (its kernel, its deploy directory)
PACKAGE_ARCH = "${MACHINE_ARCH}"
INHIBIT_DEFAULT_DEPS = "1"
INHIBIT_PACKAGE_STRIP = "1"
INHIBIT_PACKAGE_DEBUG_SPLIT = "1"

python __anonymous () {
    import re
    names = (d.getVar('DOMUD_SERVICES') or '').split()
    pn = d.getVar('PN')
    if not names:
        bb.fatal("%s: inherits domud-service but sets no DOMUD_SERVICES" % pn)
    deps = []
    for n in names:
        if not re.match(r'^[A-Za-z0-9_.-]{1,48}$', n):
            bb.fatal("%s: DOMUD_SERVICES: '%s' is not a service name "
                     "(1-48 of A-Z a-z 0-9 _ . -)" % (pn, n))
        if not d.getVarFlag('DOMUD_SERVICE_KERNEL', n):
            bb.fatal("%s: service %s: DOMUD_SERVICE_KERNEL[%s] is required" % (pn, n, n))
        for yn in ('AUTOSTART', 'MEMRES'):
            v = d.getVarFlag('DOMUD_SERVICE_' + yn, n)
            if v and v not in ('yes', 'no'):
                bb.fatal("%s: service %s: DOMUD_SERVICE_%s[%s] = '%s': yes or no"
                         % (pn, n, yn, n, v))
        for disk in (d.getVarFlag('DOMUD_SERVICE_DISKS', n) or '').split():
            f = disk.split(':')
            if len(f) not in (2, 3) or (len(f) == 3 and f[2] not in ('ro', 'rw')):
                bb.fatal("%s: service %s: disk '%s': FILE:VDEV[:ro|rw]" % (pn, n, disk))
        deps += (d.getVarFlag('DOMUD_SERVICE_DEPENDS', n) or '').split()
    if deps:
        d.appendVarFlag('do_install', 'depends', ' ' + ' '.join(deps))
    d.setVar('FILES:' + pn, ' '.join('%s/%s.ini %s/%s' % (
        d.getVar('DOMUD_SERVICES_DIR'), n, d.getVar('DOMUD_IMAGES_DIR'), n)
        for n in names))
}

do_configure[noexec] = "1"
do_compile[noexec] = "1"

def domud_src(d, f):
    import os
    return f if '/' in f else os.path.join(d.getVar('DEPLOY_DIR_IMAGE'), f)

python do_install () {
    import os, shutil
    D = d.getVar('D')
    sdir = D + d.getVar('DOMUD_SERVICES_DIR')
    os.makedirs(sdir, exist_ok=True)
    for n in d.getVar('DOMUD_SERVICES').split():
        idir_rel = os.path.join(d.getVar('DOMUD_IMAGES_DIR'), n)
        idir = D + idir_rel
        os.makedirs(idir, exist_ok=True)

        def ship(f):
            src = domud_src(d, f)
            if not os.path.isfile(src):
                bb.fatal("service %s: %s: no such file (deployed by the recipe "
                         "DOMUD_SERVICE_DEPENDS[%s] names?)" % (n, src, n))
            dst = os.path.join(idir, os.path.basename(src))
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o644)
            return os.path.join(idir_rel, os.path.basename(src))

        def flag(k, default=None):
            return d.getVarFlag('DOMUD_SERVICE_' + k, n) or default

        lines = ['; %s: made by %s (domud-service.bbclass)' % (n, d.getVar('PN')),
                 '[service]',
                 'type = ' + flag('TYPE', d.getVar('DOMUD_DEFAULT_TYPE')),
                 'kernel = ' + ship(flag('KERNEL'))]
        if flag('RAMDISK'):
            lines.append('ramdisk = ' + ship(flag('RAMDISK')))
        for k, key, default in (('CMDLINE', 'cmdline', None), ('MEMORY', 'memory', '128M'),
                                ('VCPUS', 'vcpus', None), ('AUTOSTART', 'autostart', 'yes'),
                                ('AFTER', 'after', None), ('RESTART', 'restart', None),
                                ('MEMRES', 'memres', None)):
            v = flag(k, default)
            if v:
                lines.append('%s = %s' % (key, v))
        for i, disk in enumerate((flag('DISKS') or '').split()):
            f = disk.split(':')
            lines += ['', '[disk:disk%d]' % i, 'path = ' + ship(f[0]), 'vdev = ' + f[1],
                      'access = ' + (f[2] if len(f) == 3 else 'rw')]
        if flag('NETWORK'):
            lines += ['', '[net]', 'network = ' + flag('NETWORK')]
            if flag('FORWARD'):
                lines.append('forward = ' + flag('FORWARD'))
        with open(os.path.join(sdir, n + '.ini'), 'w') as fp:
            fp.write('\n'.join(lines) + '\n')
}

# images are data for Dom0, whatever the guest's architecture
INSANE_SKIP:${PN} += "arch already-stripped ldflags textrel"
RDEPENDS:${PN} += "domud"
