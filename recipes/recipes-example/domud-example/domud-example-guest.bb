SUMMARY = "An example DomU for domud: a minimal initramfs guest"
DESCRIPTION = "Ships core-image-minimal-initramfs with the machine's kernel \
as the domud service 'example' (autostart, restarted on failure)."
LICENSE = "MIT"

inherit domud-service

DOMUD_SERVICES = "example"
DOMUD_SERVICE_KERNEL[example] = "${KERNEL_IMAGETYPE}"
# the image link name of scarthgap (IMAGE_NAME_SUFFIX ".rootfs")
DOMUD_SERVICE_RAMDISK[example] = "core-image-minimal-initramfs-${MACHINE}.rootfs.cpio.gz"
DOMUD_SERVICE_CMDLINE[example] = "console=hvc0 loglevel=4"
DOMUD_SERVICE_MEMORY[example] = "128M"
DOMUD_SERVICE_AUTOSTART[example] = "yes"
DOMUD_SERVICE_RESTART[example] = "on-failure"
DOMUD_SERVICE_DEPENDS[example] = "core-image-minimal-initramfs:do_image_complete virtual/kernel:do_deploy"
