// SPDX-License-Identifier: GPL-2.0
/*
 * The server's TUN device: inner packets to and from the service network.
 * tscfd also configures it (unless "tun-configure no"): the server side of
 * every pool (its .1, which the pool never hands out) with the pool's
 * prefix length, the MTU told to clients, and the link up, over rtnetlink
 * (libnl-route).  An address is added with NLM_F_REPLACE, so a device an
 * admin had already set up is left as it was.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "tscfd.h"

/* Every packet on the TUN carries a virtio_net_hdr (IFF_VNET_HDR). */
static bool tun_vnet;

/*
 * The TUN device with a virtio_net_hdr before each packet and checksum
 * offload (TUN_F_CSUM): the service network's stack hands its packets
 * over with the transport checksum still to do, and tscfd does it, once,
 * in tscfd_tun_read(); on the way in, a packet whose tunnel checked its
 * bytes is marked as checked (tscfd_tun_write()), so the service side
 * does not checksum it again.  No segmentation offload: a packet read is
 * a packet that fits the tunnel.  A kernel without these gets the plain
 * device.
 */
int tscfd_tun_open(const char *name)
{
	struct ifreq ifr;
	int fd, err;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	tun_vnet = true;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
		tun_vnet = false;
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	if (tun_vnet && ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_F_CSUM) < 0)
		tscfd_logp(LOG_WARNING, "TUN device %s: no checksum offload: %s", name,
			   strerror(errno));
	return fd;
}

/* RFC 1071: the ones' complement sum of len bytes, added to sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/*
 * NEEDS_CSUM: the field at csum_start + csum_offset holds the pseudo
 * header's sum; the sum from csum_start to the end finishes it (as the
 * kernel's skb_checksum_help() would).  false if it points outside.
 */
static bool csum_finish(uint8_t *p, size_t len, const struct virtio_net_hdr *h)
{
	size_t start = h->csum_start, at = start + h->csum_offset;
	uint32_t sum;
	uint16_t c;

	if (start < 20 || at + 2 > len)
		return false;
	sum = csum_add(0, p + start, len - start);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	c = (uint16_t)~sum;
	if (!c)
		c = 0xffff;	/* 0 would mean "no checksum" to UDP */
	p[at] = (uint8_t)(c >> 8);
	p[at + 1] = (uint8_t)c;
	return true;
}

/*
 * One packet from the TUN into buf: its length and where it starts, 0 if
 * it was dropped (counted), -1 when there is nothing more to read.
 */
ssize_t tscfd_tun_read(uint8_t *buf, size_t cap, uint8_t **pkt)
{
	struct virtio_net_hdr h;
	ssize_t n = read(tscfd_tunfd, buf, cap);

	if (n <= 0)
		return -1;
	*pkt = buf;
	if (!tun_vnet)
		return n;
	if ((size_t)n < sizeof(h)) {
		tscfd_stats.drop_malformed++;
		return 0;
	}
	memcpy(&h, buf, sizeof(h));
	*pkt = buf + sizeof(h);
	n -= (ssize_t)sizeof(h);
	/* Never asked for (no TUN_F_TSO*): a super-packet would not fit. */
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE ||
	    ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	     !csum_finish(*pkt, (size_t)n, &h))) {
		tscfd_stats.drop_malformed++;
		return 0;
	}
	return n;
}

/* The ones' complement sum folded to 16 bits (not inverted). */
static uint16_t csum_fold16(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * A TCP or UDP packet that is whole (not a fragment, no IPv6 extension
 * header, lengths that agree): where its checksum starts and lies, and the
 * pseudo header's sum to put there, as a sender's stack leaves it for the
 * device.  false for anything else, which goes as it came.
 */
static bool partial_of(const uint8_t *p, size_t len, struct virtio_net_hdr *h,
		       uint16_t *pseudo)
{
	size_t l3, l4len;
	uint32_t sum;
	uint8_t proto;

	if (len >= 20 && p[0] >> 4 == 4) {
		l3 = (size_t)(p[0] & 15) * 4;
		if (l3 < 20 || ((size_t)p[2] << 8 | p[3]) != len ||
		    (((p[6] << 8) | p[7]) & 0x3fff))	/* MF or an offset */
			return false;
		proto = p[9];
		sum = csum_add(0, p + 12, 8);
	} else if (len >= 40 && p[0] >> 4 == 6) {
		l3 = 40;
		if (((size_t)p[4] << 8 | p[5]) + 40 != len)
			return false;
		proto = p[6];
		sum = csum_add(0, p + 8, 32);
	} else {
		return false;
	}
	if (l3 > len || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return false;
	l4len = len - l3;
	if (l4len < (proto == IPPROTO_TCP ? 20u : 8u))
		return false;
	*pseudo = csum_fold16(sum + proto + (uint32_t)(l4len >> 16) +
			      (uint32_t)(l4len & 0xffff));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)l3;
	h->csum_offset = proto == IPPROTO_TCP ? 16 : 6;
	h->hdr_len = (uint16_t)(l3 + h->csum_offset + 2);
	return true;
}

/*
 * One packet to the service network.  checked: the tunnel's transport
 * verified these bytes (a TCP checksum, a TLS or DTLS record's MAC, a UDP
 * checksum over IPv6, where it cannot be left out).  Such a TCP or UDP
 * packet goes in as one whose checksum is left to the device (NEEDS_CSUM,
 * the pseudo header's sum in its field, as a local sender's stack would
 * hand it over), so the service side does not verify it again, and a
 * device that sends it on computes it.  Not over IPv4 UDP, whose checksum
 * a sender may leave out: those packets are verified as before.
 */
int tscfd_tun_write(const uint8_t *p, size_t len, bool checked)
{
	struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	uint8_t head[128];	/* IPv4 options: 60 + 18 at most */
	uint16_t pseudo;
	struct iovec iov[3] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)p, .iov_len = len },
	};
	int n = 2;

	if (!tun_vnet)
		return write(tscfd_tunfd, p, len) == (ssize_t)len ? 0 : -1;
	if (checked && partial_of(p, len, &h, &pseudo)) {
		memcpy(head, p, h.hdr_len);
		head[h.hdr_len - 2] = (uint8_t)(pseudo >> 8);
		head[h.hdr_len - 1] = (uint8_t)pseudo;
		iov[1].iov_base = head;
		iov[1].iov_len = h.hdr_len;
		iov[2].iov_base = (void *)(p + h.hdr_len);
		iov[2].iov_len = len - h.hdr_len;
		n = 3;
	}
	return writev(tscfd_tunfd, iov, n) == (ssize_t)(sizeof(h) + len) ? 0 : -1;
}

bool tscfd_tun_vnet(void)
{
	return tun_vnet;
}

/*
 * The IP header of a TCP super-frame (PROTOCOL.md 1.3): IPv4 not a
 * fragment, IPv6 with TCP right after the fixed header (an extension
 * header is refused, not walked), the IP length the frame's.  Its length
 * in *l3, the GSO type in h, the pseudo header's sum without the length.
 */
static bool super_ip(const uint8_t *p, size_t len, struct virtio_net_hdr *h,
		     size_t *l3, uint32_t *sum)
{
	if (len >= 20 && p[0] >> 4 == 4) {
		*l3 = (size_t)(p[0] & 15) * 4;
		if (*l3 < 20 || ((size_t)p[2] << 8 | p[3]) != len ||
		    (((p[6] << 8) | p[7]) & 0x3fff) || p[9] != IPPROTO_TCP)
			return false;
		h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		*sum = csum_add(0, p + 12, 8);
	} else if (len >= 40 && p[0] >> 4 == 6) {
		*l3 = 40;
		if (((size_t)p[4] << 8 | p[5]) + 40 != len || p[6] != IPPROTO_TCP)
			return false;
		h->gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
		*sum = csum_add(0, p + 8, 32);
	} else {
		return false;
	}
	return true;
}

/*
 * The virtio_net_hdr that has the TUN cut a super-frame into segments of
 * at most mtu bytes, and the pseudo header's sum for its checksum field;
 * false if p is not one TCP segment with payload whose segments would
 * carry some.  The client's checksum is not one (the tunnel's transport
 * checked the bytes): the kernel computes each segment's.
 */
static bool super_of(const uint8_t *p, size_t len, unsigned int mtu,
		     struct virtio_net_hdr *h, uint16_t *pseudo)
{
	size_t l3, thl, l4len;
	uint32_t sum;

	if (len > TSCF_MAX_FRAME_LEN || !super_ip(p, len, h, &l3, &sum) ||
	    l3 + 20 > len)
		return false;
	thl = (size_t)(p[l3 + 12] >> 4) * 4;
	if (thl < 20 || l3 + thl >= len || l3 + thl >= mtu)
		return false;	/* no payload, or no room for any per segment */
	l4len = len - l3;
	*pseudo = csum_fold16(sum + IPPROTO_TCP + (uint32_t)(l4len >> 16) +
			      (uint32_t)(l4len & 0xffff));
	if (p[l3 + 13] & 0x80)	/* CWR: the kernel keeps it on the first only */
		h->gso_type |= VIRTIO_NET_HDR_GSO_ECN;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)l3;
	h->csum_offset = 16;
	h->hdr_len = (uint16_t)(l3 + thl);
	h->gso_size = (uint16_t)(mtu - l3 - thl);
	return true;
}

/*
 * A TCP super-frame from a stream tunnel that was offered them, in ONE
 * write: the TUN's GSO (tcp_gso_segment) cuts it into MTU-sized segments
 * with their checksums on its way to the service network.  -EINVAL if it
 * is not such a frame (the caller drops and counts it), -EIO if the TUN
 * refused it.
 */
int tscfd_tun_write_super(const uint8_t *p, size_t len, unsigned int mtu)
{
	struct virtio_net_hdr h = { 0 };
	uint8_t head[60 + 60];	/* IP and TCP headers, options included */
	uint16_t pseudo;
	struct iovec iov[3];

	if (!tun_vnet || !super_of(p, len, mtu, &h, &pseudo))
		return -EINVAL;
	memcpy(head, p, h.hdr_len);
	head[h.csum_start + 16] = (uint8_t)(pseudo >> 8);
	head[h.csum_start + 17] = (uint8_t)pseudo;
	iov[0] = (struct iovec){ .iov_base = &h, .iov_len = sizeof(h) };
	iov[1] = (struct iovec){ .iov_base = head, .iov_len = h.hdr_len };
	iov[2] = (struct iovec){ .iov_base = (void *)(p + h.hdr_len),
				 .iov_len = len - h.hdr_len };
	if (writev(tscfd_tunfd, iov, 3) != (ssize_t)(sizeof(h) + len))
		return -EIO;
	return 0;
}

/* The pool's first address, base + 1: the server's side (pool.c). */
void tscfd_pool_gateway(const struct tscfd_pool *p, struct tscf_addr *a)
{
	uint32_t low;

	memset(a, 0, sizeof(*a));
	a->family = p->family;
	if (p->family == 4) {
		memcpy(&low, &p->base, 4);
		a->v4.s_addr = htonl(ntohl(low) + 1);
	} else {
		a->v6 = p->base;
		memcpy(&low, &a->v6.s6_addr[12], 4);
		low = htonl(ntohl(low) + 1);
		memcpy(&a->v6.s6_addr[12], &low, 4);
	}
}

static int add_addr(struct nl_sock *sk, int ifindex, const struct tscfd_pool *p)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct tscf_addr gw;
	struct nl_addr *local;
	int rc;

	if (!ra)
		return -NLE_NOMEM;
	tscfd_pool_gateway(p, &gw);
	local = nl_addr_build(p->family == 4 ? AF_INET : AF_INET6,
			      p->family == 4 ? (void *)&gw.v4 : (void *)&gw.v6,
			      p->family == 4 ? 4 : 16);
	if (!local) {
		rtnl_addr_put(ra);
		return -NLE_NOMEM;
	}
	nl_addr_set_prefixlen(local, (int)p->plen);
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_local(ra, local);
	/* A point-to-point device has no neighbours to detect duplicates with. */
	if (p->family == 6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	rc = rtnl_addr_add(sk, ra, NLM_F_REPLACE);
	rtnl_addr_put(ra);
	nl_addr_put(local);
	return rc;
}

static int link_up(struct nl_sock *sk, int ifindex, unsigned int mtu)
{
	struct rtnl_link *cur, *chg = rtnl_link_alloc();
	int rc;

	if (!chg)
		return -NLE_NOMEM;
	rc = rtnl_link_get_kernel(sk, ifindex, NULL, &cur);
	if (rc) {
		rtnl_link_put(chg);
		return rc;
	}
	rtnl_link_set_mtu(chg, mtu);
	rtnl_link_set_flags(chg, IFF_UP);
	rc = rtnl_link_change(sk, cur, chg, 0);
	rtnl_link_put(cur);
	rtnl_link_put(chg);
	return rc;
}

/* 0, or -1 with the reason logged. */
int tscfd_tun_configure(const struct tscfd_config *conf)
{
	int ifindex = (int)if_nametoindex(conf->tun_name);
	struct nl_sock *sk;
	unsigned int i;
	int rc;

	if (!ifindex) {
		tscfd_logp(LOG_ERR, "TUN device %s: %s", conf->tun_name, strerror(errno));
		return -1;
	}
	sk = nl_socket_alloc();
	if (!sk) {
		tscfd_logp(LOG_ERR, "TUN device %s: out of memory", conf->tun_name);
		return -1;
	}
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (!rc)
		rc = link_up(sk, ifindex, conf->mtu);
	/*
	 * With the kernel data path the pools are routed into its server
	 * device; the TUN, up without them, takes what that device punts.
	 */
	if (!rc && tscfd_kdp_on()) {
		ifindex = tscfd_kdp_ifindex();
		rc = link_up(sk, ifindex, conf->mtu);
	}
	for (i = 0; !rc && i < conf->niface; i++) {
		const struct tscfd_iface *f = &conf->iface[i];

		if (f->pool4.set)
			rc = add_addr(sk, ifindex, &f->pool4);
		if (!rc && f->pool6.set)
			rc = add_addr(sk, ifindex, &f->pool6);
	}
	nl_socket_free(sk);
	if (rc) {
		tscfd_logp(LOG_ERR, "cannot configure TUN device %s: %s", conf->tun_name,
			   nl_geterror(rc));
		return -1;
	}
	tscfd_log("TUN device %s: up, mtu %u, the pools' first addresses set on %s",
		  conf->tun_name, conf->mtu,
		  tscfd_kdp_on() ? tscfd_kdp_name() : conf->tun_name);
	return 0;
}
