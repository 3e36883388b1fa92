// SPDX-License-Identifier: GPL-2.0
/*
 * migrate.c - VFIO migration v2 from the user's side: the device state
 * machine (VFIO_DEVICE_FEATURE_MIGRATION, _MIG_DEVICE_STATE, _MIG_DATA_SIZE),
 * the data file, type1 dirty page tracking (VFIO_IOMMU_DIRTY_PAGES), and a
 * destination that takes over the source's DMA arena, as a VMM's guest RAM
 * would arrive on the destination.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* 6.3 uapi; the Debian 12 headers predate it. */
#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
struct vfio_device_feature_mig_data_size {
	__aligned_u64 stop_copy_length;
};
#endif

static int device_feature(struct vnvme_dev *dev, uint32_t flags, void *data, size_t len)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) + 64) / 8] = { 0 };
	struct vfio_device_feature *f = (void *)buf;

	if (len > 64)
		return -EINVAL;
	f->argsz = sizeof(*f) + len;
	f->flags = flags;
	memcpy(f->data, data, len);
	if (ioctl(dev->device_fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	memcpy(data, f->data, len);
	return 0;
}

int vnvme_mig_flags(struct vnvme_dev *dev, uint64_t *flags)
{
	struct vfio_device_feature_migration mig = { 0 };
	int ret = device_feature(dev, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
				 &mig, sizeof(mig));

	if (ret)
		return vnvme_fail(ret, "VFIO_DEVICE_FEATURE_MIGRATION");
	*flags = mig.flags;
	return 0;
}

int vnvme_mig_get_state(struct vnvme_dev *dev, uint32_t *state)
{
	struct vfio_device_feature_mig_state st = { 0 };
	int ret = device_feature(dev, VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &st, sizeof(st));

	if (ret)
		return vnvme_fail(ret, "GET VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE");
	*state = st.device_state;
	return 0;
}

int vnvme_mig_set_state(struct vnvme_dev *dev, uint32_t state, int *data_fd)
{
	struct vfio_device_feature_mig_state st = { .device_state = state, .data_fd = -1 };
	int ret = device_feature(dev, VFIO_DEVICE_FEATURE_SET |
				 VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &st, sizeof(st));

	if (ret)
		return vnvme_fail(ret, "SET VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE %u", state);
	if (data_fd)
		*data_fd = st.data_fd;
	else if (st.data_fd >= 0)
		close(st.data_fd);
	return 0;
}

int vnvme_mig_data_size(struct vnvme_dev *dev, uint64_t *len)
{
	struct vfio_device_feature_mig_data_size size = { 0 };
	int ret = device_feature(dev, VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &size, sizeof(size));

	if (ret)
		return vnvme_fail(ret, "VFIO_DEVICE_FEATURE_MIG_DATA_SIZE");
	*len = size.stop_copy_length;
	return 0;
}

int vnvme_mig_read_stream(int fd, uint8_t **bufp, size_t *lenp)
{
	size_t len = 0, cap = 1 << 16;
	uint8_t *buf = malloc(cap), *bigger;
	ssize_t n;

	if (!buf)
		return vnvme_fail(-ENOMEM, "stream buffer");
	for (;;) {
		if (len == cap) {
			bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				return vnvme_fail(-ENOMEM, "stream buffer");
			}
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			free(buf);
			return vnvme_fail(-errno, "read migration data");
		}
		if (!n)
			break;
		len += n;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

int vnvme_mig_write_stream(int fd, const void *buf, size_t len, size_t chunk)
{
	size_t done = 0, n;
	ssize_t w;

	if (!chunk)
		chunk = len;
	while (done < len) {
		n = MIN(chunk, len - done);
		w = write(fd, (const uint8_t *)buf + done, n);
		if (w < 0)
			return vnvme_fail(-errno, "write migration data at %zu", done);
		if (!w)
			return vnvme_fail(-EIO, "write migration data: no progress at %zu", done);
		done += w;
	}
	return 0;
}

static int dirty_pages(struct vnvme_dev *dev, uint32_t flags)
{
	struct vfio_iommu_type1_dirty_bitmap db = { .argsz = sizeof(db), .flags = flags };

	if (dev->uses_iommufd)
		return vnvme_fail(-EOPNOTSUPP, "dirty tracking needs the type1 container");
	if (ioctl(dev->container_fd, VFIO_IOMMU_DIRTY_PAGES, &db))
		return vnvme_fail(-errno, "VFIO_IOMMU_DIRTY_PAGES 0x%x", flags);
	return 0;
}

int vnvme_dirty_start(struct vnvme_dev *dev)
{
	return dirty_pages(dev, VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
}

int vnvme_dirty_stop(struct vnvme_dev *dev)
{
	return dirty_pages(dev, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);
}

int vnvme_dirty_arena_bitmap(struct vnvme_dev *dev, uint64_t *bitmap)
{
	size_t bytes = DIV_ROUND_UP(dev->arena_pages, 64) * 8;
	uint64_t buf[(sizeof(struct vfio_iommu_type1_dirty_bitmap) +
		      sizeof(struct vfio_iommu_type1_dirty_bitmap_get)) / 8 + 1] = { 0 };
	struct vfio_iommu_type1_dirty_bitmap *db = (void *)buf;
	struct vfio_iommu_type1_dirty_bitmap_get *range = (void *)db->data;

	if (dev->uses_iommufd)
		return vnvme_fail(-EOPNOTSUPP, "dirty tracking needs the type1 container");
	memset(bitmap, 0, bytes);
	db->argsz = sizeof(*db) + sizeof(*range);
	db->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	range->iova = dev->arena.iova;
	range->size = dev->arena.size;
	range->bitmap.pgsize = ARENA_PAGE_SIZE;
	range->bitmap.size = bytes;
	range->bitmap.data = (void *)bitmap;
	if (ioctl(dev->container_fd, VFIO_IOMMU_DIRTY_PAGES, db))
		return vnvme_fail(-errno, "VFIO_IOMMU_DIRTY_PAGES get bitmap");
	return 0;
}

int vnvme_arena_share(struct vnvme_dev *dst, struct vnvme_dev *src)
{
	size_t off;
	void *own;
	int ret;

	if (dst->arena.size != src->arena.size || dst->arena.iova != src->arena.iova ||
	    dst->map_chunk != src->map_chunk)
		return vnvme_fail(-EINVAL, "arenas differ in size, IOVA or chunking");
	for (off = 0; off < dst->arena.size; off += dst->map_chunk) {
		if (dst->chunk_mapped[off / dst->map_chunk]) {
			ret = vnvme_dma_unmap(dst, dst->arena.iova + off, dst->map_chunk);
			if (ret)
				return ret;
		}
		ret = vnvme_dma_map(dst, (uint8_t *)src->arena.vaddr + off,
				    dst->arena.iova + off, dst->map_chunk);
		if (ret)
			return ret;
		dst->chunk_mapped[off / dst->map_chunk] = 1;
	}
	dst->arena_mapped = true;
	/* Each memory is still unmapped (munmap) exactly once, by whoever holds it now. */
	own = dst->arena.vaddr;
	dst->arena.vaddr = src->arena.vaddr;
	src->arena.vaddr = own;
	memcpy(dst->page_in_use, src->page_in_use, dst->arena_pages);
	return 0;
}

/* CRC32C (Castagnoli), reflected, as the kernel's ~crc32c(~0, ...). */
uint32_t vnvme_crc32c(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = ~0u;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1));
	}
	return ~crc;
}
