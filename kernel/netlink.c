// SPDX-License-Identifier: GPL-2.0
/*
 * netlink.c - generic netlink family "vnvme": events and statistics.
 * Placeholder until the netlink work lands; the hooks are already called.
 */
#include "vnvme.h"

int vnvme_netlink_init(void)
{
	return 0;
}

void vnvme_netlink_exit(void)
{
}

void vnvme_notify(struct vnvme_ctrl *ctrl, enum vnvme_event event, u32 nsid,
		  u16 status)
{
}
