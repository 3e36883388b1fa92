// SPDX-License-Identifier: GPL-2.0
/*
 * vnvme-ctrl-events - drive one vnvme instance through every controller
 * state change that has a netlink event, in a fixed order, for the L1 suite
 * 50-netlink-userspace.sh:
 *
 *   VFIO reset -> ctrl-reset, enable -> ctrl-enabled, CC.SHN -> ctrl-shutdown,
 *   CC.EN = 0 -> ctrl-disabled, enable with an invalid admin queue ->
 *   ctrl-fatal, VFIO reset -> ctrl-reset (the instance recovers).
 *
 * Prints one line per step; exits 0 if every step behaved.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libvnvme.h"

static int step(const char *what, int ret)
{
	printf("%s: %s\n", what, ret ? vnvme_last_error() : "ok");
	fflush(stdout);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct vnvme_open_opts opts = { 0 };
	struct vnvme_ctrl ctrl;
	struct vnvme_dev *dev;
	uint32_t csts = 0;
	int fails = 0, ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s UUID\n", argv[0]);
		return 2;
	}
	ret = vnvme_open(argv[1], &opts, &dev);
	if (ret) {
		fprintf(stderr, "open %s: %s\n", argv[1], vnvme_last_error());
		return 1;
	}
	fails += step("reset", vnvme_device_reset(dev));
	ret = vnvme_ctrl_init(&ctrl, dev);
	if (ret) {
		step("init", ret);
		vnvme_close(dev);
		return 1;
	}
	fails += step("enable", vnvme_ctrl_enable(&ctrl, 0, -1));
	fails += step("shutdown", vnvme_ctrl_shutdown(&ctrl));
	fails += step("disable", vnvme_ctrl_disable(&ctrl));

	/* AQA = 0 is a 1-entry admin queue: the enable must be refused. */
	ret = vnvme_reg_write32(&ctrl, NVME_REG_AQA, 0);
	if (!ret)
		ret = vnvme_reg_write32(&ctrl, NVME_REG_CC, NVME_CC_EN |
					NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4));
	if (!ret)
		ret = vnvme_ctrl_wait_csts(&ctrl, NVME_CSTS_CFS, NVME_CSTS_CFS, 5000);
	fails += step("fatal", ret);
	vnvme_reg_read32(&ctrl, NVME_REG_CSTS, &csts);
	printf("csts: %#x\n", csts);

	fails += step("recover", vnvme_device_reset(dev));
	vnvme_ctrl_fini(&ctrl);
	vnvme_close(dev);
	return fails ? 1 : 0;
}
