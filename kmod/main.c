// SPDX-License-Identifier: GPL-2.0
/*
 * tscf: TSCF tunnels with dynamic per-socket encryption (DTTE).
 */
#include <linux/module.h>
#include <net/genetlink.h>

#include "device.h"
#include "enclevel.h"
#include "netlink.h"
#include "server.h"
#include "stream.h"
#include "tunnel.h"

/*
 * Everything is set up before anything can reach it: the marked-socket
 * table and per-netns state, then the devices, and the genl family last,
 * since its commands walk the table and name devices.  Events raised
 * before the family exists are dropped (netlink.c).  Exit runs in reverse.
 */
static int __init tscf_init(void)
{
	int err;

	/*
	 * Not WQ_MEM_RECLAIM: its works unregister devices and release
	 * sockets, which flush works of ordinary workqueues (the backlog
	 * flush of unregister_netdevice(), kTLS's tx work), and a
	 * reclaim worker must not wait on those (check_flush_dependency()).
	 */
	tscf_wq = alloc_workqueue("tscf", WQ_UNBOUND, 0);
	if (!tscf_wq)
		return -ENOMEM;
	err = tscf_enclevel_init();
	if (err)
		goto err_wq;
	err = rtnl_link_register(&tscf_link_ops);
	if (err)
		goto err_enclevel;
	err = tscf_srv_init();
	if (err)
		goto err_link;
	err = tscf_genl_register();
	if (err)
		goto err_srv;

	pr_info("tscf: TSCF tunnel driver %s loaded\n", TSCF_DRV_VERSION);
	return 0;

err_srv:
	tscf_srv_exit();
err_link:
	rtnl_link_unregister(&tscf_link_ops);
	tscf_tunnel_exit();
err_enclevel:
	tscf_enclevel_exit();
err_wq:
	destroy_workqueue(tscf_wq);
	return err;
}

static void __exit tscf_exit(void)
{
	/* No new command, and events from here on are dropped. */
	tscf_genl_unregister();
	/* Server devices: their sockets' receive hooks point into this module. */
	tscf_srv_exit();
	/* Deletes every device pair in every namespace, detaching tunnels. */
	rtnl_link_unregister(&tscf_link_ops);
	tscf_tunnel_exit();
	tscf_enclevel_exit();
	/* Pending down_work only finds detached tunnels now; let it finish. */
	destroy_workqueue(tscf_wq);
	tscf_stream_exit();	/* no stream is left to send */
}

module_init(tscf_init);
module_exit(tscf_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TSCF tunnels with dynamic tunnel traffic encryption");
MODULE_VERSION(TSCF_DRV_VERSION);
MODULE_ALIAS_RTNL_LINK(TSCF_DRV_NAME);
MODULE_ALIAS_GENL_FAMILY(TSCF_GENL_NAME);
