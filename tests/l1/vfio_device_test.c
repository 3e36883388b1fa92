// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_device_test: checks a vnvme mdev instance at the VFIO level against
 * the device contract (device/region/irq info, PCI config space, BAR0
 * register access, MSI-X/REQ eventfds, reset, DMA map/unmap) and brings
 * the NVMe controller up once.  Prints KTAP, one case per check.
 *
 * usage: vfio_device_test [--iommufd] [--peer UUID] [--no-remove] UUID
 *   --peer UUID   a second instance: its serial number must differ
 *   --no-remove   skip the last case, which removes the instance via sysfs
 *                 while the device is open and expects the REQ interrupt
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libvnvme.h"

#define BAR0_SIZE		0x4000u
#define CONFIG_SIZE		4096u
#define CONFIG_REGION_OFFSET	(7ull << 40)
#define CASE_TIMEOUT_S		120
#define IRQ_WAIT_MS		2000
#define NO_IRQ_WAIT_MS		200

/* Contract values used when the module does not expose a parameter. */
#define DEFAULT_VENDOR_ID	0x1b36
#define DEFAULT_DEVICE_ID	0x0e5d

struct test_env {
	const char *uuid;
	const char *peer_uuid;
	struct vnvme_open_opts open_opts;
	struct vnvme_dev *dev;
	char type_name[64];
	unsigned int expected_msix;	/* 0 when the type is unknown */
	bool case_failed;
	const char *skip_reason;
	char skip_buf[256];
};

static char timeout_line[256];

/* ------------------------------------------------------------------------ */
/* Reporting                                                                 */
/* ------------------------------------------------------------------------ */

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static bool check(struct test_env *env, bool ok, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static bool check(struct test_env *env, bool ok, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	printf("# line %d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	env->case_failed = true;
	return false;
}

#define EXPECT(cond, fmt, ...) \
	check(env, (cond), __LINE__, "%s: " fmt, #cond, ##__VA_ARGS__)
#define EXPECT_EQ(got, want) ({ \
	unsigned long long got_ = (unsigned long long)(got); \
	unsigned long long want_ = (unsigned long long)(want); \
	check(env, got_ == want_, __LINE__, "%s = 0x%llx, expected %s = 0x%llx", \
	      #got, got_, #want, want_); \
})
#define EXPECT_OK(ret) ({ \
	int ret_ = (ret); \
	check(env, ret_ == 0, __LINE__, "%s returned %d (%s) %s", #ret, ret_, \
	      ret_ < 0 ? strerror(-ret_) : "NVMe status", vnvme_last_error()); \
})
#define EXPECT_FAILS(ret) ({ \
	int ret_ = (ret); \
	check(env, ret_ < 0, __LINE__, "%s returned %d, expected an error", #ret, ret_); \
})
#define EXPECT_ERRNO(ret, err) ({ \
	int ret_ = (ret); \
	check(env, ret_ == -(err), __LINE__, "%s returned %d (%s), expected -%s", #ret, \
	      ret_, ret_ < 0 ? strerror(-ret_) : "no error", #err); \
})

static void skip(struct test_env *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(struct test_env *env, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(env->skip_buf, sizeof(env->skip_buf), fmt, ap);
	va_end(ap);
	env->skip_reason = env->skip_buf;
}

/* ------------------------------------------------------------------------ */
/* Access helpers: failures are recorded, the value is then all ones          */
/* ------------------------------------------------------------------------ */

static uint64_t region_rd(struct test_env *env, const struct vnvme_region *region,
			  const char *name, uint64_t off, size_t len)
{
	uint64_t val = 0;
	int ret = vnvme_region_read(env->dev, region, off, &val, len);

	if (!check(env, ret == 0, __LINE__, "%s read of %zu bytes at 0x%llx: %s", name, len,
		   (unsigned long long)off, strerror(-ret)))
		return ~0ull;
	return val;
}

static void region_wr(struct test_env *env, const struct vnvme_region *region,
		      const char *name, uint64_t off, size_t len, uint64_t val)
{
	int ret = vnvme_region_write(env->dev, region, off, &val, len);

	check(env, ret == 0, __LINE__, "%s write of %zu bytes at 0x%llx: %s", name, len,
	      (unsigned long long)off, strerror(-ret));
}

static uint64_t cfg_rd(struct test_env *env, uint64_t off, size_t len)
{
	return region_rd(env, &env->dev->config, "config", off, len);
}

static void cfg_wr(struct test_env *env, uint64_t off, size_t len, uint64_t val)
{
	region_wr(env, &env->dev->config, "config", off, len, val);
}

static uint64_t bar_rd(struct test_env *env, uint64_t off, size_t len)
{
	return region_rd(env, &env->dev->bar0, "BAR0", off, len);
}

static void bar_wr(struct test_env *env, uint64_t off, size_t len, uint64_t val)
{
	region_wr(env, &env->dev->bar0, "BAR0", off, len, val);
}

/* Read a small sysfs attribute into buf (trailing newline removed). */
static bool read_sysfs(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static unsigned long module_param(const char *name, unsigned long fallback)
{
	char path[128], buf[64], *end;
	unsigned long val;

	snprintf(path, sizeof(path), "/sys/module/vnvme/parameters/%s", name);
	if (!read_sysfs(path, buf, sizeof(buf)))
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

static void test_device_info(struct test_env *env)
{
	struct vfio_device_info info;

	if (!EXPECT_OK(vnvme_device_info(env->dev, &info)))
		return;
	EXPECT(info.flags & VFIO_DEVICE_FLAGS_PCI, "flags 0x%x", info.flags);
	EXPECT(info.flags & VFIO_DEVICE_FLAGS_RESET, "flags 0x%x", info.flags);
	EXPECT_EQ(info.num_regions, VFIO_PCI_NUM_REGIONS);
	EXPECT_EQ(info.num_irqs, VFIO_PCI_NUM_IRQS);
}

static void expect_region(struct test_env *env, unsigned int index, uint64_t size,
			  uint32_t flags, bool check_offset, uint64_t offset)
{
	struct vfio_region_info info;

	diag("region %u", index);
	if (!EXPECT_OK(vnvme_region_info(env->dev, index, &info)))
		return;
	EXPECT_EQ(info.size, size);
	EXPECT_EQ(info.flags, flags);
	if (check_offset)
		EXPECT_EQ(info.offset, offset);
}

static void test_region_bar0(struct test_env *env)
{
	expect_region(env, VFIO_PCI_BAR0_REGION_INDEX, BAR0_SIZE,
		      VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE, true, 0);
}

static void test_region_bar1_to_bar5(struct test_env *env)
{
	unsigned int i;

	for (i = VFIO_PCI_BAR1_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++)
		expect_region(env, i, 0, 0, false, 0);
}

static void test_region_rom(struct test_env *env)
{
	struct vfio_region_info info;

	if (EXPECT_OK(vnvme_region_info(env->dev, VFIO_PCI_ROM_REGION_INDEX, &info)))
		EXPECT_EQ(info.size, 0);
}

static void test_region_config(struct test_env *env)
{
	expect_region(env, VFIO_PCI_CONFIG_REGION_INDEX, CONFIG_SIZE,
		      VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE, true,
		      CONFIG_REGION_OFFSET);
}

static void test_region_vga(struct test_env *env)
{
	struct vfio_region_info info;

	if (EXPECT_OK(vnvme_region_info(env->dev, VFIO_PCI_VGA_REGION_INDEX, &info)))
		EXPECT_EQ(info.size, 0);
}

static void test_region_index_out_of_range(struct test_env *env)
{
	struct vfio_region_info info;

	EXPECT_ERRNO(vnvme_region_info(env->dev, VFIO_PCI_NUM_REGIONS, &info), EINVAL);
	EXPECT_ERRNO(vnvme_region_info(env->dev, 0xffffffffu, &info), EINVAL);
}

static void test_irq_info(struct test_env *env)
{
	struct vfio_irq_info info;

	if (EXPECT_OK(vnvme_irq_info(env->dev, VFIO_PCI_INTX_IRQ_INDEX, &info)))
		EXPECT_EQ(info.count, 0);
	if (EXPECT_OK(vnvme_irq_info(env->dev, VFIO_PCI_MSI_IRQ_INDEX, &info)))
		EXPECT_EQ(info.count, 0);
	if (EXPECT_OK(vnvme_irq_info(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, &info))) {
		if (env->expected_msix)
			EXPECT_EQ(info.count, env->expected_msix);
		else
			EXPECT(info.count >= 2, "count %u (type %s unknown)", info.count,
			       env->type_name);
		EXPECT(info.flags & VFIO_IRQ_INFO_EVENTFD, "flags 0x%x", info.flags);
	}
	if (EXPECT_OK(vnvme_irq_info(env->dev, VFIO_PCI_ERR_IRQ_INDEX, &info)))
		EXPECT_EQ(info.count, 0);
	if (EXPECT_OK(vnvme_irq_info(env->dev, VFIO_PCI_REQ_IRQ_INDEX, &info))) {
		EXPECT_EQ(info.count, 1);
		EXPECT(info.flags & VFIO_IRQ_INFO_EVENTFD, "flags 0x%x", info.flags);
	}
	EXPECT_ERRNO(vnvme_irq_info(env->dev, VFIO_PCI_NUM_IRQS, &info), EINVAL);
}

/* ------------------------------------------------------------------------ */
/* PCI config space                                                          */
/* ------------------------------------------------------------------------ */

static void test_config_ids(struct test_env *env)
{
	unsigned long vendor = module_param("vendor_id", DEFAULT_VENDOR_ID);
	unsigned long device = module_param("device_id", DEFAULT_DEVICE_ID);

	EXPECT_EQ(cfg_rd(env, PCI_VENDOR_ID, 2), vendor);
	EXPECT_EQ(cfg_rd(env, PCI_DEVICE_ID, 2), device);
	EXPECT_EQ(cfg_rd(env, PCI_VENDOR_ID, 4), device << 16 | vendor);
}

static void test_config_class_and_header(struct test_env *env)
{
	EXPECT_EQ(cfg_rd(env, PCI_CLASS_PROG, 1), 0x02);
	EXPECT_EQ(cfg_rd(env, PCI_CLASS_DEVICE, 1), 0x08);
	EXPECT_EQ(cfg_rd(env, PCI_CLASS_DEVICE + 1, 1), 0x01);
	EXPECT_EQ(cfg_rd(env, PCI_CLASS_REVISION, 4) >> 8, 0x010802);
	EXPECT_EQ(cfg_rd(env, PCI_HEADER_TYPE, 1), PCI_HEADER_TYPE_NORMAL);
}

static void test_config_status_cap_list(struct test_env *env)
{
	uint64_t status = cfg_rd(env, PCI_STATUS, 2);

	EXPECT(status & PCI_STATUS_CAP_LIST, "status 0x%llx", (unsigned long long)status);
}

static void test_config_command_mask(struct test_env *env)
{
	uint64_t saved = cfg_rd(env, PCI_COMMAND, 2);

	cfg_wr(env, PCI_COMMAND, 2, 0xffff);
	EXPECT_EQ(cfg_rd(env, PCI_COMMAND, 2), 0x0546);
	cfg_wr(env, PCI_COMMAND, 2, PCI_COMMAND_IO);
	EXPECT_EQ(cfg_rd(env, PCI_COMMAND, 2), 0);
	cfg_wr(env, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	EXPECT_EQ(cfg_rd(env, PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfg_wr(env, PCI_COMMAND, 1, 0xff);	/* low byte only */
	EXPECT_EQ(cfg_rd(env, PCI_COMMAND, 2), 0x0046);
	cfg_wr(env, PCI_COMMAND, 2, saved);
}

static void test_config_writable_fields(struct test_env *env)
{
	uint64_t cacheline = cfg_rd(env, PCI_CACHE_LINE_SIZE, 1);
	uint64_t irq_line = cfg_rd(env, PCI_INTERRUPT_LINE, 1);

	cfg_wr(env, PCI_CACHE_LINE_SIZE, 1, 0x10);
	EXPECT_EQ(cfg_rd(env, PCI_CACHE_LINE_SIZE, 1), 0x10);
	cfg_wr(env, PCI_INTERRUPT_LINE, 1, 0x0b);
	EXPECT_EQ(cfg_rd(env, PCI_INTERRUPT_LINE, 1), 0x0b);
	cfg_wr(env, PCI_CACHE_LINE_SIZE, 1, cacheline);
	cfg_wr(env, PCI_INTERRUPT_LINE, 1, irq_line);
}

static void test_config_interrupt_pin(struct test_env *env)
{
	EXPECT_EQ(cfg_rd(env, PCI_INTERRUPT_PIN, 1), 0);
	cfg_wr(env, PCI_INTERRUPT_PIN, 1, 1);
	EXPECT_EQ(cfg_rd(env, PCI_INTERRUPT_PIN, 1), 0);
}

static void test_config_bar0_sizing(struct test_env *env)
{
	uint64_t saved = cfg_rd(env, PCI_BASE_ADDRESS_0, 4);

	EXPECT_EQ(saved & 0xf, PCI_BASE_ADDRESS_SPACE_MEMORY | PCI_BASE_ADDRESS_MEM_TYPE_64);
	cfg_wr(env, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	EXPECT_EQ(cfg_rd(env, PCI_BASE_ADDRESS_0, 4), 0xffffc004);
	cfg_wr(env, PCI_BASE_ADDRESS_0, 4, 0xfebf0000);
	EXPECT_EQ(cfg_rd(env, PCI_BASE_ADDRESS_0, 4), 0xfebf0004);
	cfg_wr(env, PCI_BASE_ADDRESS_0, 4, saved);
	EXPECT_EQ(cfg_rd(env, PCI_BASE_ADDRESS_0, 4), saved);
}

static void test_config_bar1_upper_half(struct test_env *env)
{
	uint64_t saved = cfg_rd(env, PCI_BASE_ADDRESS_1, 4);

	cfg_wr(env, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	EXPECT_EQ(cfg_rd(env, PCI_BASE_ADDRESS_1, 4), 0xffffffff);
	cfg_wr(env, PCI_BASE_ADDRESS_1, 4, saved);
	EXPECT_EQ(cfg_rd(env, PCI_BASE_ADDRESS_1, 4), saved);
}

static void test_config_bars_2_to_5(struct test_env *env)
{
	unsigned int off;

	for (off = PCI_BASE_ADDRESS_2; off <= PCI_BASE_ADDRESS_5; off += 4) {
		diag("BAR at 0x%x", off);
		EXPECT_EQ(cfg_rd(env, off, 4), 0);
		cfg_wr(env, off, 4, 0xffffffff);
		EXPECT_EQ(cfg_rd(env, off, 4), 0);
	}
}

static void test_config_rom_bar(struct test_env *env)
{
	EXPECT_EQ(cfg_rd(env, PCI_ROM_ADDRESS, 4), 0);
	cfg_wr(env, PCI_ROM_ADDRESS, 4, 0xfffff800);	/* QEMU's ROM sizing */
	EXPECT_EQ(cfg_rd(env, PCI_ROM_ADDRESS, 4), 0);
	cfg_wr(env, PCI_ROM_ADDRESS, 4, 0xfffff801);
	EXPECT_EQ(cfg_rd(env, PCI_ROM_ADDRESS, 4), 0);
}

static void test_config_read_only_fields(struct test_env *env)
{
	static const struct {
		unsigned int off, len;
	} fields[] = {
		{ PCI_VENDOR_ID, 4 }, { PCI_CLASS_REVISION, 4 }, { PCI_HEADER_TYPE, 1 },
		{ PCI_SUBSYSTEM_VENDOR_ID, 4 }, { PCI_CAPABILITY_LIST, 1 },
		{ PCI_MIN_GNT, 2 }, { 0x40, 2 }, { 0x50, 2 }, { 0x60, 4 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint64_t before = cfg_rd(env, fields[i].off, fields[i].len);

		cfg_wr(env, fields[i].off, fields[i].len, ~before);
		if (!EXPECT_EQ(cfg_rd(env, fields[i].off, fields[i].len), before))
			diag("field at 0x%x changed", fields[i].off);
	}
}

/* Walk the capability list: PM at 0x40 -> MSI-X at 0x50 -> PCIe at 0x60 -> end. */
static void test_config_capability_list(struct test_env *env)
{
	static const struct {
		unsigned int off, id;
	} expected[] = {
		{ 0x40, PCI_CAP_ID_PM }, { 0x50, PCI_CAP_ID_MSIX }, { 0x60, PCI_CAP_ID_EXP },
	};
	unsigned int i, pos = (unsigned int)cfg_rd(env, PCI_CAPABILITY_LIST, 1);

	for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		if (!EXPECT_EQ(pos, expected[i].off))
			return;
		EXPECT_EQ(cfg_rd(env, pos + PCI_CAP_LIST_ID, 1), expected[i].id);
		pos = (unsigned int)cfg_rd(env, pos + PCI_CAP_LIST_NEXT, 1);
	}
	EXPECT_EQ(pos, 0);
}

static void test_config_pm_capability(struct test_env *env)
{
	uint64_t pmc = cfg_rd(env, 0x40 + PCI_PM_PMC, 2);
	uint64_t pmcsr = cfg_rd(env, 0x40 + PCI_PM_CTRL, 2);

	EXPECT_EQ(cfg_rd(env, 0x40, 1), PCI_CAP_ID_PM);
	EXPECT((pmc & PCI_PM_CAP_VER_MASK) >= 1 && (pmc & PCI_PM_CAP_VER_MASK) <= 3,
	       "PMC 0x%llx", (unsigned long long)pmc);
	EXPECT_EQ(pmcsr & PCI_PM_CTRL_STATE_MASK, 0);	/* D0 */
}

static void test_config_msix_capability(struct test_env *env)
{
	uint64_t flags = cfg_rd(env, 0x50 + PCI_MSIX_FLAGS, 2);

	EXPECT_EQ(cfg_rd(env, 0x50, 1), PCI_CAP_ID_MSIX);
	EXPECT_EQ((flags & PCI_MSIX_FLAGS_QSIZE) + 1, env->dev->msix_count);
	EXPECT_EQ(flags & PCI_MSIX_FLAGS_ENABLE, 0);
	EXPECT_EQ(cfg_rd(env, 0x50 + PCI_MSIX_TABLE, 4), 0x2000 | 0);
	EXPECT_EQ(cfg_rd(env, 0x50 + PCI_MSIX_PBA, 4), 0x3000 | 0);
}

static void test_config_pcie_capability(struct test_env *env)
{
	uint64_t flags = cfg_rd(env, 0x60 + PCI_EXP_FLAGS, 2);

	EXPECT_EQ(cfg_rd(env, 0x60, 1), PCI_CAP_ID_EXP);
	EXPECT_EQ(flags & PCI_EXP_FLAGS_VERS, 2);
	EXPECT_EQ((flags & PCI_EXP_FLAGS_TYPE) >> 4, PCI_EXP_TYPE_ENDPOINT);
}

static void test_config_access_sizes(struct test_env *env)
{
	static const unsigned int offsets[] = {
		0, 1, 2, 3, 0x3d, 0x40, 0x52, 0xfc, 0x100, 0xffc, 0xffd, 0xffe, 0xfff,
	};
	static const unsigned int sizes[] = { 1, 2, 4 };
	uint64_t dword = cfg_rd(env, 0, 4);
	unsigned int i, j;

	for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++)
			if (offsets[i] + sizes[j] <= CONFIG_SIZE)
				cfg_rd(env, offsets[i], sizes[j]);
	/* Narrow reads see the same bytes as the dword read. */
	EXPECT_EQ(cfg_rd(env, 0, 1) | cfg_rd(env, 1, 1) << 8 | cfg_rd(env, 2, 2) << 16, dword);
	EXPECT_EQ(cfg_rd(env, 1, 2), (dword >> 8) & 0xffff);
	EXPECT_EQ(cfg_rd(env, 1, 4) & 0xffffff, dword >> 8);
	/* Writes of each size at the end of the space are accepted (and ignored). */
	cfg_wr(env, 0xfff, 1, 0);
	cfg_wr(env, 0xffe, 2, 0);
	cfg_wr(env, 0xffc, 4, 0);
}

static void test_config_out_of_range(struct test_env *env)
{
	static const struct {
		unsigned int off, len;
	} bad[] = {
		{ 4096, 1 }, { 4095, 2 }, { 4094, 4 }, { 4093, 4 }, { 0x2000, 4 },
	};
	uint32_t val = 0;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		diag("offset 0x%x len %u", bad[i].off, bad[i].len);
		EXPECT_FAILS(vnvme_cfg_read(env->dev, bad[i].off, &val, bad[i].len));
		EXPECT_FAILS(vnvme_cfg_write(env->dev, bad[i].off, &val, bad[i].len));
	}
}

/*
 * QEMU reads the whole config space with one pread at realize, so any
 * length must work and match the narrow accesses.  Odd lengths elsewhere
 * may be rejected, but if accepted they must act like byte accesses.
 */
static void test_config_wide_access(struct test_env *env)
{
	static uint8_t whole[CONFIG_SIZE];
	uint8_t three[3] = { 0 }, saved = (uint8_t)cfg_rd(env, PCI_CACHE_LINE_SIZE, 1);
	unsigned int off, mismatches = 0;
	int ret;

	if (!EXPECT_OK(vnvme_cfg_read(env->dev, 0, whole, sizeof(whole))))
		return;
	for (off = 0; off < CONFIG_SIZE; off += 4) {
		uint32_t dword;

		memcpy(&dword, whole + off, 4);
		if (dword != cfg_rd(env, off, 4) && !mismatches++)
			diag("bulk read differs from dword reads at 0x%x", off);
	}
	EXPECT_EQ(mismatches, 0);
	EXPECT_OK(vnvme_cfg_read(env->dev, 0, whole, 256));

	ret = vnvme_cfg_read(env->dev, 1, three, 3);
	if (ret)
		diag("3-byte read rejected (%d): allowed", ret);
	else
		EXPECT_EQ(three[0] | three[1] << 8 | three[2] << 16, (cfg_rd(env, 0, 4) >> 8));
	three[0] = 0x20;	/* cache line size, latency timer, header type (read-only) */
	three[1] = 0;
	three[2] = 0xff;
	ret = vnvme_cfg_write(env->dev, PCI_CACHE_LINE_SIZE, three, 3);
	if (ret) {
		diag("3-byte write rejected (%d): allowed", ret);
	} else {
		EXPECT_EQ(cfg_rd(env, PCI_CACHE_LINE_SIZE, 1), 0x20);
		EXPECT_EQ(cfg_rd(env, PCI_HEADER_TYPE, 1), PCI_HEADER_TYPE_NORMAL);
	}
	cfg_wr(env, PCI_CACHE_LINE_SIZE, 1, saved);
}

static void test_config_extended_space(struct test_env *env)
{
	unsigned int off, nonzero = 0;

	for (off = 0x100; off < CONFIG_SIZE; off += 4)
		if (cfg_rd(env, off, 4))
			nonzero++;
	EXPECT_EQ(nonzero, 0);
}

/* ------------------------------------------------------------------------ */
/* BAR0                                                                      */
/* ------------------------------------------------------------------------ */

static void test_bar0_access_sizes(struct test_env *env)
{
	static const unsigned int offsets[] = {
		0x0, 0x8, 0x14, 0x1c, 0x24, 0x28, 0x30, 0x1000, 0x2000, 0x3000,
	};
	static const unsigned int sizes[] = { 1, 2, 4, 8 };
	uint64_t cap;
	unsigned int i, j;

	for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++)
			bar_rd(env, offsets[i], sizes[j]);
	/* The last bytes of the BAR, at each size. */
	for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++)
		bar_rd(env, BAR0_SIZE - sizes[j], sizes[j]);
	/* Every width sees the same CAP. */
	cap = bar_rd(env, NVME_REG_CAP, 8);
	EXPECT_EQ(bar_rd(env, 0, 4) | bar_rd(env, 4, 4) << 32, cap);
	EXPECT_EQ(bar_rd(env, 0, 2) | bar_rd(env, 2, 2) << 16 | bar_rd(env, 4, 2) << 32 |
		  bar_rd(env, 6, 2) << 48, cap);
	EXPECT_EQ(bar_rd(env, 3, 1), (cap >> 24) & 0xff);
	EXPECT_EQ(bar_rd(env, 8, 8), bar_rd(env, 8, 4) | bar_rd(env, 0xc, 4) << 32);
}

static void test_bar0_cap(struct test_env *env)
{
	uint64_t cap = bar_rd(env, NVME_REG_CAP, 8);
	uint32_t entries = NVME_CAP_MQES(cap) + 1;

	diag("CAP 0x%016llx", (unsigned long long)cap);
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

static void test_bar0_version(struct test_env *env)
{
	EXPECT_EQ(bar_rd(env, NVME_REG_VS, 4), NVME_VS(1, 4, 0));
}

static void test_bar0_reserved_zero(struct test_env *env)
{
	unsigned int off, nonzero = 0;

	EXPECT_EQ(bar_rd(env, NVME_REG_CMBLOC, 4), 0);
	EXPECT_EQ(bar_rd(env, NVME_REG_CMBSZ, 4), 0);
	EXPECT_EQ(bar_rd(env, NVME_REG_NSSR, 4), 0);
	for (off = 0x40; off < 0x1000; off += 4) {
		if (bar_rd(env, off, 4)) {
			if (!nonzero++)
				diag("first non-zero reserved register at 0x%x", off);
		}
	}
	EXPECT_EQ(nonzero, 0);
}

/* Write one register with several access widths and read it back. */
static void test_bar0_register_writes(struct test_env *env)
{
	static const unsigned int addr_regs[] = { NVME_REG_ASQ, NVME_REG_ACQ };
	unsigned int i;

	bar_wr(env, NVME_REG_CC, 4, 0);
	if (!EXPECT_EQ(bar_rd(env, NVME_REG_CC, 4), 0))
		return;
	/* CC with EN = 0: queue entry sizes, shutdown notification. */
	bar_wr(env, NVME_REG_CC, 4, NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4));
	EXPECT_EQ(bar_rd(env, NVME_REG_CC, 4), 0x00460000);
	bar_wr(env, NVME_REG_CC + 2, 1, 0x00);
	EXPECT_EQ(bar_rd(env, NVME_REG_CC, 4), 0);
	bar_wr(env, NVME_REG_CC + 2, 2, 0x0046);
	EXPECT_EQ(bar_rd(env, NVME_REG_CC, 4), 0x00460000);
	EXPECT_EQ(bar_rd(env, NVME_REG_CC + 2, 1), 0x46);
	bar_wr(env, NVME_REG_CC, 4, 0);

	bar_wr(env, NVME_REG_AQA, 4, 0x001f003f);
	EXPECT_EQ(bar_rd(env, NVME_REG_AQA, 4), 0x001f003f);
	bar_wr(env, NVME_REG_AQA, 2, 0x0007);
	bar_wr(env, NVME_REG_AQA + 2, 2, 0x000f);
	EXPECT_EQ(bar_rd(env, NVME_REG_AQA, 4), 0x000f0007);
	bar_wr(env, NVME_REG_AQA, 1, 0x03);
	EXPECT_EQ(bar_rd(env, NVME_REG_AQA, 1), 0x03);
	EXPECT_EQ(bar_rd(env, NVME_REG_AQA, 4), 0x000f0003);
	bar_wr(env, NVME_REG_AQA, 4, 0);

	for (i = 0; i < 2; i++) {
		unsigned int reg = addr_regs[i];

		diag("register 0x%x", reg);
		bar_wr(env, reg, 8, 0x0000123456789000ull);
		EXPECT_EQ(bar_rd(env, reg, 8), 0x0000123456789000ull);
		EXPECT_EQ(bar_rd(env, reg, 4), 0x56789000);
		EXPECT_EQ(bar_rd(env, reg + 4, 4), 0x1234);
		/* Two 32-bit writes, low then high, as Linux and SeaBIOS do. */
		bar_wr(env, reg, 4, 0xabcde000);
		bar_wr(env, reg + 4, 4, 0x12);
		EXPECT_EQ(bar_rd(env, reg, 8), 0x12abcde000ull);
		bar_wr(env, reg + 2, 2, 0x1234);
		EXPECT_EQ(bar_rd(env, reg, 8), 0x1212340000ull | 0xe000);
		bar_wr(env, reg + 5, 1, 0x56);
		EXPECT_EQ(bar_rd(env, reg, 8), 0x561212340000ull | 0xe000);
		bar_wr(env, reg, 8, 0);
		EXPECT_EQ(bar_rd(env, reg, 8), 0);
	}
}

static void test_bar0_out_of_range(struct test_env *env)
{
	static const struct {
		unsigned int off, len;
	} bad[] = {
		{ 0x4000, 1 }, { 0x3fff, 2 }, { 0x3ffd, 4 }, { 0x3ff9, 8 }, { 0x4000, 4 },
		{ 0x10000, 4 },
	};
	uint64_t val = 0;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		diag("offset 0x%x len %u", bad[i].off, bad[i].len);
		EXPECT_FAILS(vnvme_bar_read(env->dev, bad[i].off, &val, bad[i].len));
		EXPECT_FAILS(vnvme_bar_write(env->dev, bad[i].off, &val, bad[i].len));
	}
}

/* Wider or odd-length BAR0 accesses: rejected, or the same as narrow ones. */
static void test_bar0_wide_access(struct test_env *env)
{
	static const uint8_t aqa_bytes[3] = { 0x1f, 0x00, 0x1f };
	uint64_t regs[8];
	unsigned int i;
	int ret;

	ret = vnvme_bar_read(env->dev, 0, regs, sizeof(regs));
	if (ret) {
		diag("64-byte read rejected (%d): allowed", ret);
	} else {
		for (i = 0; i < 8; i++) {
			diag("qword at 0x%x", i * 8);
			EXPECT_EQ(regs[i], bar_rd(env, i * 8, 8));
		}
	}
	ret = vnvme_bar_write(env->dev, NVME_REG_AQA, aqa_bytes, sizeof(aqa_bytes));
	if (ret)
		diag("3-byte write rejected (%d): allowed", ret);
	EXPECT_EQ(bar_rd(env, NVME_REG_AQA, 4), ret ? 0 : 0x001f001f);
	bar_wr(env, NVME_REG_AQA, 4, 0);
}

/* ------------------------------------------------------------------------ */
/* DMA mapping                                                               */
/* ------------------------------------------------------------------------ */

static void test_dma_map_unmap(struct test_env *env)
{
	const size_t size = 1u << 20;
	uint64_t iova = env->dev->arena.iova + env->dev->arena.size + (1ull << 30);
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (!EXPECT(mem != MAP_FAILED, "mmap: %s", strerror(errno)))
		return;
	EXPECT_OK(vnvme_dma_map(env->dev, mem, iova, size));
	EXPECT_FAILS(vnvme_dma_map(env->dev, mem, iova, size));	/* overlaps */
	EXPECT_OK(vnvme_dma_unmap(env->dev, iova, size));
	EXPECT_ERRNO(vnvme_dma_unmap(env->dev, iova, size), ENOENT);
	/* Map in two halves, unmap the whole: the device sees two dma_unmaps. */
	EXPECT_OK(vnvme_dma_map(env->dev, mem, iova, size / 2));
	EXPECT_OK(vnvme_dma_map(env->dev, (uint8_t *)mem + size / 2, iova + size / 2, size / 2));
	EXPECT_OK(vnvme_dma_unmap(env->dev, iova, size));
	munmap(mem, size);
}

/* ------------------------------------------------------------------------ */
/* Interrupts                                                                */
/* ------------------------------------------------------------------------ */

struct eventfds {
	int fd[64];
	unsigned int count;
};

static bool eventfds_open(struct test_env *env, struct eventfds *e, unsigned int count)
{
	unsigned int i;

	e->count = 0;
	if (!EXPECT(count >= 2 && count <= 64, "MSI-X count %u", count))
		return false;
	for (i = 0; i < count; i++) {
		e->fd[i] = vnvme_eventfd_create();
		if (!EXPECT(e->fd[i] >= 0, "eventfd: %s", strerror(-e->fd[i])))
			return false;
		e->count++;
	}
	return true;
}

static void eventfds_close(struct eventfds *e)
{
	while (e->count)
		close(e->fd[--e->count]);
}

/* Exactly vector `fired` (or none if < 0) of e has been signalled. */
static void expect_only_signalled(struct test_env *env, const struct eventfds *e, int fired)
{
	unsigned int i;

	for (i = 0; i < e->count; i++) {
		bool want = (int)i == fired;
		bool got = signalled(e->fd[i], want ? IRQ_WAIT_MS : 0);

		check(env, got == want, __LINE__, "vector %u %s", i,
		      want ? "was not signalled" : "was signalled unexpectedly");
	}
}

static void test_msix_all_vectors(struct test_env *env)
{
	unsigned int n = env->dev->msix_count, k;
	struct eventfds e;

	if (!eventfds_open(env, &e, n))
		goto out;
	if (!EXPECT_OK(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, n, e.fd)))
		goto out;
	for (k = 0; k < n; k++) {
		diag("trigger vector %u", k);
		EXPECT_OK(vnvme_irq_trigger(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, k, 1));
		expect_only_signalled(env, &e, (int)k);
	}
	EXPECT_OK(vnvme_irq_disable(env->dev, VFIO_PCI_MSIX_IRQ_INDEX));
out:
	eventfds_close(&e);
}

/* QEMU's pattern: disable, enable N with fd -1 for masked vectors, then per-vector updates. */
static void test_msix_partial_ranges(struct test_env *env)
{
	unsigned int n = env->dev->msix_count, last = n - 1;
	int fds[64];
	struct eventfds e;
	unsigned int i;

	if (!eventfds_open(env, &e, n))
		goto out;
	EXPECT_OK(vnvme_irq_disable(env->dev, VFIO_PCI_MSIX_IRQ_INDEX));
	for (i = 0; i < n; i++)
		fds[i] = i == 0 ? e.fd[0] : -1;
	EXPECT_OK(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, n, fds));
	EXPECT_OK(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, last, 1, &e.fd[last]));
	EXPECT_OK(vnvme_irq_trigger(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, last, 1));
	expect_only_signalled(env, &e, (int)last);
	EXPECT_OK(vnvme_irq_trigger(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1));
	expect_only_signalled(env, &e, 0);
	/* A vector with fd -1 stays silent. */
	EXPECT_OK(vnvme_irq_trigger(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 1, 1));
	expect_only_signalled(env, &e, -1);
	/* Two vectors set from the middle of the table. */
	EXPECT_OK(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 1, 2, &e.fd[1]));
	EXPECT_OK(vnvme_irq_trigger(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 2, 1));
	expect_only_signalled(env, &e, 2);
	EXPECT_OK(vnvme_irq_disable(env->dev, VFIO_PCI_MSIX_IRQ_INDEX));
out:
	eventfds_close(&e);
}

static void test_msix_unset_vector(struct test_env *env)
{
	unsigned int n = env->dev->msix_count;
	int none = -1;
	struct eventfds e;

	if (!eventfds_open(env, &e, n))
		goto out;
	EXPECT_OK(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, n, e.fd));
	EXPECT_OK(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 1, 1, &none));
	EXPECT_OK(vnvme_irq_trigger(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 1, 1));
	expect_only_signalled(env, &e, -1);
	EXPECT_OK(vnvme_irq_trigger(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1));
	expect_only_signalled(env, &e, 0);
	EXPECT_OK(vnvme_irq_disable(env->dev, VFIO_PCI_MSIX_IRQ_INDEX));
out:
	eventfds_close(&e);
}

static void test_msix_trigger_bool(struct test_env *env)
{
	const uint32_t flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER;
	unsigned int n = env->dev->msix_count;
	uint8_t yes = 1, no = 0;
	struct eventfds e;

	if (!eventfds_open(env, &e, n))
		goto out;
	EXPECT_OK(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, n, e.fd));
	EXPECT_OK(vnvme_set_irqs(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, flags, 1, 1, &yes));
	expect_only_signalled(env, &e, 1);
	EXPECT_OK(vnvme_set_irqs(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, flags, 1, 1, &no));
	expect_only_signalled(env, &e, -1);
	EXPECT_OK(vnvme_irq_disable(env->dev, VFIO_PCI_MSIX_IRQ_INDEX));
out:
	eventfds_close(&e);
}

static void test_msix_disable(struct test_env *env)
{
	unsigned int n = env->dev->msix_count;
	struct eventfds e;

	if (!eventfds_open(env, &e, n))
		goto out;
	EXPECT_OK(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, n, e.fd));
	EXPECT_OK(vnvme_irq_disable(env->dev, VFIO_PCI_MSIX_IRQ_INDEX));
	/* Triggering a disabled vector may succeed or fail, but must not signal. */
	vnvme_irq_trigger(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1);
	expect_only_signalled(env, &e, -1);
	/* Disabling twice is fine. */
	EXPECT_OK(vnvme_irq_disable(env->dev, VFIO_PCI_MSIX_IRQ_INDEX));
out:
	eventfds_close(&e);
}

static void test_msix_out_of_range(struct test_env *env)
{
	unsigned int n = env->dev->msix_count;
	int fds[65];
	struct eventfds e;
	unsigned int i;

	if (!eventfds_open(env, &e, n))
		goto out;
	for (i = 0; i < n; i++)
		fds[i] = e.fd[i];
	fds[n] = e.fd[0];
	EXPECT_ERRNO(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, n, 1, fds), EINVAL);
	EXPECT_ERRNO(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, n + 1, fds),
		     EINVAL);
	EXPECT_ERRNO(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, n - 1, 2, fds),
		     EINVAL);
	EXPECT_ERRNO(vnvme_irq_trigger(env->dev, VFIO_PCI_MSIX_IRQ_INDEX, n, 1), EINVAL);
	expect_only_signalled(env, &e, -1);
out:
	eventfds_close(&e);
}

static void test_irq_other_indexes(struct test_env *env)
{
	static const unsigned int indexes[] = {
		VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_ERR_IRQ_INDEX,
		VFIO_PCI_NUM_IRQS,
	};
	int fd = vnvme_eventfd_create();
	unsigned int i;

	if (!EXPECT(fd >= 0, "eventfd"))
		return;
	for (i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++) {
		diag("index %u", indexes[i]);
		EXPECT_ERRNO(vnvme_irq_set_eventfds(env->dev, indexes[i], 0, 1, &fd), EINVAL);
	}
	close(fd);
}

static void test_req_irq(struct test_env *env)
{
	int fds[2], none = -1;

	fds[0] = vnvme_eventfd_create();
	fds[1] = vnvme_eventfd_create();
	if (EXPECT(fds[0] >= 0 && fds[1] >= 0, "eventfd")) {
		EXPECT_OK(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, fds));
		EXPECT_ERRNO(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_REQ_IRQ_INDEX, 0, 2, fds),
			     EINVAL);
		EXPECT_ERRNO(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_REQ_IRQ_INDEX, 1, 1, fds),
			     EINVAL);
		EXPECT_OK(vnvme_irq_set_eventfds(env->dev, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &none));
		EXPECT(!signalled(fds[0], 0), "REQ signalled without a removal");
	}
	close(fds[0]);
	close(fds[1]);
}

/* ------------------------------------------------------------------------ */
/* Reset                                                                     */
/* ------------------------------------------------------------------------ */

static void test_device_reset(struct test_env *env)
{
	bar_wr(env, NVME_REG_CC, 4, NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4));
	bar_wr(env, NVME_REG_AQA, 4, 0x001f001f);
	bar_wr(env, NVME_REG_ASQ, 8, 0x10000000);
	bar_wr(env, NVME_REG_ACQ, 8, 0x20000000);
	cfg_wr(env, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (!EXPECT_OK(vnvme_device_reset(env->dev)))
		return;
	EXPECT_EQ(bar_rd(env, NVME_REG_CC, 4), 0);
	EXPECT_EQ(bar_rd(env, NVME_REG_CSTS, 4), 0);
	EXPECT_EQ(bar_rd(env, NVME_REG_AQA, 4), 0);
	EXPECT_EQ(bar_rd(env, NVME_REG_ASQ, 8), 0);
	EXPECT_EQ(bar_rd(env, NVME_REG_ACQ, 8), 0);
	EXPECT_EQ(cfg_rd(env, PCI_COMMAND, 2), 0);
}

/* ------------------------------------------------------------------------ */
/* NVMe controller                                                           */
/* ------------------------------------------------------------------------ */

static bool ctrl_up(struct test_env *env, struct vnvme_ctrl *ctrl, int admin_irq_fd)
{
	if (!EXPECT_OK(vnvme_ctrl_init(ctrl, env->dev)))
		return false;
	ctrl->cmd_timeout_ms = 15000;	/* TCG VMs are slow */
	return EXPECT_OK(vnvme_ctrl_enable(ctrl, 0, admin_irq_fd));
}

static void ctrl_down(struct test_env *env, struct vnvme_ctrl *ctrl)
{
	if (ctrl->dev)
		EXPECT_OK(vnvme_ctrl_disable(ctrl));
	vnvme_ctrl_fini(ctrl);
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

static void test_controller_enable_identify(struct test_env *env)
{
	struct vnvme_ctrl ctrl;
	struct nvme_id_ctrl id;
	char sn[21], mn[41], path[PATH_MAX], sysfs_serial[64];

	if (!ctrl_up(env, &ctrl, -1))
		goto out;
	EXPECT_EQ(bar_rd(env, NVME_REG_CSTS, 4) & (NVME_CSTS_RDY | NVME_CSTS_CFS), NVME_CSTS_RDY);
	if (!EXPECT_OK(vnvme_identify(&ctrl, NVME_ID_CNS_CTRL, 0, &id)))
		goto out;
	fixed_string(sn, id.sn, sizeof(id.sn));
	fixed_string(mn, id.mn, sizeof(id.mn));
	diag("SN '%s' MN '%s' VID 0x%04x", sn, mn, id.vid);
	EXPECT_EQ(id.vid, cfg_rd(env, PCI_VENDOR_ID, 2));
	EXPECT_EQ(id.ssvid, cfg_rd(env, PCI_SUBSYSTEM_VENDOR_ID, 2));
	EXPECT(sn[0] && printable(sn), "serial '%s'", sn);
	EXPECT(mn[0] && printable(mn), "model '%s'", mn);
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/vnvme/serial", env->uuid);
	if (read_sysfs(path, sysfs_serial, sizeof(sysfs_serial)))
		EXPECT(!strcmp(sn, sysfs_serial), "serial '%s', sysfs says '%s'", sn, sysfs_serial);
	EXPECT_EQ(id.sqes, 0x66);
	EXPECT_EQ(id.cqes, 0x44);
	EXPECT(id.nn >= 1, "NN %u", id.nn);
	EXPECT(id.ver == 0 || id.ver == NVME_VS(1, 4, 0), "VER 0x%x", id.ver);
out:
	ctrl_down(env, &ctrl);
	EXPECT_EQ(bar_rd(env, NVME_REG_CSTS, 4) & NVME_CSTS_RDY, 0);
}

static int read_serial(struct test_env *env, struct vnvme_dev *dev, char *sn)
{
	struct vnvme_ctrl ctrl;
	struct nvme_id_ctrl id;
	int ret;

	ret = vnvme_ctrl_init(&ctrl, dev);
	if (ret)
		return ret;
	ctrl.cmd_timeout_ms = 15000;
	ret = vnvme_ctrl_enable(&ctrl, 0, -1);
	if (!ret)
		ret = vnvme_identify(&ctrl, NVME_ID_CNS_CTRL, 0, &id);
	if (!ret)
		fixed_string(sn, id.sn, sizeof(id.sn));
	EXPECT_OK(vnvme_ctrl_disable(&ctrl));
	vnvme_ctrl_fini(&ctrl);
	return ret;
}

static void test_controller_serial_unique(struct test_env *env)
{
	struct vnvme_dev *peer;
	char sn[21] = "", peer_sn[21] = "";

	if (!env->peer_uuid) {
		skip(env, "no --peer instance given");
		return;
	}
	if (!EXPECT_OK(vnvme_open(env->peer_uuid, &env->open_opts, &peer)))
		return;
	if (EXPECT_OK(read_serial(env, env->dev, sn)) &&
	    EXPECT_OK(read_serial(env, peer, peer_sn))) {
		diag("serials '%s' and '%s'", sn, peer_sn);
		EXPECT(strcmp(sn, peer_sn) != 0, "two instances share serial '%s'", sn);
	}
	vnvme_close(peer);
}

/* The admin CQ signals MSI-X vector 0. */
static void test_controller_admin_interrupt(struct test_env *env)
{
	struct nvme_sqe sqe = {
		.opcode = NVME_ADMIN_IDENTIFY,
		.cdw10 = NVME_ID_CNS_CTRL,
	};
	struct vnvme_ctrl ctrl;
	struct nvme_cqe cqe;
	int fd;

	if (!EXPECT_OK(vnvme_msix_enable(env->dev, 1)))
		return;
	fd = vnvme_msix_fd(env->dev, 0);
	if (!ctrl_up(env, &ctrl, fd))
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
	ctrl_down(env, &ctrl);
	vnvme_msix_disable(env->dev);
}

/* Create and delete I/O queue pairs, polled and with an interrupt vector. */
static void test_controller_io_queues(struct test_env *env)
{
	struct nvme_sqe sqe;
	struct vnvme_ctrl ctrl;
	struct vnvme_queue *q;

	if (!EXPECT_OK(vnvme_msix_enable(env->dev, 2)))
		return;
	if (!ctrl_up(env, &ctrl, vnvme_msix_fd(env->dev, 0)))
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
	ctrl_down(env, &ctrl);
	vnvme_msix_disable(env->dev);
}

/* Data through namespace 1, if the instance has one attached. */
static void test_namespace_io(struct test_env *env)
{
	struct vnvme_queue *queues[2];
	struct vnvme_bench_result res;
	struct vnvme_ctrl ctrl;
	struct vnvme_ns ns;
	uint64_t nlb;
	int ret;

	if (!ctrl_up(env, &ctrl, -1))
		goto out;
	ret = vnvme_ns_init(&ns, &ctrl, 1);
	if (ret) {
		skip(env, "namespace 1 not usable (%d: %s)", ret, vnvme_last_error());
		goto out;
	}
	if (!EXPECT_OK(vnvme_create_io_queue_pair(&ctrl, 1, 32, -1, &queues[0])) ||
	    !EXPECT_OK(vnvme_create_io_queue_pair(&ctrl, 2, 32, -1, &queues[1])))
		goto out;
	nlb = ns.nsze < 512 ? ns.nsze : 512;
	EXPECT_OK(vnvme_verify_range(&ns, queues, 2, 0, nlb, 8192, 4, 0x5eed, &res));
	diag("verified %llu blocks of %u bytes", (unsigned long long)nlb, ns.lba_size);
out:
	ctrl_down(env, &ctrl);
}

/* Compare, Verify, Write Zeroes, DSM and Flush as Identify Controller advertises them. */
static void test_namespace_commands(struct test_env *env)
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

	if (!ctrl_up(env, &ctrl, -1))
		goto out;
	ret = vnvme_ns_init(&ns, &ctrl, 1);
	if (ret) {
		skip(env, "namespace 1 not usable (%d: %s)", ret, vnvme_last_error());
		goto out;
	}
	if (!EXPECT_OK(vnvme_identify(&ctrl, NVME_ID_CNS_CTRL, 0, &id)) ||
	    !EXPECT_OK(vnvme_create_io_queue_pair(&ctrl, 1, 16, -1, &q)) ||
	    !EXPECT(ns.nsze > 2 * nlb, "namespace of %llu blocks", (unsigned long long)ns.nsze))
		goto out;
	slba = ns.nsze - nlb;	/* the end of the namespace */
	len = (size_t)nlb * ns.lba_size;
	if (!EXPECT_OK(vnvme_dma_alloc(env->dev, len, &data)) ||
	    !EXPECT_OK(vnvme_dma_alloc(env->dev, 4096, &ranges)))
		goto out;
	diag("ONCS 0x%x VWC 0x%x, blocks %llu..%llu", id.oncs, id.vwc,
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
	vnvme_dma_free(env->dev, &data);
	vnvme_dma_free(env->dev, &ranges);
	ctrl_down(env, &ctrl);
}

/*
 * Unmapping memory that holds live queues must return promptly (the device
 * drops its pins synchronously).  The controller may then go on once the
 * IOVA is mapped again or declare itself fatal (CSTS.CFS); either way a
 * controller reset must bring it back.
 */
static void test_dma_unmap_live_queues(struct test_env *env)
{
	struct vnvme_dev *dev = env->dev;
	struct nvme_id_ctrl id;
	struct vnvme_ctrl ctrl;
	struct vnvme_queue *q;
	uint64_t csts;

	if (!ctrl_up(env, &ctrl, -1))
		goto out;
	if (!EXPECT_OK(vnvme_create_io_queue_pair(&ctrl, 1, 32, -1, &q)) ||
	    !EXPECT_OK(vnvme_identify(&ctrl, NVME_ID_CNS_CTRL, 0, &id)))
		goto out;
	if (!EXPECT_OK(vnvme_dma_unmap(dev, dev->arena.iova, dev->arena.size)))
		goto out;
	dev->arena_mapped = false;
	if (!EXPECT_OK(vnvme_dma_map(dev, dev->arena.vaddr, dev->arena.iova, dev->arena.size)))
		goto out;
	dev->arena_mapped = true;
	csts = bar_rd(env, NVME_REG_CSTS, 4);
	if (csts & NVME_CSTS_CFS)
		diag("controller fatal after the unmap (CSTS 0x%llx): allowed, resetting",
		     (unsigned long long)csts);
	else
		EXPECT_OK(vnvme_identify(&ctrl, NVME_ID_CNS_CTRL, 0, &id));
	if (EXPECT_OK(vnvme_ctrl_enable(&ctrl, 0, -1)))
		EXPECT_OK(vnvme_identify(&ctrl, NVME_ID_CNS_CTRL, 0, &id));
out:
	ctrl_down(env, &ctrl);
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

static void test_req_irq_on_remove(struct test_env *env)
{
	struct remove_job job = { .error = 0 };
	char dir[256];
	pthread_t thread;
	struct stat st;

	if (!EXPECT_OK(vnvme_req_irq_enable(env->dev)))
		return;
	snprintf(dir, sizeof(dir), "/sys/bus/mdev/devices/%s", env->uuid);
	snprintf(job.path, sizeof(job.path), "%s/remove", dir);
	if (!EXPECT(!pthread_create(&thread, NULL, remove_instance, &job), "pthread_create"))
		return;
	/* The kernel asks right away, then every 10 s until the device is closed. */
	EXPECT(signalled(env->dev->req_fd, 25000), "no REQ interrupt within 25 s of remove");
	vnvme_close(env->dev);
	env->dev = NULL;
	pthread_join(thread, NULL);
	EXPECT(job.error == 0, "write %s: %s", job.path, strerror(job.error));
	EXPECT(stat(dir, &st) != 0, "%s still exists", dir);
}

/* ------------------------------------------------------------------------ */

struct test_case {
	const char *name;
	void (*run)(struct test_env *env);
};

static const struct test_case cases[] = {
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

#define NR_CASES	(sizeof(cases) / sizeof(cases[0]))

/* A case stuck in the kernel: report it and stop, rather than hang the VM run. */
static void on_timeout(int sig)
{
	ssize_t n;

	(void)sig;
	n = write(STDOUT_FILENO, timeout_line, strlen(timeout_line));
	(void)n;
	_exit(1);
}

static void find_type(struct test_env *env)
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

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/mdev_type", env->uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(env->type_name, sizeof(env->type_name), "unknown");
		return;
	}
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(env->type_name, sizeof(env->type_name), "%.63s", base ? base + 1 : link);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(env->type_name, types[i].name))
			env->expected_msix = types[i].vectors;
}

static int usage(void)
{
	fprintf(stderr, "usage: vfio_device_test [--iommufd] [--peer UUID] [--no-remove] UUID\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct test_env env = { 0 };
	unsigned int i, passed = 0, failed = 0, skipped = 0;
	bool no_remove = false;
	int ret, argi;

	for (argi = 1; argi < argc && argv[argi][0] == '-'; argi++) {
		if (!strcmp(argv[argi], "--iommufd"))
			env.open_opts.use_iommufd = true;
		else if (!strcmp(argv[argi], "--no-remove"))
			no_remove = true;
		else if (!strcmp(argv[argi], "--peer") && argi + 1 < argc)
			env.peer_uuid = argv[++argi];
		else
			return usage();
	}
	if (argi != argc - 1)
		return usage();
	env.uuid = argv[argi];
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_timeout);
	find_type(&env);

	printf("KTAP version 1\n");
	printf("# vfio_device_test: instance %s, type %s, %s\n", env.uuid, env.type_name,
	       env.open_opts.use_iommufd ? "iommufd" : "type1");
	printf("1..%zu\n", NR_CASES);
	ret = vnvme_open(env.uuid, &env.open_opts, &env.dev);
	if (ret)
		diag("cannot open the instance: %s", vnvme_last_error());

	for (i = 0; i < NR_CASES; i++) {
		env.case_failed = false;
		env.skip_reason = NULL;
		if (!strcmp(cases[i].name, "req_irq_on_remove") && no_remove)
			skip(&env, "--no-remove");
		else if (!env.dev)
			env.case_failed = true;
		else {
			snprintf(timeout_line, sizeof(timeout_line),
				 "# timed out after %d s\nnot ok %u %s\nBail out! %s hung\n",
				 CASE_TIMEOUT_S, i + 1, cases[i].name, cases[i].name);
			alarm(CASE_TIMEOUT_S);
			cases[i].run(&env);
			alarm(0);
		}
		if (env.skip_reason) {
			printf("ok %u %s # SKIP %s\n", i + 1, cases[i].name, env.skip_reason);
			skipped++;
		} else if (env.case_failed) {
			printf("not ok %u %s\n", i + 1, cases[i].name);
			failed++;
		} else {
			printf("ok %u %s\n", i + 1, cases[i].name);
			passed++;
		}
	}
	vnvme_close(env.dev);
	printf("# vfio_device_test: %u passed, %u failed, %u skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
