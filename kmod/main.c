// SPDX-License-Identifier: GPL-2.0
/*
 * tscf: TSCF tunnels with dynamic per-socket encryption (DTTE).
 */
#include <linux/module.h>
#include <net/genetlink.h>

#include "device.h"
#include "enclevel.h"
#include "netlink.h"
#include "tunnel.h"

static int __init tscf_init(void)
{
	int err;

	tscf_wq = alloc_workqueue("tscf", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!tscf_wq)
		return -ENOMEM;
	err = tscf_genl_register();
	if (err)
		goto err_wq;
	err = tscf_enclevel_init();
	if (err)
		goto err_genl;
	err = rtnl_link_register(&tscf_link_ops);
	if (err)
		goto err_enclevel;

	pr_info("tscf: TSCF tunnel driver %s loaded\n", TSCF_DRV_VERSION);
	return 0;

err_enclevel:
	tscf_enclevel_exit();
err_genl:
	tscf_genl_unregister();
err_wq:
	destroy_workqueue(tscf_wq);
	return err;
}

static void __exit tscf_exit(void)
{
	/* Deletes every device pair in every namespace, detaching tunnels. */
	rtnl_link_unregister(&tscf_link_ops);
	tscf_enclevel_exit();
	/* Pending down_work only finds detached tunnels now; let it finish. */
	destroy_workqueue(tscf_wq);
	tscf_genl_unregister();
}

module_init(tscf_init);
module_exit(tscf_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TSCF tunnels with dynamic tunnel traffic encryption");
MODULE_VERSION(TSCF_DRV_VERSION);
MODULE_ALIAS_RTNL_LINK(TSCF_DRV_NAME);
MODULE_ALIAS_GENL_FAMILY(TSCF_GENL_NAME);
