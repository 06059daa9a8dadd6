SUMMARY = "A Xen Dom0 image with domud supervising an example DomU"
DESCRIPTION = "meta-virtualization's xen-image-minimal, plus domud, domuctl \
and the example guest of domud-example-guest."

require recipes-extended/images/xen-image-minimal.bb

IMAGE_INSTALL += "domud domud-bash-completion domud-example-guest"
