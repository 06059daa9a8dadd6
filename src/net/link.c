// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bridges, addresses and the default route, through libnl-route-3. A bridge
 * that exists already is taken as it is (an image may create it at boot);
 * only a missing address or a down link is changed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/route.h>

#include "link.h"
#include "base/log.h"
#include "base/util.h"

static struct nl_sock *
nl_open(struct err *e)
{
	struct nl_sock *sk;
	int rc;

	if ((sk = nl_socket_alloc()) == NULL) {
		err_set(e, ENOMEM, "netlink: out of memory");
		return NULL;
	}
	if ((rc = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		err_set(e, EIO, "netlink: %s", nl_geterror(rc));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

struct addr_find {
	int		 ifindex;
	uint32_t	 gw;		/* network order */
	unsigned	 prefix;
	int		 found;
};

static void
addr_match(struct nl_object *o, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	struct addr_find *f = arg;
	struct nl_addr *local = rtnl_addr_get_local(a);

	if (rtnl_addr_get_ifindex(a) != f->ifindex ||
	    rtnl_addr_get_family(a) != AF_INET || local == NULL ||
	    nl_addr_get_len(local) != 4)
		return;
	if (memcmp(nl_addr_get_binary_addr(local), &f->gw, 4) == 0 &&
	    (unsigned)rtnl_addr_get_prefixlen(a) == f->prefix)
		f->found = 1;
}

static int
has_addr(struct nl_sock *sk, int ifindex, uint32_t gw, unsigned prefix,
    int *found, struct err *e)
{
	struct nl_cache *cache = NULL;
	struct addr_find f = { ifindex, htonl(gw), prefix, 0 };
	int rc;

	if ((rc = rtnl_addr_alloc_cache(sk, &cache)) < 0)
		return err_set(e, EIO, "netlink: addresses: %s", nl_geterror(rc));
	nl_cache_foreach(cache, addr_match, &f);
	nl_cache_free(cache);
	*found = f.found;
	return 0;
}

static int
add_addr(struct nl_sock *sk, int ifindex, uint32_t gw, unsigned prefix,
    struct err *e)
{
	struct rtnl_addr *a = NULL;
	struct nl_addr *local = NULL, *bcast = NULL;
	uint32_t be = htonl(gw), bc;
	int rc = -1, r;

	bc = htonl(gw | ~(prefix ? 0xffffffffu << (32 - prefix) : 0));
	if ((a = rtnl_addr_alloc()) == NULL ||
	    (local = nl_addr_build(AF_INET, &be, 4)) == NULL ||
	    (bcast = nl_addr_build(AF_INET, &bc, 4)) == NULL) {
		err_set(e, ENOMEM, "netlink: out of memory");
		goto out;
	}
	nl_addr_set_prefixlen(local, (int)prefix);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_family(a, AF_INET);
	if ((r = rtnl_addr_set_local(a, local)) < 0 ||
	    (r = rtnl_addr_set_broadcast(a, bcast)) < 0) {
		err_set(e, EINVAL, "netlink: address: %s", nl_geterror(r));
		goto out;
	}
	rtnl_addr_set_prefixlen(a, (int)prefix);
	if ((r = rtnl_addr_add(sk, a, 0)) < 0 && r != -NLE_EXIST) {
		err_set(e, EIO, "add address: %s", nl_geterror(r));
		goto out;
	}
	rc = 0;
out:
	if (local)
		nl_addr_put(local);
	if (bcast)
		nl_addr_put(bcast);
	if (a)
		rtnl_addr_put(a);
	return rc;
}

int
link_bridge_ensure(const char *name, uint32_t gw, unsigned prefix,
    int *created, struct err *e)
{
	struct nl_sock *sk;
	struct rtnl_link *link = NULL, *change = NULL;
	int r, rc = -1, found = 0, ifindex;

	*created = 0;
	if ((sk = nl_open(e)) == NULL)
		return err_wrap(e, "bridge %s", name);
	r = rtnl_link_get_kernel(sk, 0, name, &link);
	if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV) {
		struct rtnl_link *nb = rtnl_link_bridge_alloc();

		if (nb == NULL) {
			err_set(e, ENOMEM, "out of memory");
			goto out;
		}
		rtnl_link_set_name(nb, name);
		r = rtnl_link_add(sk, nb, NLM_F_CREATE | NLM_F_EXCL);
		rtnl_link_put(nb);
		if (r < 0 && r != -NLE_EXIST) {
			err_set(e, EIO, "create: %s", nl_geterror(r));
			goto out;
		}
		*created = r == 0;
		r = rtnl_link_get_kernel(sk, 0, name, &link);
	}
	if (r < 0) {
		err_set(e, EIO, "%s", nl_geterror(r));
		goto out;
	}
	if (!rtnl_link_is_bridge(link)) {
		err_set(e, EEXIST, "exists and is not a bridge");
		goto out;
	}
	ifindex = rtnl_link_get_ifindex(link);
	if (has_addr(sk, ifindex, gw, prefix, &found, e) == -1)
		goto out;
	if (!found && add_addr(sk, ifindex, gw, prefix, e) == -1)
		goto out;
	if (!(rtnl_link_get_flags(link) & IFF_UP)) {
		if ((change = rtnl_link_alloc()) == NULL) {
			err_set(e, ENOMEM, "out of memory");
			goto out;
		}
		rtnl_link_set_flags(change, IFF_UP);
		if ((r = rtnl_link_change(sk, link, change, 0)) < 0) {
			err_set(e, EIO, "set up: %s", nl_geterror(r));
			goto out;
		}
	}
	rc = 0;
out:
	if (change)
		rtnl_link_put(change);
	if (link)
		rtnl_link_put(link);
	nl_socket_free(sk);
	if (rc == -1) {
		if (*created) {
			struct err e2 = ERR_INIT;
			(void)link_bridge_delete(name, &e2);
			*created = 0;
		}
		err_wrap(e, "bridge %s", name);
	}
	return rc;
}

int
link_bridge_delete(const char *name, struct err *e)
{
	struct nl_sock *sk;
	struct rtnl_link *l;
	int r;

	if ((sk = nl_open(e)) == NULL)
		return -1;
	if ((l = rtnl_link_alloc()) == NULL) {
		nl_socket_free(sk);
		return err_set(e, ENOMEM, "out of memory");
	}
	rtnl_link_set_name(l, name);
	r = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	nl_socket_free(sk);
	if (r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV)
		return err_set(e, EIO, "bridge %s: delete: %s", name,
		    nl_geterror(r));
	return 0;
}

int
link_bridge_state(const char *name, uint32_t gw, unsigned prefix,
    struct bridge_state *st, struct err *e)
{
	struct nl_sock *sk;
	struct rtnl_link *link = NULL;
	int r, rc = 0;

	memset(st, 0, sizeof(*st));
	if ((sk = nl_open(e)) == NULL)
		return -1;
	r = rtnl_link_get_kernel(sk, 0, name, &link);
	if (r >= 0) {
		st->exists = 1;
		st->is_bridge = rtnl_link_is_bridge(link);
		st->up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
		rc = has_addr(sk, rtnl_link_get_ifindex(link), gw, prefix,
		    &st->has_addr, e);
		rtnl_link_put(link);
	}
	nl_socket_free(sk);
	return rc;
}

struct route_find {
	int		 ifindex;
	uint32_t	 prio;
};

static void
route_match(struct nl_object *o, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)o;
	struct route_find *f = arg;
	struct nl_addr *dst = rtnl_route_get_dst(r);
	struct rtnl_nexthop *nh;

	if (rtnl_route_get_table(r) != RT_TABLE_MAIN ||
	    rtnl_route_get_family(r) != AF_INET ||
	    rtnl_route_get_type(r) != RTN_UNICAST ||
	    (dst != NULL && nl_addr_get_prefixlen(dst) != 0) ||
	    rtnl_route_get_nnexthops(r) < 1)
		return;
	nh = rtnl_route_nexthop_n(r, 0);
	if (f->ifindex == 0 || rtnl_route_get_priority(r) < f->prio) {
		f->ifindex = rtnl_route_nh_get_ifindex(nh);
		f->prio = rtnl_route_get_priority(r);
	}
}

int
link_counters(const char *name, uint64_t c[4], struct err *e)
{
	struct nl_sock *sk;
	struct rtnl_link *link = NULL;
	int r;

	if ((sk = nl_open(e)) == NULL)
		return -1;
	r = rtnl_link_get_kernel(sk, 0, name, &link);
	if (r < 0) {
		nl_socket_free(sk);
		return err_set(e, EIO, "%s: %s", name, nl_geterror(r));
	}
	c[0] = rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES);
	c[1] = rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES);
	c[2] = rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS);
	c[3] = rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return 0;
}

int
link_default_uplink(char *name, size_t sz, struct err *e)
{
	struct nl_sock *sk;
	struct nl_cache *cache = NULL;
	struct route_find f = { 0, 0 };
	char buf[IF_NAMESIZE];
	int r;

	name[0] = '\0';
	if ((sk = nl_open(e)) == NULL)
		return -1;
	if ((r = rtnl_route_alloc_cache(sk, AF_INET, 0, &cache)) < 0) {
		nl_socket_free(sk);
		return err_set(e, EIO, "netlink: routes: %s", nl_geterror(r));
	}
	nl_cache_foreach(cache, route_match, &f);
	nl_cache_free(cache);
	nl_socket_free(sk);
	if (f.ifindex > 0 && if_indextoname((unsigned)f.ifindex, buf) != NULL)
		strlcpy_(name, buf, sz);
	return 0;
}

static int
write_sysctl(const char *path, const char *v)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	n = write(fd, v, strlen(v));
	close(fd);
	return n == (ssize_t)strlen(v) ? 0 : -1;
}

int
link_ip_forward(struct err *e)
{
	if (write_sysctl("/proc/sys/net/ipv4/ip_forward", "1\n") == -1)
		return err_set(e, errno, "enable IPv4 forwarding: %s",
		    strerror(errno));
	return 0;
}

int
link_br_netfilter(struct err *e)
{
	const char *p = "/proc/sys/net/bridge/bridge-nf-call-iptables";

	if (access(p, F_OK) == -1)
		return 0;
	if (write_sysctl(p, "1\n") == -1)
		return err_set(e, errno, "%s: %s", p, strerror(errno));
	return 1;
}
