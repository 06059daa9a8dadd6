SUMMARY = "domud: keeps the DomUs of a Xen Dom0 running"
DESCRIPTION = "A small daemon that drives every DomU's lifecycle through \
libxl (create, graceful stop, restart policies, ordering, adoption after its \
own restart), their network (bridge, NAT, port forwards) and resident guests \
over their console; domuctl is its command line client."
HOMEPAGE = "https://github.com/domud/domud"
SECTION = "console/tools"
LICENSE = "GPL-2.0-or-later"
LIC_FILES_CHKSUM = "file://LICENSE;md5=b234ee4d69f5fce4486a80fdaf4a4263"

# From git, pinned. To build from a checkout instead, in local.conf:
#   INHERIT += "externalsrc"
#   EXTERNALSRC:pn-domud = "/path/to/domud"
# or `devtool modify domud` (which does the same in a workspace layer).
DOMUD_GIT_URI ?= "git://github.com/domud/domud.git;protocol=https;branch=main"
SRC_URI = "${DOMUD_GIT_URI} \
           file://run-ptest \
          "
SRCREV = "07e188fbf4bbf20b1061549b3fa0f34aaa21d608"
PV = "0.1.0+git"
S = "${WORKDIR}/git"

# exactly what the Makefile links (pkg-config names: xenlight xentoollog,
# inih yajl uuid, libnl-route-3.0 libip4tc); libcheck for the ptest
# zlib, xz, zstd: the kernel cache (xen-tools links them already);
# libsodium (meta-oe): SHA-256 and Ed25519 of guest update slots;
# libseccomp (openembedded-core): the kernel cache child's syscall filter
DEPENDS = "xen-tools libinih yajl util-linux-libuuid libnl iptables zlib xz zstd libsodium libseccomp"
DEPENDS += "${@bb.utils.contains('PTEST_ENABLED', '1', 'libcheck', '', d)}"

inherit pkgconfig systemd update-rc.d useradd ptest bash-completion

# A fully static domud needs a libxenstore.a with its watch reader thread.
# meta-virtualization's xen-tools builds libxenstore.a from xs.o, which
# Xen's tools/libs/store/Makefile compiles without -DUSE_PTHREAD (only the
# shared xs.opic gets it): in a static libxl program xenstore watches never
# fire and every domain create times out waiting for the console tty.
# So 'static' is refused here rather than built broken; see
# docs/building.md for the threaded libxenstore.a a static build needs.
PACKAGECONFIG ??= ""
PACKAGECONFIG[static] = ""
python () {
    if bb.utils.contains('PACKAGECONFIG', 'static', True, False, d):
        bb.fatal("domud: PACKAGECONFIG 'static' is refused: meta-virtualization's "
                 "xen-tools ships a libxenstore.a built without -DUSE_PTHREAD (Xen's "
                 "tools/libs/store/Makefile gives it to the shared object only), and a "
                 "static libxl program linked with it never sees a xenstore watch fire: "
                 "every DomU create times out on the console tty. Build domud dynamic "
                 "(the default), or provide a threaded libxenstore.a first "
                 "(docs/building.md, 'Static' and 'In Yocto').")
}

# the user's CC/CFLAGS/LDFLAGS come from the environment, untouched; the
# Makefile only adds its own flags beside them
EXTRA_OEMAKE = "\
    PREFIX=${prefix} SBINDIR=${sbindir} BINDIR=${bindir} \
    SYSCONFDIR=${sysconfdir} MANDIR=${mandir} AGENTDIR=${nonarch_libdir}/domud \
    SYSTEMD_UNITDIR=${systemd_system_unitdir} \
    TMPFILESDIR=${nonarch_libdir}/tmpfiles.d INITDIR=${sysconfdir}/init.d \
    BASHCOMPDIR=${datadir}/bash-completion/completions \
    MENDERMODDIR=${datadir}/mender/modules/v3 \
    PKG_CONFIG='${PKG_CONFIG}' V=1 \
"

do_compile() {
    oe_runmake all
}

do_install() {
    oe_runmake install DESTDIR=${D}
}

# the unit tests: Check, against a fake Xen backend
do_compile_ptest() {
    oe_runmake build/unit-tests
}

do_install_ptest() {
    install -m 0755 ${B}/build/unit-tests ${D}${PTEST_PATH}/
}

USERADD_PACKAGES = "${PN}"
# domuctl's roles: read_group and admin_group of domud.conf
GROUPADD_PARAM:${PN} = "--system domud; --system domud-admin"

SYSTEMD_SERVICE:${PN} = "domud.service"
SYSTEMD_AUTO_ENABLE = "enable"
INITSCRIPT_NAME = "domud"
# after xencommons (defaults 80), which starts xenstored and xenconsoled
INITSCRIPT_PARAMS = "defaults 85 15"

PACKAGES =+ "${PN}-agent ${PN}-mender"
# guest updates from Mender: its update module (contrib/ota, docs/ota.md)
FILES:${PN}-mender = "${datadir}/mender/modules/v3/domud-guest"
SUMMARY:${PN}-mender = "Mender update module: guest updates through domuctl update"
RDEPENDS:${PN}-mender = "${PN}"
FILES:${PN}-agent = "${nonarch_libdir}/domud/domud-agent"
SUMMARY:${PN}-agent = "domud's agent for resident guests (static, goes into guest images)"
# static by design: it runs in guests whatever their libc
INSANE_SKIP:${PN}-agent = "staticdev"

FILES:${PN} += "${systemd_system_unitdir}/domud.service \
                ${nonarch_libdir}/tmpfiles.d/domud.conf"
CONFFILES:${PN} = "${sysconfdir}/domud/domud.conf ${sysconfdir}/default/domud"

# xenstored and xenconsoled (with their units or xencommons), the hotplug
# scripts libxl runs for vifs and disks; glibc dlopen()s libgcc_s for the
# pthread_cancel of libxenstore's reader thread
RDEPENDS:${PN} = "xen-tools-xencommons xen-tools-xenstored xen-tools-console \
                  xen-tools-scripts-network xen-tools-scripts-block libgcc"
RDEPENDS:${PN}-ptest += "bash"

COMPATIBLE_HOST = "(x86_64|aarch64).*-linux"
