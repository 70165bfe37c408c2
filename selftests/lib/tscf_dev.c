// SPDX-License-Identifier: GPL-2.0
/*
 * tscf_dev DEV [STAT]: one tscf DEV_GET, for the shell tests' polls.
 *
 *   tscf_dev DEV        prints "tunnel" if DEV has a tunnel, else "none"
 *   tscf_dev DEV STAT   prints the tunnel's counter STAT (the names of
 *                       tscf_nl.py's STATS); exit 1 without a tunnel
 *
 * Exit 1 on any error (no such device, no tscf family), with a message.
 * The same request as `tscf_nl.py dev DEV`, in C: a python start costs a
 * second or two of CPU in the TCG guest, and the tests poll this often
 * (has_tunnel, tunnel_stat in lib.sh).  Raw netlink, no libnl: like
 * tscf_nl.py, independent of tscfctl.  Attribute numbers are the uapi's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "linux/tscf_genl.h"

#define BUF_LEN	16384

struct nl {
	int fd;
	uint32_t seq;
	char buf[BUF_LEN] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static const char *const stat_names[] = {
	[TSCF_STATS_A_TX_PACKETS] = "tx_packets",
	[TSCF_STATS_A_TX_BYTES] = "tx_bytes",
	[TSCF_STATS_A_RX_PACKETS] = "rx_packets",
	[TSCF_STATS_A_RX_BYTES] = "rx_bytes",
	[TSCF_STATS_A_TX_CTRL] = "tx_ctrl",
	[TSCF_STATS_A_RX_CTRL] = "rx_ctrl",
	[TSCF_STATS_A_RX_MALFORMED] = "rx_malformed",
	[TSCF_STATS_A_TX_DROPPED] = "tx_dropped",
	[TSCF_STATS_A_TX_BLOCKED] = "tx_blocked",
	[TSCF_STATS_A_RX_BLOCKED] = "rx_blocked",
	[TSCF_STATS_A_TX_MALFORMED] = "tx_malformed",
	[TSCF_STATS_A_RX_AUTH_FAILED] = "rx_auth_failed",
	[TSCF_STATS_A_RX_REPLAYED] = "rx_replayed",
	[TSCF_STATS_A_TX_SUPER_FRAMES] = "tx_super_frames",
	[TSCF_STATS_A_TXQ_BYTES] = "txq_bytes",
};

static void die(const char *what)
{
	fprintf(stderr, "tscf_dev: %s\n", what);
	exit(1);
}

static void put_attr(struct nlmsghdr *h, uint16_t type, const void *data,
		     uint16_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* Send one request; return the first reply's genl payload (or exit). */
static struct nlmsghdr *request(struct nl *nl, uint16_t family, uint8_t cmd,
				uint16_t attr, const char *str)
{
	struct {
		struct nlmsghdr h;
		struct genlmsghdr g;
		char attrs[64];
	} req;
	struct nlmsghdr *h;
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req.h.nlmsg_type = family;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.h.nlmsg_seq = ++nl->seq;
	req.g.cmd = cmd;
	req.g.version = TSCF_GENL_VERSION;
	if (strlen(str) + 1 > sizeof(req.attrs) - NLA_HDRLEN)
		die("name too long");
	put_attr(&req.h, attr, str, strlen(str) + 1);
	if (send(nl->fd, &req, req.h.nlmsg_len, 0) < 0)
		die(strerror(errno));
	for (;;) {
		n = recv(nl->fd, nl->buf, sizeof(nl->buf), 0);
		if (n < 0)
			die(strerror(errno));
		for (h = (struct nlmsghdr *)nl->buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != nl->seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				die(e->error ? strerror(-e->error) : "no reply");
			}
			return h;
		}
	}
}

/* The attribute of type want among those in [p, p + len), or NULL. */
static struct nlattr *find(void *p, int len, uint16_t want)
{
	struct nlattr *a = p;

	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= len) {
		if ((a->nla_type & NLA_TYPE_MASK) == want)
			return a;
		len -= NLA_ALIGN(a->nla_len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	return NULL;
}

#define NLA_DATA(a)	((void *)((char *)(a) + NLA_HDRLEN))
#define NLA_LEN(a)	((int)(a)->nla_len - NLA_HDRLEN)

static uint16_t tscf_family(struct nl *nl)
{
	struct nlmsghdr *h = request(nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
				     CTRL_ATTR_FAMILY_NAME, TSCF_GENL_NAME);
	struct nlattr *a = find((char *)NLMSG_DATA(h) + GENL_HDRLEN,
				h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN),
				CTRL_ATTR_FAMILY_ID);
	uint16_t id;

	if (!a || NLA_LEN(a) < 2)
		die("no family id");
	memcpy(&id, NLA_DATA(a), 2);
	return id;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nlattr *tun, *stats, *a;
	struct nlmsghdr *h;
	struct nl *nl;
	uint64_t v;
	size_t i;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: tscf_dev DEV [STAT]\n");
		return 2;
	}
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		die("out of memory");
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0 || bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(strerror(errno));
	h = request(nl, tscf_family(nl), TSCF_CMD_DEV_GET, TSCF_A_IFNAME, argv[1]);
	tun = find((char *)NLMSG_DATA(h) + GENL_HDRLEN,
		   h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), TSCF_A_TUNNEL);
	if (argc == 2) {
		puts(tun ? "tunnel" : "none");
		return 0;
	}
	if (!tun)
		die("no tunnel");
	stats = find(NLA_DATA(tun), NLA_LEN(tun), TSCF_TUNNEL_A_STATS);
	if (!stats)
		die("no stats");
	for (i = 0; i < sizeof(stat_names) / sizeof(stat_names[0]); i++) {
		if (!stat_names[i] || strcmp(stat_names[i], argv[2]))
			continue;
		a = find(NLA_DATA(stats), NLA_LEN(stats), i);
		if (!a || NLA_LEN(a) != sizeof(v))
			die("counter not in the reply");
		memcpy(&v, NLA_DATA(a), sizeof(v));
		printf("%" PRIu64 "\n", v);
		return 0;
	}
	die("unknown counter");
}
