// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domud-agent's network settings: xenstore keys that domud wrote under the
 * domain (read through the xenbus device, no library), or the same on the
 * kernel command line; applied with plain ioctls (no ip(8) in a minimal
 * initramfs).
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

/* xenstore's wire header (xen/io/xs_wire.h) */
struct xsd_msg {
	uint32_t	 type, req_id, tx_id, len;
};
#define XS_READ		2
#define XS_ERROR	16

static int
xs_read(int fd, const char *path, char *out, size_t outsz)
{
	struct xsd_msg m = { XS_READ, 1, 0, (uint32_t)strlen(path) + 1 };
	char buf[sizeof(m) + 256];
	ssize_t n;

	if (m.len > 256)
		return -1;
	memcpy(buf, &m, sizeof(m));
	memcpy(buf + sizeof(m), path, m.len);
	if (write(fd, buf, sizeof(m) + m.len) != (ssize_t)(sizeof(m) + m.len))
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < (ssize_t)sizeof(m))
		return -1;
	memcpy(&m, buf, sizeof(m));
	if (m.type == XS_ERROR || m.len > (size_t)n - sizeof(m) ||
	    m.len >= outsz)
		return -1;
	memcpy(out, buf + sizeof(m), m.len);
	out[m.len] = '\0';
	return 0;
}

static int
cmdline_word(const char *key, char *out, size_t outsz)
{
	char buf[4096], *w, *save = NULL;
	size_t klen = strlen(key);
	ssize_t n;
	int fd;

	if ((fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n",
	    &save))
		if (strncmp(w, key, klen) == 0 && w[klen] == '=' &&
		    strlen(w + klen + 1) < outsz) {
			memcpy(out, w + klen + 1, strlen(w + klen + 1) + 1);
			return 0;
		}
	return -1;
}

int
agent_net_settings(char *ip, size_t ipsz, char *gw, size_t gwsz,
    const char **source)
{
	int fd;

	/* relative paths are under the domain's own /local/domain/ID */
	if ((fd = open("/dev/xen/xenbus", O_RDWR | O_CLOEXEC)) != -1) {
		int ok = xs_read(fd, "domud/net/ip", ip, ipsz) == 0 &&
		    xs_read(fd, "domud/net/gateway", gw, gwsz) == 0;

		close(fd);
		if (ok) {
			*source = "xenstore";
			return 0;
		}
	}
	if (cmdline_word("domud.ip", ip, ipsz) == 0) {
		if (cmdline_word("domud.gw", gw, gwsz) == -1)
			gw[0] = '\0';
		*source = "cmdline";
		return 0;
	}
	return -1;
}

static int
set_addr(int s, unsigned long req, const char *ifname, struct in_addr a)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	sin->sin_family = AF_INET;
	sin->sin_addr = a;
	return ioctl(s, req, &ifr);
}

int
agent_net_apply(const char *ifname, const char *ip, const char *gw)
{
	char addr[32], *slash;
	struct in_addr a, m, g;
	struct ifreq ifr;
	struct rtentry rt;
	unsigned prefix = 24;
	int s, rc = -1;

	snprintf(addr, sizeof(addr), "%s", ip);
	if ((slash = strchr(addr, '/')) != NULL) {
		*slash = '\0';
		prefix = (unsigned)atoi(slash + 1);
	}
	if (inet_pton(AF_INET, addr, &a) != 1 || prefix > 32) {
		errno = EINVAL;
		return -1;
	}
	m.s_addr = htonl(prefix ? 0xffffffffu << (32 - prefix) : 0);
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (set_addr(s, SIOCSIFADDR, ifname, a) == -1 ||
	    set_addr(s, SIOCSIFNETMASK, ifname, m) == -1)
		goto out;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
		goto out;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1)
		goto out;
	if (gw[0] && inet_pton(AF_INET, gw, &g) == 1) {
		struct sockaddr_in *d = (struct sockaddr_in *)&rt.rt_dst,
		    *gwa = (struct sockaddr_in *)&rt.rt_gateway,
		    *mk = (struct sockaddr_in *)&rt.rt_genmask;

		memset(&rt, 0, sizeof(rt));
		d->sin_family = gwa->sin_family = mk->sin_family = AF_INET;
		gwa->sin_addr = g;
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		if (ioctl(s, SIOCADDRT, &rt) == -1 && errno != EEXIST)
			goto out;
	}
	rc = 0;
out:
	close(s);
	return rc;
}
