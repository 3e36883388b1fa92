// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_device_test: checks a vnvme mdev instance at the VFIO level against
 * the device contract (device/region/irq info, PCI config space, BAR0
 * register access, MSI-X/REQ eventfds, reset, DMA map/unmap) and brings
 * the NVMe controller up once.  A tcase program (tests/l1/conformance/
 * tcase.h): one KTAP case per check, the harness's options (--case, --list,
 * --iommufd, --timeout, ...) and these:
 *   --set peer=UUID   a second instance: its serial number must differ
 *   --set remove=0    skip the last case, which removes the instance via
 *                     sysfs while the device is open and expects the REQ
 *                     interrupt
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcase.h"

#define BAR0_SIZE		0x4000u
#define CONFIG_SIZE		4096u
#define CONFIG_REGION_OFFSET	(7ull << 40)
#define IRQ_WAIT_MS		2000

/* Contract values used when the module does not expose a parameter. */
#define DEFAULT_VENDOR_ID	0x1b36
#define DEFAULT_DEVICE_ID	0x0e5d

#define ARRAY_LEN(a)		(sizeof(a) / sizeof((a)[0]))

/* The instance's mdev type (find_type) */
static char type_name[64];
static unsigned int expected_msix;	/* 0 when the type is unknown */

/* ------------------------------------------------------------------------ */
/* Access helpers: failures are recorded, the value is then all ones          */
/* ------------------------------------------------------------------------ */

static uint64_t region_rd(struct tctx *c, const struct vnvme_region *region,
			  const char *name, uint64_t off, size_t len)
{
	uint64_t val = 0;
	int ret = vnvme_region_read(c->dev, region, off, &val, len);

	if (!tc_check(c, ret == 0, __LINE__, "%s read of %zu bytes at 0x%llx: %s", name, len,
		      (unsigned long long)off, strerror(-ret)))
		return ~0ull;
	return val;
}

static void region_wr(struct tctx *c, const struct vnvme_region *region,
		      const char *name, uint64_t off, size_t len, uint64_t val)
{
	int ret = vnvme_region_write(c->dev, region, off, &val, len);

	tc_check(c, ret == 0, __LINE__, "%s write of %zu bytes at 0x%llx: %s", name, len,
		 (unsigned long long)off, strerror(-ret));
}

/* An access of len bytes at off */
struct span {
	unsigned int off, len;
};

/* Accesses beyond the end of a region fail, reads and writes alike. */
static void expect_rejected(struct tctx *c, const struct vnvme_region *region,
			    const char *name, const struct span *bad, size_t n)
{
	uint64_t val = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		tc_diag("%s offset 0x%x len %u", name, bad[i].off, bad[i].len);
		EXPECT_FAILS(vnvme_region_read(c->dev, region, bad[i].off, &val, bad[i].len));
		EXPECT_FAILS(vnvme_region_write(c->dev, region, bad[i].off, &val, bad[i].len));
	}
}

static uint64_t cfg_rd(struct tctx *c, uint64_t off, size_t len)
{
	return region_rd(c, &c->dev->config, "config", off, len);
}

static void cfg_wr(struct tctx *c, uint64_t off, size_t len, uint64_t val)
{
	region_wr(c, &c->dev->config, "config", off, len, val);
}

static uint64_t bar_rd(struct tctx *c, uint64_t off, size_t len)
{
	return region_rd(c, &c->dev->bar0, "BAR0", off, len);
}

static void bar_wr(struct tctx *c, uint64_t off, size_t len, uint64_t val)
{
	region_wr(c, &c->dev->bar0, "BAR0", off, len, val);
}

static unsigned long module_param(const char *name, unsigned long fallback)
{
	char path[128], buf[64], *end;
	unsigned long val;

	snprintf(path, sizeof(path), "/sys/module/vnvme/parameters/%s", name);
	if (tc_file_read(path, buf, sizeof(buf)))
		return fallback;
	val = strtoul(buf, &end, 0);
	return *end ? fallback : val;
}

/* Is the eventfd signalled within wait_ms?  Consumes the count. */
static bool signalled(int fd, int wait_ms)
{
	return vnvme_eventfd_wait(fd, wait_ms) > 0;
}

/* ------------------------------------------------------------------------ */
/* VFIO device info                                                          */
/* ------------------------------------------------------------------------ */

/* The instance's mdev type (once) and the MSI-X vector count it promises. */
static void find_type(struct tctx *c)
{
	static const struct {
		const char *name;
		unsigned int vectors;
	} types[] = {
		{ "vnvme-small", 5 }, { "vnvme-medium", 17 }, { "vnvme-large", 33 },
	};
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t n;
	size_t i;

	if (type_name[0])
		return;
	snprintf(path, sizeof(path), "%s/mdev_type", c->sysfs);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(type_name, sizeof(type_name), "unknown");
		return;
	}
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(type_name, sizeof(type_name), "%.63s", base ? base + 1 : link);
	for (i = 0; i < ARRAY_LEN(types); i++)
		if (!strcmp(type_name, types[i].name))
			expected_msix = types[i].vectors;
}

static void test_device_info(struct tctx *c)
{
	struct vfio_device_info info;

	find_type(c);
	tc_diag("type %s, %s", type_name, c->open_opts.use_iommufd ? "iommufd" : "type1");
	if (!EXPECT_OK(vnvme_device_info(c->dev, &info)))
		return;
	EXPECT(info.flags & VFIO_DEVICE_FLAGS_PCI, "flags 0x%x", info.flags);
	EXPECT(info.flags & VFIO_DEVICE_FLAGS_RESET, "flags 0x%x", info.flags);
	EXPECT_EQ(info.num_regions, VFIO_PCI_NUM_REGIONS);
	EXPECT_EQ(info.num_irqs, VFIO_PCI_NUM_IRQS);
}

static void expect_region(struct tctx *c, unsigned int index, uint64_t size,
			  uint32_t flags, bool check_offset, uint64_t offset)
{
	struct vfio_region_info info;

	tc_diag("region %u", index);
	if (!EXPECT_OK(vnvme_region_info(c->dev, index, &info)))
		return;
	EXPECT_EQ(info.size, size);
	EXPECT_EQ(info.flags, flags);
	if (check_offset)
		EXPECT_EQ(info.offset, offset);
}

/* The instance's vnvme/doorbell_mode is "mapped". */
static bool doorbells_mapped(struct tctx *c)
{
	char mode[32];

	return !tc_sysfs_read(c, "vnvme/doorbell_mode", mode, sizeof(mode)) &&
	       !strcmp(mode, "mapped");
}

static void test_region_bar0(struct tctx *c)
{
	uint32_t flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

	/* Mapped doorbells: the doorbell page is a sparse mmap area. */
	if (doorbells_mapped(c))
		flags |= VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
	expect_region(c, VFIO_PCI_BAR0_REGION_INDEX, BAR0_SIZE, flags, true, 0);
}

/* mmap of BAR0 at off, len bytes: 0 (and unmapped again) or -errno. */
static int try_bar0_mmap(struct tctx *c, uint64_t off, size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, c->dev->device_fd,
		       (off_t)(c->dev->bar0.offset + off));

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

/*
 * BAR0 mmap in both doorbell modes.  Trapped: no sparse area, every mmap
 * refused.  Mapped: exactly one area, the doorbell page; mmap of the
 * registers, the MSI-X table or PBA, of more than the page, or private,
 * refused; the page mapped, the controller brought up with its doorbells
 * written into the mapping, and verified I/O through it.  Either way the
 * mode cannot change while the device is open.
 */
static void test_bar0_doorbell_mmap(struct tctx *c)
{
	struct vfio_region_sparse_mmap_area areas[4];
	int n;

	EXPECT_ERRNO(tc_sysfs_write(c, "vnvme/doorbell_mode", "trapped"), EBUSY);
	EXPECT_ERRNO(tc_sysfs_write(c, "vnvme/doorbell_mode", "mapped"), EBUSY);
	n = vnvme_region_sparse_areas(c->dev, VFIO_PCI_BAR0_REGION_INDEX, areas, 4);
	if (!doorbells_mapped(c)) {
		EXPECT_EQ(n, 0);
		EXPECT_ERRNO(try_bar0_mmap(c, NVME_REG_DOORBELLS, NVME_PAGE_SIZE, MAP_SHARED),
			     EINVAL);
		EXPECT_ERRNO(vnvme_doorbells_map(c->dev), ENODEV);
		return;
	}
	if (EXPECT_EQ(n, 1)) {
		EXPECT_EQ(areas[0].offset, NVME_REG_DOORBELLS);
		EXPECT_EQ(areas[0].size, NVME_PAGE_SIZE);
	}
	EXPECT_ERRNO(try_bar0_mmap(c, 0, NVME_PAGE_SIZE, MAP_SHARED), EINVAL);
	EXPECT_ERRNO(try_bar0_mmap(c, 0x2000, NVME_PAGE_SIZE, MAP_SHARED), EINVAL);
	EXPECT_ERRNO(try_bar0_mmap(c, 0x3000, NVME_PAGE_SIZE, MAP_SHARED), EINVAL);
	EXPECT_ERRNO(try_bar0_mmap(c, 0, BAR0_SIZE, MAP_SHARED), EINVAL);
	EXPECT_ERRNO(try_bar0_mmap(c, NVME_REG_DOORBELLS, 2 * NVME_PAGE_SIZE, MAP_SHARED), EINVAL);
	EXPECT_ERRNO(try_bar0_mmap(c, NVME_REG_DOORBELLS, NVME_PAGE_SIZE, MAP_PRIVATE), EINVAL);
	EXPECT_OK(try_bar0_mmap(c, NVME_REG_DOORBELLS, NVME_PAGE_SIZE, MAP_SHARED));
	if (!EXPECT_OK(vnvme_doorbells_map(c->dev)))
		return;
	if (tc_up(c, 0))
		EXPECT_OK(tc_verified_io(c, c->q, 0, 64, 5));
	tc_down(c);
	vnvme_doorbells_unmap(c->dev);
}

static void test_region_bar1_to_bar5(struct tctx *c)
{
	unsigned int i;

	for (i = VFIO_PCI_BAR1_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++)
		expect_region(c, i, 0, 0, false, 0);
}

static void test_region_rom(struct tctx *c)
{
	struct vfio_region_info info;

	if (EXPECT_OK(vnvme_region_info(c->dev, VFIO_PCI_ROM_REGION_INDEX, &info)))
		EXPECT_EQ(info.size, 0);
}

static void test_region_config(struct tctx *c)
{
	expect_region(c, VFIO_PCI_CONFIG_REGION_INDEX, CONFIG_SIZE,
		      VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE, true,
		      CONFIG_REGION_OFFSET);
}

static void test_region_vga(struct tctx *c)
{
	struct vfio_region_info info;

	if (EXPECT_OK(vnvme_region_info(c->dev, VFIO_PCI_VGA_REGION_INDEX, &info)))
		EXPECT_EQ(info.size, 0);
}

static void test_region_index_out_of_range(struct tctx *c)
{
	struct vfio_region_info info;

	EXPECT_ERRNO(vnvme_region_info(c->dev, VFIO_PCI_NUM_REGIONS, &info), EINVAL);
	EXPECT_ERRNO(vnvme_region_info(c->dev, 0xffffffffu, &info), EINVAL);
}

static void test_irq_info(struct tctx *c)
{
	struct vfio_irq_info info;

	find_type(c);
	if (EXPECT_OK(vnvme_irq_info(c->dev, VFIO_PCI_INTX_IRQ_INDEX, &info)))
		EXPECT_EQ(info.count, 0);
	if (EXPECT_OK(vnvme_irq_info(c->dev, VFIO_PCI_MSI_IRQ_INDEX, &info)))
		EXPECT_EQ(info.count, 0);
	if (EXPECT_OK(vnvme_irq_info(c->dev, VFIO_PCI_MSIX_IRQ_INDEX, &info))) {
		if (expected_msix)
			EXPECT_EQ(info.count, expected_msix);
		else
			EXPECT(info.count >= 2, "count %u (type %s unknown)", info.count,
			       type_name);
		EXPECT(info.flags & VFIO_IRQ_INFO_EVENTFD, "flags 0x%x", info.flags);
	}
	if (EXPECT_OK(vnvme_irq_info(c->dev, VFIO_PCI_ERR_IRQ_INDEX, &info)))
		EXPECT_EQ(info.count, 0);
	if (EXPECT_OK(vnvme_irq_info(c->dev, VFIO_PCI_REQ_IRQ_INDEX, &info))) {
		EXPECT_EQ(info.count, 1);
		EXPECT(info.flags & VFIO_IRQ_INFO_EVENTFD, "flags 0x%x", info.flags);
	}
	EXPECT_ERRNO(vnvme_irq_info(c->dev, VFIO_PCI_NUM_IRQS, &info), EINVAL);
}

/* ------------------------------------------------------------------------ */
/* PCI config space                                                          */
/* ------------------------------------------------------------------------ */

static void test_config_ids(struct tctx *c)
{
	unsigned long vendor = module_param("vendor_id", DEFAULT_VENDOR_ID);
	unsigned long device = module_param("device_id", DEFAULT_DEVICE_ID);

	EXPECT_EQ(cfg_rd(c, PCI_VENDOR_ID, 2), vendor);
	EXPECT_EQ(cfg_rd(c, PCI_DEVICE_ID, 2), device);
	EXPECT_EQ(cfg_rd(c, PCI_VENDOR_ID, 4), device << 16 | vendor);
}

static void test_config_class_and_header(struct tctx *c)
{
	EXPECT_EQ(cfg_rd(c, PCI_CLASS_PROG, 1), 0x02);
	EXPECT_EQ(cfg_rd(c, PCI_CLASS_DEVICE, 1), 0x08);
	EXPECT_EQ(cfg_rd(c, PCI_CLASS_DEVICE + 1, 1), 0x01);
	EXPECT_EQ(cfg_rd(c, PCI_CLASS_REVISION, 4) >> 8, 0x010802);
	EXPECT_EQ(cfg_rd(c, PCI_HEADER_TYPE, 1), PCI_HEADER_TYPE_NORMAL);
}

static void test_config_status_cap_list(struct tctx *c)
{
	uint64_t status = cfg_rd(c, PCI_STATUS, 2);

	EXPECT(status & PCI_STATUS_CAP_LIST, "status 0x%llx", (unsigned long long)status);
}

static void test_config_command_mask(struct tctx *c)
{
	uint64_t saved = cfg_rd(c, PCI_COMMAND, 2);

	cfg_wr(c, PCI_COMMAND, 2, 0xffff);
	EXPECT_EQ(cfg_rd(c, PCI_COMMAND, 2), 0x0546);
	cfg_wr(c, PCI_COMMAND, 2, PCI_COMMAND_IO);
	EXPECT_EQ(cfg_rd(c, PCI_COMMAND, 2), 0);
	cfg_wr(c, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	EXPECT_EQ(cfg_rd(c, PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfg_wr(c, PCI_COMMAND, 1, 0xff);	/* low byte only */
	EXPECT_EQ(cfg_rd(c, PCI_COMMAND, 2), 0x0046);
	cfg_wr(c, PCI_COMMAND, 2, saved);
}

static void test_config_writable_fields(struct tctx *c)
{
	uint64_t cacheline = cfg_rd(c, PCI_CACHE_LINE_SIZE, 1);
	uint64_t irq_line = cfg_rd(c, PCI_INTERRUPT_LINE, 1);

	cfg_wr(c, PCI_CACHE_LINE_SIZE, 1, 0x10);
	EXPECT_EQ(cfg_rd(c, PCI_CACHE_LINE_SIZE, 1), 0x10);
	cfg_wr(c, PCI_INTERRUPT_LINE, 1, 0x0b);
	EXPECT_EQ(cfg_rd(c, PCI_INTERRUPT_LINE, 1), 0x0b);
	cfg_wr(c, PCI_CACHE_LINE_SIZE, 1, cacheline);
	cfg_wr(c, PCI_INTERRUPT_LINE, 1, irq_line);
}

static void test_config_interrupt_pin(struct tctx *c)
{
	EXPECT_EQ(cfg_rd(c, PCI_INTERRUPT_PIN, 1), 0);
	cfg_wr(c, PCI_INTERRUPT_PIN, 1, 1);
	EXPECT_EQ(cfg_rd(c, PCI_INTERRUPT_PIN, 1), 0);
}

static void test_config_bar0_sizing(struct tctx *c)
{
	uint64_t saved = cfg_rd(c, PCI_BASE_ADDRESS_0, 4);

	EXPECT_EQ(saved & 0xf, PCI_BASE_ADDRESS_SPACE_MEMORY | PCI_BASE_ADDRESS_MEM_TYPE_64);
	cfg_wr(c, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	EXPECT_EQ(cfg_rd(c, PCI_BASE_ADDRESS_0, 4), 0xffffc004);
	cfg_wr(c, PCI_BASE_ADDRESS_0, 4, 0xfebf0000);
	EXPECT_EQ(cfg_rd(c, PCI_BASE_ADDRESS_0, 4), 0xfebf0004);
	cfg_wr(c, PCI_BASE_ADDRESS_0, 4, saved);
	EXPECT_EQ(cfg_rd(c, PCI_BASE_ADDRESS_0, 4), saved);
}

static void test_config_bar1_upper_half(struct tctx *c)
{
	uint64_t saved = cfg_rd(c, PCI_BASE_ADDRESS_1, 4);

	cfg_wr(c, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	EXPECT_EQ(cfg_rd(c, PCI_BASE_ADDRESS_1, 4), 0xffffffff);
	cfg_wr(c, PCI_BASE_ADDRESS_1, 4, saved);
	EXPECT_EQ(cfg_rd(c, PCI_BASE_ADDRESS_1, 4), saved);
}

static void test_config_bars_2_to_5(struct tctx *c)
{
	unsigned int off;

	for (off = PCI_BASE_ADDRESS_2; off <= PCI_BASE_ADDRESS_5; off += 4) {
		tc_diag("BAR at 0x%x", off);
		EXPECT_EQ(cfg_rd(c, off, 4), 0);
		cfg_wr(c, off, 4, 0xffffffff);
		EXPECT_EQ(cfg_rd(c, off, 4), 0);
	}
}

static void test_config_rom_bar(struct tctx *c)
{
	EXPECT_EQ(cfg_rd(c, PCI_ROM_ADDRESS, 4), 0);
	cfg_wr(c, PCI_ROM_ADDRESS, 4, 0xfffff800);	/* QEMU's ROM sizing */
	EXPECT_EQ(cfg_rd(c, PCI_ROM_ADDRESS, 4), 0);
	cfg_wr(c, PCI_ROM_ADDRESS, 4, 0xfffff801);
	EXPECT_EQ(cfg_rd(c, PCI_ROM_ADDRESS, 4), 0);
}

static void test_config_read_only_fields(struct tctx *c)
{
	static const struct span fields[] = {
		{ PCI_VENDOR_ID, 4 }, { PCI_CLASS_REVISION, 4 }, { PCI_HEADER_TYPE, 1 },
		{ PCI_SUBSYSTEM_VENDOR_ID, 4 }, { PCI_CAPABILITY_LIST, 1 },
		{ PCI_MIN_GNT, 2 }, { 0x40, 2 }, { 0x50, 2 }, { 0x60, 4 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(fields); i++) {
		uint64_t before = cfg_rd(c, fields[i].off, fields[i].len);

		cfg_wr(c, fields[i].off, fields[i].len, ~before);
		if (!EXPECT_EQ(cfg_rd(c, fields[i].off, fields[i].len), before))
			tc_diag("field at 0x%x changed", fields[i].off);
	}
}

/* Walk the capability list: PM at 0x40 -> MSI-X at 0x50 -> PCIe at 0x60 -> end. */
static void test_config_capability_list(struct tctx *c)
{
	static const struct {
		unsigned int off, id;
	} expected[] = {
		{ 0x40, PCI_CAP_ID_PM }, { 0x50, PCI_CAP_ID_MSIX }, { 0x60, PCI_CAP_ID_EXP },
	};
	unsigned int i, pos = (unsigned int)cfg_rd(c, PCI_CAPABILITY_LIST, 1);

	for (i = 0; i < ARRAY_LEN(expected); i++) {
		if (!EXPECT_EQ(pos, expected[i].off))
			return;
		EXPECT_EQ(cfg_rd(c, pos + PCI_CAP_LIST_ID, 1), expected[i].id);
		pos = (unsigned int)cfg_rd(c, pos + PCI_CAP_LIST_NEXT, 1);
	}
	EXPECT_EQ(pos, 0);
}

static void test_config_pm_capability(struct tctx *c)
{
	uint64_t pmc = cfg_rd(c, 0x40 + PCI_PM_PMC, 2);
	uint64_t pmcsr = cfg_rd(c, 0x40 + PCI_PM_CTRL, 2);

	EXPECT_EQ(cfg_rd(c, 0x40, 1), PCI_CAP_ID_PM);
	EXPECT((pmc & PCI_PM_CAP_VER_MASK) >= 1 && (pmc & PCI_PM_CAP_VER_MASK) <= 3,
	       "PMC 0x%llx", (unsigned long long)pmc);
	EXPECT_EQ(pmcsr & PCI_PM_CTRL_STATE_MASK, 0);	/* D0 */
}

static void test_config_msix_capability(struct tctx *c)
{
	uint64_t flags = cfg_rd(c, 0x50 + PCI_MSIX_FLAGS, 2);

	EXPECT_EQ(cfg_rd(c, 0x50, 1), PCI_CAP_ID_MSIX);
	EXPECT_EQ((flags & PCI_MSIX_FLAGS_QSIZE) + 1, c->dev->msix_count);
	EXPECT_EQ(flags & PCI_MSIX_FLAGS_ENABLE, 0);
	EXPECT_EQ(cfg_rd(c, 0x50 + PCI_MSIX_TABLE, 4), 0x2000 | 0);
	EXPECT_EQ(cfg_rd(c, 0x50 + PCI_MSIX_PBA, 4), 0x3000 | 0);
}

static void test_config_pcie_capability(struct tctx *c)
{
	uint64_t flags = cfg_rd(c, 0x60 + PCI_EXP_FLAGS, 2);

	EXPECT_EQ(cfg_rd(c, 0x60, 1), PCI_CAP_ID_EXP);
	EXPECT_EQ(flags & PCI_EXP_FLAGS_VERS, 2);
	EXPECT_EQ((flags & PCI_EXP_FLAGS_TYPE) >> 4, PCI_EXP_TYPE_ENDPOINT);
}

static void test_config_access_sizes(struct tctx *c)
{
	static const unsigned int offsets[] = {
		0, 1, 2, 3, 0x3d, 0x40, 0x52, 0xfc, 0x100, 0xffc, 0xffd, 0xffe, 0xfff,
	};
	static const unsigned int sizes[] = { 1, 2, 4 };
	uint64_t dword = cfg_rd(c, 0, 4);
	unsigned int i, j;

	for (i = 0; i < ARRAY_LEN(offsets); i++)
		for (j = 0; j < ARRAY_LEN(sizes); j++)
			if (offsets[i] + sizes[j] <= CONFIG_SIZE)
				cfg_rd(c, offsets[i], sizes[j]);
	/* Narrow reads see the same bytes as the dword read. */
	EXPECT_EQ(cfg_rd(c, 0, 1) | cfg_rd(c, 1, 1) << 8 | cfg_rd(c, 2, 2) << 16, dword);
	EXPECT_EQ(cfg_rd(c, 1, 2), (dword >> 8) & 0xffff);
	EXPECT_EQ(cfg_rd(c, 1, 4) & 0xffffff, dword >> 8);
	/* Writes of each size at the end of the space are accepted (and ignored). */
	cfg_wr(c, 0xfff, 1, 0);
	cfg_wr(c, 0xffe, 2, 0);
	cfg_wr(c, 0xffc, 4, 0);
}

static void test_config_out_of_range(struct tctx *c)
{
	static const struct span bad[] = {
		{ 4096, 1 }, { 4095, 2 }, { 4094, 4 }, { 4093, 4 }, { 0x2000, 4 },
	};

	expect_rejected(c, &c->dev->config, "config", bad, ARRAY_LEN(bad));
}

/*
 * QEMU reads the whole config space with one pread at realize, so any
 * length must work and match the narrow accesses.  Odd lengths elsewhere
 * may be rejected, but if accepted they must act like byte accesses.
 */
static void test_config_wide_access(struct tctx *c)
{
	static uint8_t whole[CONFIG_SIZE];
	uint8_t three[3] = { 0 }, saved = (uint8_t)cfg_rd(c, PCI_CACHE_LINE_SIZE, 1);
	unsigned int off, mismatches = 0;
	int ret;

	if (!EXPECT_OK(vnvme_cfg_read(c->dev, 0, whole, sizeof(whole))))
		return;
	for (off = 0; off < CONFIG_SIZE; off += 4) {
		uint32_t dword;

		memcpy(&dword, whole + off, 4);
		if (dword != cfg_rd(c, off, 4) && !mismatches++)
			tc_diag("bulk read differs from dword reads at 0x%x", off);
	}
	EXPECT_EQ(mismatches, 0);
	EXPECT_OK(vnvme_cfg_read(c->dev, 0, whole, 256));

	ret = vnvme_cfg_read(c->dev, 1, three, 3);
	if (ret)
		tc_diag("3-byte read rejected (%d): allowed", ret);
	else
		EXPECT_EQ(three[0] | three[1] << 8 | three[2] << 16, (cfg_rd(c, 0, 4) >> 8));
	three[0] = 0x20;	/* cache line size, latency timer, header type (read-only) */
	three[1] = 0;
	three[2] = 0xff;
	ret = vnvme_cfg_write(c->dev, PCI_CACHE_LINE_SIZE, three, 3);
	if (ret) {
		tc_diag("3-byte write rejected (%d): allowed", ret);
	} else {
		EXPECT_EQ(cfg_rd(c, PCI_CACHE_LINE_SIZE, 1), 0x20);
		EXPECT_EQ(cfg_rd(c, PCI_HEADER_TYPE, 1), PCI_HEADER_TYPE_NORMAL);
	}
	cfg_wr(c, PCI_CACHE_LINE_SIZE, 1, saved);
}

static void test_config_extended_space(struct tctx *c)
{
	unsigned int off, nonzero = 0;

	for (off = 0x100; off < CONFIG_SIZE; off += 4)
		if (cfg_rd(c, off, 4))
			nonzero++;
	EXPECT_EQ(nonzero, 0);
}

/* ------------------------------------------------------------------------ */
/* BAR0                                                                      */
/* ------------------------------------------------------------------------ */

static void test_bar0_access_sizes(struct tctx *c)
{
	static const unsigned int offsets[] = {
		0x0, 0x8, 0x14, 0x1c, 0x24, 0x28, 0x30, 0x1000, 0x2000, 0x3000,
	};
	static const unsigned int sizes[] = { 1, 2, 4, 8 };
	uint64_t cap;
	unsigned int i, j;

	for (i = 0; i < ARRAY_LEN(offsets); i++)
		for (j = 0; j < ARRAY_LEN(sizes); j++)
			bar_rd(c, offsets[i], sizes[j]);
	/* The last bytes of the BAR, at each size. */
	for (j = 0; j < ARRAY_LEN(sizes); j++)
		bar_rd(c, BAR0_SIZE - sizes[j], sizes[j]);
	/* Every width sees the same CAP. */
	cap = bar_rd(c, NVME_REG_CAP, 8);
	EXPECT_EQ(bar_rd(c, 0, 4) | bar_rd(c, 4, 4) << 32, cap);
	EXPECT_EQ(bar_rd(c, 0, 2) | bar_rd(c, 2, 2) << 16 | bar_rd(c, 4, 2) << 32 |
		  bar_rd(c, 6, 2) << 48, cap);
	EXPECT_EQ(bar_rd(c, 3, 1), (cap >> 24) & 0xff);
	EXPECT_EQ(bar_rd(c, 8, 8), bar_rd(c, 8, 4) | bar_rd(c, 0xc, 4) << 32);
}

static void test_bar0_cap(struct tctx *c)
{
	uint64_t cap = bar_rd(c, NVME_REG_CAP, 8);
	uint32_t entries = NVME_CAP_MQES(cap) + 1;

	tc_diag("CAP 0x%016llx", (unsigned long long)cap);
	EXPECT(NVME_CAP_MQES(cap) >= 1 && !(entries & (entries - 1)), "MQES %u",
	       NVME_CAP_MQES(cap));
	EXPECT_EQ(NVME_CAP_CQR(cap), 1);
	EXPECT(NVME_CAP_TO(cap) != 0, "TO 0");
	EXPECT(NVME_CAP_CSS(cap) & NVME_CAP_CSS_NVM, "CSS 0x%x", NVME_CAP_CSS(cap));
	EXPECT_EQ(NVME_CAP_MPSMIN(cap), 0);
	EXPECT_EQ(NVME_CAP_MPSMAX(cap), 0);
	EXPECT_EQ(NVME_CAP_DSTRD(cap), 0);
	EXPECT_EQ(NVME_CAP_NSSRS(cap), 0);
	EXPECT_EQ(NVME_CAP_CMBS(cap), 0);
}

static void test_bar0_version(struct tctx *c)
{
	EXPECT_EQ(bar_rd(c, NVME_REG_VS, 4), NVME_VS(1, 4, 0));
}

static void test_bar0_reserved_zero(struct tctx *c)
{
	unsigned int off, nonzero = 0;

	EXPECT_EQ(bar_rd(c, NVME_REG_CMBLOC, 4), 0);
	EXPECT_EQ(bar_rd(c, NVME_REG_CMBSZ, 4), 0);
	EXPECT_EQ(bar_rd(c, NVME_REG_NSSR, 4), 0);
	for (off = 0x40; off < 0x1000; off += 4) {
		if (bar_rd(c, off, 4)) {
			if (!nonzero++)
				tc_diag("first non-zero reserved register at 0x%x", off);
		}
	}
	EXPECT_EQ(nonzero, 0);
}

/* Write one register with several access widths and read it back. */
static void test_bar0_register_writes(struct tctx *c)
{
	static const unsigned int addr_regs[] = { NVME_REG_ASQ, NVME_REG_ACQ };
	unsigned int i;

	bar_wr(c, NVME_REG_CC, 4, 0);
	if (!EXPECT_EQ(bar_rd(c, NVME_REG_CC, 4), 0))
		return;
	/* CC with EN = 0: queue entry sizes, shutdown notification. */
	bar_wr(c, NVME_REG_CC, 4, NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4));
	EXPECT_EQ(bar_rd(c, NVME_REG_CC, 4), 0x00460000);
	bar_wr(c, NVME_REG_CC + 2, 1, 0x00);
	EXPECT_EQ(bar_rd(c, NVME_REG_CC, 4), 0);
	bar_wr(c, NVME_REG_CC + 2, 2, 0x0046);
	EXPECT_EQ(bar_rd(c, NVME_REG_CC, 4), 0x00460000);
	EXPECT_EQ(bar_rd(c, NVME_REG_CC + 2, 1), 0x46);
	bar_wr(c, NVME_REG_CC, 4, 0);

	bar_wr(c, NVME_REG_AQA, 4, 0x001f003f);
	EXPECT_EQ(bar_rd(c, NVME_REG_AQA, 4), 0x001f003f);
	bar_wr(c, NVME_REG_AQA, 2, 0x0007);
	bar_wr(c, NVME_REG_AQA + 2, 2, 0x000f);
	EXPECT_EQ(bar_rd(c, NVME_REG_AQA, 4), 0x000f0007);
	bar_wr(c, NVME_REG_AQA, 1, 0x03);
	EXPECT_EQ(bar_rd(c, NVME_REG_AQA, 1), 0x03);
	EXPECT_EQ(bar_rd(c, NVME_REG_AQA, 4), 0x000f0003);
	bar_wr(c, NVME_REG_AQA, 4, 0);

	for (i = 0; i < 2; i++) {
		unsigned int reg = addr_regs[i];

		tc_diag("register 0x%x", reg);
		bar_wr(c, reg, 8, 0x0000123456789000ull);
		EXPECT_EQ(bar_rd(c, reg, 8), 0x0000123456789000ull);
		EXPECT_EQ(bar_rd(c, reg, 4), 0x56789000);
		EXPECT_EQ(bar_rd(c, reg + 4, 4), 0x1234);
		/* Two 32-bit writes, low then high, as Linux and SeaBIOS do. */
		bar_wr(c, reg, 4, 0xabcde000);
		bar_wr(c, reg + 4, 4, 0x12);
		EXPECT_EQ(bar_rd(c, reg, 8), 0x12abcde000ull);
		bar_wr(c, reg + 2, 2, 0x1234);
		EXPECT_EQ(bar_rd(c, reg, 8), 0x1212340000ull | 0xe000);
		bar_wr(c, reg + 5, 1, 0x56);
		EXPECT_EQ(bar_rd(c, reg, 8), 0x561212340000ull | 0xe000);
		bar_wr(c, reg, 8, 0);
		EXPECT_EQ(bar_rd(c, reg, 8), 0);
	}
}

static void test_bar0_out_of_range(struct tctx *c)
{
	static const struct span bad[] = {
		{ 0x4000, 1 }, { 0x3fff, 2 }, { 0x3ffd, 4 }, { 0x3ff9, 8 }, { 0x4000, 4 },
		{ 0x10000, 4 },
	};

	expect_rejected(c, &c->dev->bar0, "BAR0", bad, ARRAY_LEN(bad));
}

/* Wider or odd-length BAR0 accesses: rejected, or the same as narrow ones. */
static void test_bar0_wide_access(struct tctx *c)
{
	static const uint8_t aqa_bytes[3] = { 0x1f, 0x00, 0x1f };
	uint64_t regs[8];
	unsigned int i;
	int ret;

	ret = vnvme_bar_read(c->dev, 0, regs, sizeof(regs));
	if (ret) {
		tc_diag("64-byte read rejected (%d): allowed", ret);
	} else {
		for (i = 0; i < 8; i++) {
			tc_diag("qword at 0x%x", i * 8);
			EXPECT_EQ(regs[i], bar_rd(c, i * 8, 8));
		}
	}
	ret = vnvme_bar_write(c->dev, NVME_REG_AQA, aqa_bytes, sizeof(aqa_bytes));
	if (ret)
		tc_diag("3-byte write rejected (%d): allowed", ret);
	EXPECT_EQ(bar_rd(c, NVME_REG_AQA, 4), ret ? 0 : 0x001f001f);
	bar_wr(c, NVME_REG_AQA, 4, 0);
}

/* ------------------------------------------------------------------------ */
/* DMA mapping                                                               */
/* ------------------------------------------------------------------------ */

static void test_dma_map_unmap(struct tctx *c)
{
	const size_t size = 1u << 20;
	uint64_t iova = c->dev->arena.iova + c->dev->arena.size + (1ull << 30);
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (!EXPECT(mem != MAP_FAILED, "mmap: %s", strerror(errno)))
		return;
	EXPECT_OK(vnvme_dma_map(c->dev, mem, iova, size));
	EXPECT_FAILS(vnvme_dma_map(c->dev, mem, iova, size));	/* overlaps */
	EXPECT_OK(vnvme_dma_unmap(c->dev, iova, size));
	EXPECT_ERRNO(vnvme_dma_unmap(c->dev, iova, size), ENOENT);
	/* Map in two halves, unmap the whole: the device sees two dma_unmaps. */
	EXPECT_OK(vnvme_dma_map(c->dev, mem, iova, size / 2));
	EXPECT_OK(vnvme_dma_map(c->dev, (uint8_t *)mem + size / 2, iova + size / 2, size / 2));
	EXPECT_OK(vnvme_dma_unmap(c->dev, iova, size));
	munmap(mem, size);
}

/* ------------------------------------------------------------------------ */
/* Interrupts                                                                */
/* ------------------------------------------------------------------------ */

#define MSIX	VFIO_PCI_MSIX_IRQ_INDEX

struct eventfds {
	int fd[64];
	unsigned int count;
};

/*
 * One eventfd per MSI-X vector of the device, with set_all installed on all
 * vectors.  Failures are recorded; eventfds_close is due either way.
 */
static bool eventfds_open(struct tctx *c, struct eventfds *e, bool set_all)
{
	unsigned int i, count = c->dev->msix_count;

	e->count = 0;
	if (!EXPECT(count >= 2 && count <= 64, "MSI-X count %u", count))
		return false;
	for (i = 0; i < count; i++) {
		e->fd[i] = vnvme_eventfd_create();
		if (!EXPECT(e->fd[i] >= 0, "eventfd: %s", strerror(-e->fd[i])))
			return false;
		e->count++;
	}
	return !set_all || EXPECT_OK(vnvme_irq_set_eventfds(c->dev, MSIX, 0, count, e->fd));
}

static void eventfds_close(struct eventfds *e)
{
	while (e->count)
		close(e->fd[--e->count]);
}

/* Exactly vector `fired` (or none if < 0) of e has been signalled. */
static void expect_only_signalled(struct tctx *c, const struct eventfds *e, int fired)
{
	unsigned int i;

	for (i = 0; i < e->count; i++) {
		bool want = (int)i == fired;
		bool got = signalled(e->fd[i], want ? IRQ_WAIT_MS : 0);

		tc_check(c, got == want, __LINE__, "vector %u %s", i,
			 want ? "was not signalled" : "was signalled unexpectedly");
	}
}

/* Trigger vector through VFIO; then exactly `fired` (none if < 0) signals. */
static void expect_trigger(struct tctx *c, const struct eventfds *e, unsigned int vector,
			   int fired)
{
	int ret = vnvme_irq_trigger(c->dev, MSIX, vector, 1);

	tc_check(c, ret == 0, __LINE__, "trigger of vector %u returned %d (%s)", vector, ret,
		 strerror(-ret));
	expect_only_signalled(c, e, fired);
}

static void test_msix_all_vectors(struct tctx *c)
{
	struct eventfds e;
	unsigned int k;

	if (eventfds_open(c, &e, true)) {
		for (k = 0; k < e.count; k++) {
			tc_diag("trigger vector %u", k);
			expect_trigger(c, &e, k, (int)k);
		}
		EXPECT_OK(vnvme_irq_disable(c->dev, MSIX));
	}
	eventfds_close(&e);
}

/* QEMU's pattern: disable, enable N with fd -1 for masked vectors, then per-vector updates. */
static void test_msix_partial_ranges(struct tctx *c)
{
	unsigned int n = c->dev->msix_count, last = n - 1, i;
	struct eventfds e;
	int fds[64];

	if (eventfds_open(c, &e, false)) {
		EXPECT_OK(vnvme_irq_disable(c->dev, MSIX));
		for (i = 0; i < n; i++)
			fds[i] = i == 0 ? e.fd[0] : -1;
		EXPECT_OK(vnvme_irq_set_eventfds(c->dev, MSIX, 0, n, fds));
		EXPECT_OK(vnvme_irq_set_eventfds(c->dev, MSIX, last, 1, &e.fd[last]));
		expect_trigger(c, &e, last, (int)last);
		expect_trigger(c, &e, 0, 0);
		/* A vector with fd -1 stays silent. */
		expect_trigger(c, &e, 1, -1);
		/* Two vectors set from the middle of the table. */
		EXPECT_OK(vnvme_irq_set_eventfds(c->dev, MSIX, 1, 2, &e.fd[1]));
		expect_trigger(c, &e, 2, 2);
		EXPECT_OK(vnvme_irq_disable(c->dev, MSIX));
	}
	eventfds_close(&e);
}

static void test_msix_unset_vector(struct tctx *c)
{
	struct eventfds e;
	int none = -1;

	if (eventfds_open(c, &e, true)) {
		EXPECT_OK(vnvme_irq_set_eventfds(c->dev, MSIX, 1, 1, &none));
		expect_trigger(c, &e, 1, -1);
		expect_trigger(c, &e, 0, 0);
		EXPECT_OK(vnvme_irq_disable(c->dev, MSIX));
	}
	eventfds_close(&e);
}

static void test_msix_trigger_bool(struct tctx *c)
{
	const uint32_t flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER;
	uint8_t yes = 1, no = 0;
	struct eventfds e;

	if (eventfds_open(c, &e, true)) {
		EXPECT_OK(vnvme_set_irqs(c->dev, MSIX, flags, 1, 1, &yes));
		expect_only_signalled(c, &e, 1);
		EXPECT_OK(vnvme_set_irqs(c->dev, MSIX, flags, 1, 1, &no));
		expect_only_signalled(c, &e, -1);
		EXPECT_OK(vnvme_irq_disable(c->dev, MSIX));
	}
	eventfds_close(&e);
}

static void test_msix_disable(struct tctx *c)
{
	struct eventfds e;

	if (eventfds_open(c, &e, true)) {
		EXPECT_OK(vnvme_irq_disable(c->dev, MSIX));
		/* Triggering a disabled vector may succeed or fail, but must not signal. */
		vnvme_irq_trigger(c->dev, MSIX, 0, 1);
		expect_only_signalled(c, &e, -1);
		/* Disabling twice is fine. */
		EXPECT_OK(vnvme_irq_disable(c->dev, MSIX));
	}
	eventfds_close(&e);
}

static void test_msix_out_of_range(struct tctx *c)
{
	unsigned int n = c->dev->msix_count;
	struct eventfds e;
	int fds[65];

	if (eventfds_open(c, &e, false)) {
		/* One more fd than there are vectors */
		memcpy(fds, e.fd, n * sizeof(fds[0]));
		fds[n] = e.fd[0];
		EXPECT_ERRNO(vnvme_irq_set_eventfds(c->dev, MSIX, n, 1, fds), EINVAL);
		EXPECT_ERRNO(vnvme_irq_set_eventfds(c->dev, MSIX, 0, n + 1, fds), EINVAL);
		EXPECT_ERRNO(vnvme_irq_set_eventfds(c->dev, MSIX, n - 1, 2, fds), EINVAL);
		EXPECT_ERRNO(vnvme_irq_trigger(c->dev, MSIX, n, 1), EINVAL);
		expect_only_signalled(c, &e, -1);
	}
	eventfds_close(&e);
}

static void test_irq_other_indexes(struct tctx *c)
{
	static const unsigned int indexes[] = {
		VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_ERR_IRQ_INDEX,
		VFIO_PCI_NUM_IRQS,
	};
	int fd = vnvme_eventfd_create();
	unsigned int i;

	if (!EXPECT(fd >= 0, "eventfd"))
		return;
	for (i = 0; i < ARRAY_LEN(indexes); i++) {
		tc_diag("index %u", indexes[i]);
		EXPECT_ERRNO(vnvme_irq_set_eventfds(c->dev, indexes[i], 0, 1, &fd), EINVAL);
	}
	close(fd);
}

static void test_req_irq(struct tctx *c)
{
	int fds[2], none = -1;

	fds[0] = vnvme_eventfd_create();
	fds[1] = vnvme_eventfd_create();
	if (EXPECT(fds[0] >= 0 && fds[1] >= 0, "eventfd")) {
		EXPECT_OK(vnvme_irq_set_eventfds(c->dev, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, fds));
		EXPECT_ERRNO(vnvme_irq_set_eventfds(c->dev, VFIO_PCI_REQ_IRQ_INDEX, 0, 2, fds),
			     EINVAL);
		EXPECT_ERRNO(vnvme_irq_set_eventfds(c->dev, VFIO_PCI_REQ_IRQ_INDEX, 1, 1, fds),
			     EINVAL);
		EXPECT_OK(vnvme_irq_set_eventfds(c->dev, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &none));
		EXPECT(!signalled(fds[0], 0), "REQ signalled without a removal");
	}
	close(fds[0]);
	close(fds[1]);
}

/* ------------------------------------------------------------------------ */
/* Reset                                                                     */
/* ------------------------------------------------------------------------ */

static void test_device_reset(struct tctx *c)
{
	bar_wr(c, NVME_REG_CC, 4, NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4));
	bar_wr(c, NVME_REG_AQA, 4, 0x001f001f);
	bar_wr(c, NVME_REG_ASQ, 8, 0x10000000);
	bar_wr(c, NVME_REG_ACQ, 8, 0x20000000);
	cfg_wr(c, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (!EXPECT_OK(vnvme_device_reset(c->dev)))
		return;
	EXPECT_EQ(bar_rd(c, NVME_REG_CC, 4), 0);
	EXPECT_EQ(bar_rd(c, NVME_REG_CSTS, 4), 0);
	EXPECT_EQ(bar_rd(c, NVME_REG_AQA, 4), 0);
	EXPECT_EQ(bar_rd(c, NVME_REG_ASQ, 8), 0);
	EXPECT_EQ(bar_rd(c, NVME_REG_ACQ, 8), 0);
	EXPECT_EQ(cfg_rd(c, PCI_COMMAND, 2), 0);
}

/* ------------------------------------------------------------------------ */
/* NVMe controller                                                           */
/* ------------------------------------------------------------------------ */

/* ctrl_down is due even when this fails (vnvme_ctrl_init clears ctrl first). */
static bool ctrl_up(struct tctx *c, struct vnvme_dev *dev, struct vnvme_ctrl *ctrl,
		    int admin_irq_fd)
{
	if (!EXPECT_OK(vnvme_ctrl_init(ctrl, dev)))
		return false;
	ctrl->cmd_timeout_ms = 15000;	/* TCG VMs are slow */
	return EXPECT_OK(vnvme_ctrl_enable(ctrl, 0, admin_irq_fd));
}

static void ctrl_down(struct tctx *c, struct vnvme_ctrl *ctrl)
{
	if (ctrl->dev)
		EXPECT_OK(vnvme_ctrl_disable(ctrl));
	vnvme_ctrl_fini(ctrl);
}

/* Controller up without interrupts and namespace c->nsid ready; without one the case skips. */
static bool ns_up(struct tctx *c, struct vnvme_ctrl *ctrl, struct vnvme_ns *ns)
{
	int ret;

	if (!ctrl_up(c, c->dev, ctrl, -1))
		return false;
	ret = vnvme_ns_init(ns, ctrl, c->nsid);
	if (ret)
		tc_skip(c, "namespace %u not usable (%d: %s)", c->nsid, ret, vnvme_last_error());
	return !ret;
}

static void fixed_string(char *out, const char *field, size_t len)
{
	memcpy(out, field, len);
	out[len] = '\0';
	while (len && out[len - 1] == ' ')
		out[--len] = '\0';
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static void test_controller_enable_identify(struct tctx *c)
{
	struct vnvme_ctrl ctrl;
	struct nvme_id_ctrl id;
	char sn[21], mn[41], sysfs_serial[64];

	if (!ctrl_up(c, c->dev, &ctrl, -1))
		goto out;
	EXPECT_EQ(bar_rd(c, NVME_REG_CSTS, 4) & (NVME_CSTS_RDY | NVME_CSTS_CFS), NVME_CSTS_RDY);
	if (!EXPECT_OK(vnvme_identify(&ctrl, NVME_ID_CNS_CTRL, 0, &id)))
		goto out;
	fixed_string(sn, id.sn, sizeof(id.sn));
	fixed_string(mn, id.mn, sizeof(id.mn));
	tc_diag("SN '%s' MN '%s' VID 0x%04x", sn, mn, id.vid);
	EXPECT_EQ(id.vid, cfg_rd(c, PCI_VENDOR_ID, 2));
	EXPECT_EQ(id.ssvid, cfg_rd(c, PCI_SUBSYSTEM_VENDOR_ID, 2));
	EXPECT(sn[0] && printable(sn), "serial '%s'", sn);
	EXPECT(mn[0] && printable(mn), "model '%s'", mn);
	if (!tc_sysfs_read(c, "vnvme/serial", sysfs_serial, sizeof(sysfs_serial)))
		EXPECT(!strcmp(sn, sysfs_serial), "serial '%s', sysfs says '%s'", sn, sysfs_serial);
	EXPECT_EQ(id.sqes, 0x66);
	EXPECT_EQ(id.cqes, 0x44);
	EXPECT(id.nn >= 1, "NN %u", id.nn);
	EXPECT(id.ver == 0 || id.ver == NVME_VS(1, 4, 0), "VER 0x%x", id.ver);
out:
	ctrl_down(c, &ctrl);
	EXPECT_EQ(bar_rd(c, NVME_REG_CSTS, 4) & NVME_CSTS_RDY, 0);
}

static bool read_serial(struct tctx *c, struct vnvme_dev *dev, char *sn)
{
	struct vnvme_ctrl ctrl;
	struct nvme_id_ctrl id;
	bool ok = ctrl_up(c, dev, &ctrl, -1) &&
		  EXPECT_OK(vnvme_identify(&ctrl, NVME_ID_CNS_CTRL, 0, &id));

	if (ok)
		fixed_string(sn, id.sn, sizeof(id.sn));
	ctrl_down(c, &ctrl);
	return ok;
}

static void test_controller_serial_unique(struct tctx *c)
{
	const char *peer_uuid = tc_get(c, "peer");
	char sn[21] = "", peer_sn[21] = "";
	struct vnvme_dev *peer;

	if (!peer_uuid) {
		tc_skip(c, "no --set peer=UUID instance given");
		return;
	}
	if (!EXPECT_OK(vnvme_open(peer_uuid, &c->open_opts, &peer)))
		return;
	if (read_serial(c, c->dev, sn) && read_serial(c, peer, peer_sn)) {
		tc_diag("serials '%s' and '%s'", sn, peer_sn);
		EXPECT(strcmp(sn, peer_sn) != 0, "two instances share serial '%s'", sn);
	}
	vnvme_close(peer);
}

/* The admin CQ signals MSI-X vector 0. */
static void test_controller_admin_interrupt(struct tctx *c)
{
	struct nvme_sqe sqe = {
		.opcode = NVME_ADMIN_IDENTIFY,
		.cdw10 = NVME_ID_CNS_CTRL,
	};
	struct vnvme_ctrl ctrl;
	struct nvme_cqe cqe;
	int fd;

	if (!EXPECT_OK(vnvme_msix_enable(c->dev, 1)))
		return;
	fd = vnvme_msix_fd(c->dev, 0);
	if (!ctrl_up(c, c->dev, &ctrl, fd))
		goto out;
	vnvme_eventfd_consume(fd);
	EXPECT_OK(vnvme_set_prps(&sqe, ctrl.scratch.iova, 4096, NULL));
	if (!EXPECT_OK(vnvme_submit(&ctrl.admin, &sqe)))
		goto out;
	EXPECT(vnvme_eventfd_wait(fd, (int)ctrl.cmd_timeout_ms) > 0, "no MSI-X vector 0 interrupt");
	if (EXPECT_OK(vnvme_cq_wait(&ctrl.admin, &cqe, 1000))) {
		EXPECT_EQ(cqe.cid, sqe.cid);
		EXPECT_EQ(cqe.sq_id, 0);
		EXPECT_EQ(NVME_CQE_STATUS_FIELD(cqe.status), 0);
	}
out:
	ctrl_down(c, &ctrl);
	vnvme_msix_disable(c->dev);
}

/* Create and delete I/O queue pairs, polled and with an interrupt vector. */
static void test_controller_io_queues(struct tctx *c)
{
	struct nvme_sqe sqe;
	struct vnvme_ctrl ctrl;
	struct vnvme_queue *q;

	if (!EXPECT_OK(vnvme_msix_enable(c->dev, 2)))
		return;
	if (!ctrl_up(c, c->dev, &ctrl, vnvme_msix_fd(c->dev, 0)))
		goto out;
	if (EXPECT_OK(vnvme_create_io_queue_pair(&ctrl, 1, 64, -1, &q)))
		EXPECT_OK(vnvme_delete_io_queue_pair(&ctrl, 1));
	if (EXPECT_OK(vnvme_create_io_queue_pair(&ctrl, 1, 64, 1, &q))) {
		/* Creating the same CQ again is an error status, not a crash. */
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = NVME_ADMIN_CREATE_CQ;
		sqe.prp1 = q->cq_mem.iova;
		sqe.cdw10 = 63u << 16 | 1;
		sqe.cdw11 = NVME_QUEUE_PHYS_CONTIG;
		EXPECT(vnvme_exec(&ctrl.admin, &sqe, NULL) > 0, "duplicate Create I/O CQ succeeded");
		EXPECT_OK(vnvme_delete_io_queue_pair(&ctrl, 1));
	}
out:
	ctrl_down(c, &ctrl);
	vnvme_msix_disable(c->dev);
}

/* Data through namespace --nsid (default 1), if the instance has one attached. */
static void test_namespace_io(struct tctx *c)
{
	struct vnvme_queue *queues[2];
	struct vnvme_bench_result res;
	struct vnvme_ctrl ctrl;
	struct vnvme_ns ns;
	uint64_t nlb;

	if (!ns_up(c, &ctrl, &ns))
		goto out;
	if (!EXPECT_OK(vnvme_create_io_queue_pair(&ctrl, 1, 32, -1, &queues[0])) ||
	    !EXPECT_OK(vnvme_create_io_queue_pair(&ctrl, 2, 32, -1, &queues[1])))
		goto out;
	nlb = ns.nsze < 512 ? ns.nsze : 512;
	EXPECT_OK(vnvme_verify_range(&ns, queues, 2, 0, nlb, 8192, 4, 0x5eed, &res));
	tc_diag("verified %llu blocks of %u bytes", (unsigned long long)nlb, ns.lba_size);
out:
	ctrl_down(c, &ctrl);
}

/* Compare, Verify, Write Zeroes, DSM and Flush as Identify Controller advertises them. */
static void test_namespace_commands(struct tctx *c)
{
	const uint32_t nlb = 16, seed = 0xc0ffee;
	struct vnvme_dma_buf data = { 0 }, ranges = { 0 };
	struct nvme_dsm_range *range;
	struct nvme_id_ctrl id;
	struct vnvme_queue *q;
	struct vnvme_ctrl ctrl;
	struct vnvme_ns ns;
	uint64_t slba, bad;
	size_t i, len;
	int ret;

	if (!ns_up(c, &ctrl, &ns))
		goto out;
	if (!EXPECT_OK(vnvme_identify(&ctrl, NVME_ID_CNS_CTRL, 0, &id)) ||
	    !EXPECT_OK(vnvme_create_io_queue_pair(&ctrl, 1, 16, -1, &q)) ||
	    !EXPECT(ns.nsze > 2 * nlb, "namespace of %llu blocks", (unsigned long long)ns.nsze))
		goto out;
	slba = ns.nsze - nlb;	/* the end of the namespace */
	len = (size_t)nlb * ns.lba_size;
	if (!EXPECT_OK(vnvme_dma_alloc(c->dev, len, &data)) ||
	    !EXPECT_OK(vnvme_dma_alloc(c->dev, 4096, &ranges)))
		goto out;
	tc_diag("ONCS 0x%x VWC 0x%x, blocks %llu..%llu", id.oncs, id.vwc,
		(unsigned long long)slba, (unsigned long long)(slba + nlb - 1));

	vnvme_pattern_fill(data.vaddr, ns.lba_size, slba, nlb, seed);
	EXPECT_OK(vnvme_io_write(&ns, q, slba, nlb, &data));
	if (id.oncs & (1u << 0)) {
		EXPECT_OK(vnvme_io_compare(&ns, q, slba, nlb, &data));
		((uint8_t *)data.vaddr)[len - 1] ^= 0x5a;
		ret = vnvme_io_compare(&ns, q, slba, nlb, &data);
		EXPECT(ret > 0 && NVME_STATUS_CODE(ret) == NVME_SC_COMPARE_FAILED,
		       "compare of different data returned %d", ret);
	}
	if (id.oncs & (1u << 7))
		EXPECT_OK(vnvme_io_verify(&ns, q, slba, nlb));
	memset(data.vaddr, 0, len);
	EXPECT_OK(vnvme_io_read(&ns, q, slba, nlb, &data));
	EXPECT_OK(vnvme_pattern_check(data.vaddr, ns.lba_size, slba, nlb, seed, &bad));
	if (id.oncs & (1u << 3)) {
		EXPECT_OK(vnvme_io_write_zeroes(&ns, q, slba, nlb / 2, 0));
		memset(data.vaddr, 0xa5, len);
		EXPECT_OK(vnvme_io_read(&ns, q, slba, nlb, &data));
		for (i = 0; i < len / 2 && !((uint8_t *)data.vaddr)[i]; i++)
			;
		EXPECT(i == len / 2, "byte %zu after Write Zeroes is not zero", i);
		EXPECT_OK(vnvme_pattern_check((uint8_t *)data.vaddr + len / 2, ns.lba_size,
					      slba + nlb / 2, nlb / 2, seed, &bad));
	}
	if (id.oncs & (1u << 2)) {
		range = ranges.vaddr;
		range->nlb = nlb;
		range->slba = slba;
		EXPECT_OK(vnvme_io_dsm(&ns, q, &ranges, 1, NVME_DSM_ATTR_DEALLOCATE));
	}
	EXPECT_OK(vnvme_io_flush(&ns, q));
	/* Past the end of the namespace: LBA Out of Range. */
	ret = vnvme_io_read(&ns, q, ns.nsze - 1, 2, &data);
	EXPECT(ret > 0 && NVME_STATUS_CODE(ret) == NVME_SC_LBA_RANGE,
	       "read across the end returned %d", ret);
out:
	vnvme_dma_free(c->dev, &data);
	vnvme_dma_free(c->dev, &ranges);
	ctrl_down(c, &ctrl);
}

/*
 * Unmapping memory that holds live queues must return promptly (the device
 * drops its pins synchronously).  The controller may then go on once the
 * IOVA is mapped again or declare itself fatal (CSTS.CFS); either way a
 * controller reset must bring it back.
 */
static void test_dma_unmap_live_queues(struct tctx *c)
{
	struct vnvme_dev *dev = c->dev;
	struct nvme_id_ctrl id;
	struct vnvme_ctrl ctrl;
	struct vnvme_queue *q;
	uint64_t csts;
	int ret;

	if (!ctrl_up(c, c->dev, &ctrl, -1))
		goto out;
	if (!EXPECT_OK(vnvme_create_io_queue_pair(&ctrl, 1, 32, -1, &q)) ||
	    !EXPECT_OK(vnvme_identify(&ctrl, NVME_ID_CNS_CTRL, 0, &id)))
		goto out;
	/* The whole arena, whichever pieces the harness mapped it in (tcase maps chunks). */
	ret = vnvme_arena_unmap(dev, 0, dev->arena.size);
	if (!EXPECT(ret > 0, "unmap of the arena returned %d (%s)", ret, vnvme_last_error()))
		goto out;
	ret = vnvme_arena_remap_all(dev);
	if (!EXPECT(ret > 0, "map of the arena returned %d (%s)", ret, vnvme_last_error()))
		goto out;
	csts = bar_rd(c, NVME_REG_CSTS, 4);
	if (csts & NVME_CSTS_CFS)
		tc_diag("controller fatal after the unmap (CSTS 0x%llx): allowed, resetting",
			(unsigned long long)csts);
	else
		EXPECT_OK(vnvme_identify(&ctrl, NVME_ID_CNS_CTRL, 0, &id));
	if (EXPECT_OK(vnvme_ctrl_enable(&ctrl, 0, -1)))
		EXPECT_OK(vnvme_identify(&ctrl, NVME_ID_CNS_CTRL, 0, &id));
out:
	ctrl_down(c, &ctrl);
}

/* Removing the instance while it is open asks userspace to let go (REQ). */
struct remove_job {
	char path[PATH_MAX];
	int error;
};

static void *remove_instance(void *arg)
{
	struct remove_job *job = arg;
	int fd = open(job->path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "1", 1) != 1)
		job->error = errno;
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void test_req_irq_on_remove(struct tctx *c)
{
	struct remove_job job = { .error = 0 };
	char dir[256];
	pthread_t thread;
	struct stat st;

	if (!tc_get_long(c, "remove", 1)) {
		tc_skip(c, "--set remove=0");
		return;
	}
	if (!EXPECT_OK(vnvme_req_irq_enable(c->dev)))
		return;
	snprintf(dir, sizeof(dir), "/sys/bus/mdev/devices/%s", c->uuid);
	snprintf(job.path, sizeof(job.path), "%s/remove", dir);
	if (!EXPECT(!pthread_create(&thread, NULL, remove_instance, &job), "pthread_create"))
		return;
	/* The kernel asks right away, then every 10 s until the device is closed. */
	EXPECT(signalled(c->dev->req_fd, 25000), "no REQ interrupt within 25 s of remove");
	tc_close_device(c);
	pthread_join(thread, NULL);
	EXPECT(job.error == 0, "write %s: %s", job.path, strerror(job.error));
	EXPECT(stat(dir, &st) != 0, "%s still exists", dir);
}

/* ------------------------------------------------------------------------ */

static const struct tcase cases[] = {
	{ "device_info", test_device_info },
	{ "region_bar0", test_region_bar0 },
	{ "region_bar1_to_bar5_empty", test_region_bar1_to_bar5 },
	{ "region_rom_empty", test_region_rom },
	{ "region_config", test_region_config },
	{ "region_vga_empty", test_region_vga },
	{ "region_index_out_of_range", test_region_index_out_of_range },
	{ "irq_info", test_irq_info },
	{ "config_ids", test_config_ids },
	{ "config_class_and_header", test_config_class_and_header },
	{ "config_status_cap_list", test_config_status_cap_list },
	{ "config_command_mask", test_config_command_mask },
	{ "config_writable_fields", test_config_writable_fields },
	{ "config_interrupt_pin_zero", test_config_interrupt_pin },
	{ "config_bar0_sizing", test_config_bar0_sizing },
	{ "config_bar1_upper_half", test_config_bar1_upper_half },
	{ "config_bars_2_to_5_zero", test_config_bars_2_to_5 },
	{ "config_rom_bar_zero", test_config_rom_bar },
	{ "config_read_only_fields", test_config_read_only_fields },
	{ "config_capability_list", test_config_capability_list },
	{ "config_pm_capability", test_config_pm_capability },
	{ "config_msix_capability", test_config_msix_capability },
	{ "config_pcie_capability", test_config_pcie_capability },
	{ "config_access_sizes", test_config_access_sizes },
	{ "config_out_of_range_rejected", test_config_out_of_range },
	{ "config_wide_access", test_config_wide_access },
	{ "config_extended_space_zero", test_config_extended_space },
	{ "bar0_access_sizes", test_bar0_access_sizes },
	{ "bar0_doorbell_mmap", test_bar0_doorbell_mmap },
	{ "bar0_cap", test_bar0_cap },
	{ "bar0_version", test_bar0_version },
	{ "bar0_reserved_zero", test_bar0_reserved_zero },
	{ "bar0_register_writes", test_bar0_register_writes },
	{ "bar0_out_of_range_rejected", test_bar0_out_of_range },
	{ "bar0_wide_access", test_bar0_wide_access },
	{ "dma_map_unmap", test_dma_map_unmap },
	{ "msix_all_vectors", test_msix_all_vectors },
	{ "msix_partial_ranges", test_msix_partial_ranges },
	{ "msix_unset_vector", test_msix_unset_vector },
	{ "msix_trigger_bool", test_msix_trigger_bool },
	{ "msix_disable", test_msix_disable },
	{ "msix_out_of_range_rejected", test_msix_out_of_range },
	{ "irq_other_indexes_rejected", test_irq_other_indexes },
	{ "req_irq", test_req_irq },
	{ "device_reset", test_device_reset },
	{ "controller_enable_identify", test_controller_enable_identify },
	{ "controller_serial_unique", test_controller_serial_unique },
	{ "controller_admin_interrupt", test_controller_admin_interrupt },
	{ "controller_io_queues", test_controller_io_queues },
	{ "namespace_io", test_namespace_io },
	{ "namespace_commands", test_namespace_commands },
	{ "dma_unmap_live_queues", test_dma_unmap_live_queues },
	{ "req_irq_on_remove", test_req_irq_on_remove },
};

int main(int argc, char **argv)
{
	return tcase_main(argc, argv, "vfio_device_test",
			  "  --set peer=UUID  a second instance: its serial number must differ\n"
			  "  --set remove=0   skip req_irq_on_remove (it removes the instance)\n",
			  cases, ARRAY_LEN(cases));
}
