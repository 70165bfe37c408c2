// SPDX-License-Identifier: GPL-2.0
/*
 * tscf: TSCF tunnels with dynamic per-socket encryption (DTTE).
 */
#include <linux/module.h>

#include "device.h"

static int __init tscf_init(void)
{
	int err;

	err = rtnl_link_register(&tscf_link_ops);
	if (err)
		return err;

	pr_info("tscf: TSCF tunnel driver %s loaded\n", TSCF_DRV_VERSION);
	return 0;
}

static void __exit tscf_exit(void)
{
	/* Deletes every tscf device pair in every namespace. */
	rtnl_link_unregister(&tscf_link_ops);
}

module_init(tscf_init);
module_exit(tscf_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TSCF tunnels with dynamic tunnel traffic encryption");
MODULE_VERSION(TSCF_DRV_VERSION);
MODULE_ALIAS_RTNL_LINK(TSCF_DRV_NAME);
