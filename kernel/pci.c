// SPDX-License-Identifier: GPL-2.0
/*
 * pci.c - PCI config space of a virtual controller: header, PM, MSI-X and
 * PCI Express capabilities.
 *
 * QEMU emulates BAR sizing, MSI-X and the capability chain pointers itself
 * but forwards every guest write here first and reads all other bits from
 * us, so the header must behave like hardware: only writable bits change.
 */
#include <linux/pci_regs.h>
#include <linux/string.h>

#include "vnvme.h"

#define VNVME_CAP_PM		0x40
#define VNVME_CAP_EXP		0x60
#define VNVME_CAP_EXP_SIZEOF	0x3c

/* Bits a guest may change, per byte; everything else is read-only. */
static u8 vnvme_config_wmask[PCI_STD_HEADER_SIZEOF + 0x100];

static void vnvme_put16(u8 *cfg, unsigned int off, u16 val)
{
	cfg[off] = val & 0xff;
	cfg[off + 1] = val >> 8;
}

static void vnvme_put32(u8 *cfg, unsigned int off, u32 val)
{
	vnvme_put16(cfg, off, val & 0xffff);
	vnvme_put16(cfg, off + 2, val >> 16);
}

static void vnvme_wmask_init(void)
{
	u8 *w = vnvme_config_wmask;
	u16 command = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		      PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
		      PCI_COMMAND_INTX_DISABLE;

	if (w[PCI_COMMAND])
		return;
	vnvme_put16(w, PCI_COMMAND, command);
	w[PCI_CACHE_LINE_SIZE] = 0xff;
	/* BAR0/1: 64-bit memory BAR of VNVME_BAR0_SIZE bytes. */
	vnvme_put32(w, PCI_BASE_ADDRESS_0, ~(VNVME_BAR0_SIZE - 1));
	vnvme_put32(w, PCI_BASE_ADDRESS_1, 0xffffffff);
	w[PCI_INTERRUPT_LINE] = 0xff;
	/* PM control/status: power state only. */
	w[VNVME_CAP_PM + PCI_PM_CTRL] = PCI_PM_CTRL_STATE_MASK;
	/* MSI-X message control: Function Mask and Enable. */
	w[VNVME_CAP_MSIX + PCI_MSIX_FLAGS + 1] = 0xc0;
	/* PCIe device control: error reporting, relaxed ordering, MPS, no-snoop, MRRS. */
	vnvme_put16(w, VNVME_CAP_EXP + PCI_EXP_DEVCTL, 0x7fff &
		    ~PCI_EXP_DEVCTL_BCR_FLR);
	vnvme_put16(w, VNVME_CAP_EXP + PCI_EXP_DEVCTL2, PCI_EXP_DEVCTL2_COMP_TIMEOUT);
}

void vnvme_pci_init_config(struct vnvme_ctrl *ctrl)
{
	u8 *cfg = ctrl->config;

	vnvme_wmask_init();
	memset(cfg, 0, VNVME_CONFIG_SIZE);
	vnvme_put16(cfg, PCI_VENDOR_ID, vnvme_vendor_id);
	vnvme_put16(cfg, PCI_DEVICE_ID, vnvme_device_id);
	vnvme_put16(cfg, PCI_STATUS, PCI_STATUS_CAP_LIST);
	cfg[PCI_REVISION_ID] = 0x02;
	cfg[PCI_CLASS_PROG] = 0x02;			/* NVM Express */
	vnvme_put16(cfg, PCI_CLASS_DEVICE, 0x0108);	/* mass storage, NVM */
	cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	vnvme_put32(cfg, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_SPACE_MEMORY |
		    PCI_BASE_ADDRESS_MEM_TYPE_64);
	vnvme_put16(cfg, PCI_SUBSYSTEM_VENDOR_ID, vnvme_subsys_vendor_id);
	vnvme_put16(cfg, PCI_SUBSYSTEM_ID, vnvme_subsys_id);
	cfg[PCI_CAPABILITY_LIST] = VNVME_CAP_PM;
	cfg[PCI_INTERRUPT_PIN] = 0;			/* MSI-X only */

	cfg[VNVME_CAP_PM] = PCI_CAP_ID_PM;
	cfg[VNVME_CAP_PM + PCI_CAP_LIST_NEXT] = VNVME_CAP_MSIX;
	vnvme_put16(cfg, VNVME_CAP_PM + PCI_PM_PMC, 3);	/* PM 1.2 */
	vnvme_put16(cfg, VNVME_CAP_PM + PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET);

	cfg[VNVME_CAP_MSIX] = PCI_CAP_ID_MSIX;
	cfg[VNVME_CAP_MSIX + PCI_CAP_LIST_NEXT] = VNVME_CAP_EXP;
	vnvme_put16(cfg, VNVME_CAP_MSIX + PCI_MSIX_FLAGS, ctrl->nr_vectors - 1);
	vnvme_put32(cfg, VNVME_CAP_MSIX + PCI_MSIX_TABLE, VNVME_MSIX_TABLE_OFFSET);
	vnvme_put32(cfg, VNVME_CAP_MSIX + PCI_MSIX_PBA, VNVME_MSIX_PBA_OFFSET);

	cfg[VNVME_CAP_EXP] = PCI_CAP_ID_EXP;
	cfg[VNVME_CAP_EXP + PCI_CAP_LIST_NEXT] = 0;
	vnvme_put16(cfg, VNVME_CAP_EXP + PCI_EXP_FLAGS,
		    PCI_EXP_TYPE_ENDPOINT << 4 | 2);
	/* 256-byte max payload, FLR not offered (reset is VFIO_DEVICE_RESET). */
	vnvme_put32(cfg, VNVME_CAP_EXP + PCI_EXP_DEVCAP, 1);
	vnvme_put16(cfg, VNVME_CAP_EXP + PCI_EXP_DEVCTL,
		    PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN |
		    (2 << 12));
	/* One lane at 8 GT/s, reported as trained. */
	vnvme_put32(cfg, VNVME_CAP_EXP + PCI_EXP_LNKCAP, 0x13);
	vnvme_put16(cfg, VNVME_CAP_EXP + PCI_EXP_LNKSTA, 0x13);
	vnvme_put32(cfg, VNVME_CAP_EXP + PCI_EXP_DEVCAP2,
		    PCI_EXP_DEVCAP2_COMP_TMOUT_DIS);
	vnvme_put16(cfg, VNVME_CAP_EXP + PCI_EXP_LNKCAP2, 0xe);
}

/* Function-level reset: the writable state returns to power-on values. */
void vnvme_pci_reset_config(struct vnvme_ctrl *ctrl)
{
	u8 line;

	mutex_lock(&ctrl->lock);
	line = ctrl->config[PCI_INTERRUPT_LINE];
	vnvme_pci_init_config(ctrl);
	ctrl->config[PCI_INTERRUPT_LINE] = line;
	mutex_unlock(&ctrl->lock);
}

static void vnvme_pci_config_write(struct vnvme_ctrl *ctrl, unsigned int pos,
				   const u8 *buf, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		unsigned int off = pos + i;
		u8 wmask;

		if (off >= sizeof(vnvme_config_wmask))
			continue;
		wmask = vnvme_config_wmask[off];
		ctrl->config[off] = (ctrl->config[off] & ~wmask) |
				    (buf[i] & wmask);
	}
}

int vnvme_pci_config_rw(struct vnvme_ctrl *ctrl, u64 pos, void *buf,
			size_t count, bool is_write)
{
	if (count != 1 && count != 2 && count != 4)
		return -EINVAL;
	if (pos >= VNVME_CONFIG_SIZE || count > VNVME_CONFIG_SIZE - pos)
		return -EINVAL;

	mutex_lock(&ctrl->lock);
	if (is_write)
		vnvme_pci_config_write(ctrl, pos, buf, count);
	else
		memcpy(buf, ctrl->config + pos, count);
	mutex_unlock(&ctrl->lock);
	return 0;
}
