// SPDX-License-Identifier: GPL-2.0
/*
 * libvnvme VFIO layer: container/group or iommufd/cdev, device fd, region
 * access, DMA mapping and the DMA arena allocator, interrupts (eventfds).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#if defined(__has_include)
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#endif
#endif

/* The cdev/iommufd path needs uapi headers from Linux 6.6 or later. */
#if defined(VFIO_DEVICE_BIND_IOMMUFD) && defined(IOMMU_IOAS_MAP)
#define HAVE_IOMMUFD 1
#else
#define HAVE_IOMMUFD 0
#endif

#define MDEV_SYSFS		"/sys/bus/mdev/devices"

static __thread char last_error[512];

const char *vnvme_last_error(void)
{
	return last_error;
}

int vnvme_fail(int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	if (err < 0 && n >= 0 && (size_t)n < sizeof(last_error))
		snprintf(last_error + n, sizeof(last_error) - n, ": %s",
			 strerror(-err));
	return err;
}

/* ------------------------------------------------------------------------ */
/* Opening: type1 container                                                  */
/* ------------------------------------------------------------------------ */

static int open_type1(struct vnvme_dev *dev)
{
	struct vfio_group_status group_status = { .argsz = sizeof(group_status) };
	char path[PATH_MAX], link[PATH_MAX];
	const char *group_name;
	unsigned long group;
	char *end;
	ssize_t n;
	int api;

	snprintf(path, sizeof(path), MDEV_SYSFS "/%s/iommu_group", dev->uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return vnvme_fail(-errno, "readlink %s (no such mdev instance?)", path);
	link[n] = '\0';
	group_name = strrchr(link, '/');
	group_name = group_name ? group_name + 1 : link;
	group = strtoul(group_name, &end, 10);
	if (!*group_name || *end)
		return vnvme_fail(-EINVAL, "unexpected IOMMU group '%s'", link);

	dev->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (dev->container_fd < 0)
		return vnvme_fail(-errno, "open /dev/vfio/vfio");
	api = ioctl(dev->container_fd, VFIO_GET_API_VERSION);
	if (api != VFIO_API_VERSION)
		return vnvme_fail(-EPROTO, "VFIO API version %d, expected %d",
				  api, VFIO_API_VERSION);
	if (ioctl(dev->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0)
		return vnvme_fail(-EOPNOTSUPP,
				  "container lacks VFIO_TYPE1v2_IOMMU (modprobe vfio_iommu_type1)");

	snprintf(path, sizeof(path), "/dev/vfio/%lu", group);
	dev->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->group_fd < 0)
		return vnvme_fail(-errno, "open %s", path);
	if (ioctl(dev->group_fd, VFIO_GROUP_GET_STATUS, &group_status))
		return vnvme_fail(-errno, "VFIO_GROUP_GET_STATUS");
	if (!(group_status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return vnvme_fail(-EBUSY, "group %lu is not viable", group);
	if (ioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER, &dev->container_fd))
		return vnvme_fail(-errno, "VFIO_GROUP_SET_CONTAINER");
	if (ioctl(dev->container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return vnvme_fail(-errno, "VFIO_SET_IOMMU(TYPE1v2)");

	dev->device_fd = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, dev->uuid);
	if (dev->device_fd < 0)
		return vnvme_fail(-errno, "VFIO_GROUP_GET_DEVICE_FD(%s)", dev->uuid);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Opening: iommufd + vfio cdev                                              */
/* ------------------------------------------------------------------------ */

/* Name of the vfio cdev ("vfioN") of the instance, from sysfs. */
static int find_vfio_cdev(const char *uuid, char *name, size_t size)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), MDEV_SYSFS "/%s/vfio-dev", uuid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(name, size, "%s", de->d_name);
			ret = 0;
			break;
		}
	}
	closedir(dir);
	return ret;
}

int vnvme_iommufd_available(const char *uuid)
{
	char name[NAME_MAX + 1];

	if (!HAVE_IOMMUFD)
		return 0;
	return !find_vfio_cdev(uuid, name, sizeof(name)) &&
	       !access("/dev/iommu", R_OK | W_OK);
}

#if HAVE_IOMMUFD
static int open_iommufd(struct vnvme_dev *dev)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char name[NAME_MAX + 1], path[PATH_MAX];
	int ret;

	ret = find_vfio_cdev(dev->uuid, name, sizeof(name));
	if (ret)
		return vnvme_fail(ret, "no vfio cdev under " MDEV_SYSFS "/%s/vfio-dev (kernel without CONFIG_VFIO_DEVICE_CDEV?)",
				  dev->uuid);
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	dev->device_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->device_fd < 0)
		return vnvme_fail(-errno, "open %s", path);
	dev->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (dev->iommufd < 0)
		return vnvme_fail(-errno, "open /dev/iommu (kernel without CONFIG_IOMMUFD?)");

	bind.iommufd = dev->iommufd;
	if (ioctl(dev->device_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return vnvme_fail(-errno, "VFIO_DEVICE_BIND_IOMMUFD");
	if (ioctl(dev->iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return vnvme_fail(-errno, "IOMMU_IOAS_ALLOC");
	dev->ioas_id = alloc.out_ioas_id;
	attach.pt_id = dev->ioas_id;
	if (ioctl(dev->device_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return vnvme_fail(-errno, "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	return 0;
}
#else
static int open_iommufd(struct vnvme_dev *dev)
{
	(void)dev;
	return vnvme_fail(-EOPNOTSUPP,
			  "iommufd support not compiled in (uapi headers older than Linux 6.6)");
}
#endif

/* ------------------------------------------------------------------------ */
/* Open / close                                                              */
/* ------------------------------------------------------------------------ */

static int read_region(struct vnvme_dev *dev, unsigned int index,
		       struct vnvme_region *region)
{
	struct vfio_region_info info;
	int ret;

	ret = vnvme_region_info(dev, index, &info);
	if (ret)
		return vnvme_fail(ret, "VFIO_DEVICE_GET_REGION_INFO(%u)", index);
	region->offset = info.offset;
	region->size = info.size;
	region->flags = info.flags;
	return 0;
}

static int map_arena(struct vnvme_dev *dev, const struct vnvme_open_opts *opts)
{
	size_t size = opts && opts->arena_size ? opts->arena_size : VNVME_DEFAULT_ARENA_SIZE;
	uint64_t iova = opts && opts->iova_base ? opts->iova_base : VNVME_DEFAULT_IOVA_BASE;
	size_t chunk = opts ? opts->map_chunk : 0;
	size_t off, nr_chunks;
	void *mem;
	int ret;

	size = ALIGN_UP(size, (size_t)ARENA_PAGE_SIZE);
	if (iova % ARENA_PAGE_SIZE)
		return vnvme_fail(-EINVAL, "IOVA base 0x%llx is not page aligned",
				  (unsigned long long)iova);
	if (chunk % ARENA_PAGE_SIZE)
		return vnvme_fail(-EINVAL, "map chunk %zu is not a page multiple", chunk);
	if (!chunk || chunk > size)
		chunk = size;
	size = ALIGN_UP(size, chunk);
	/* Populated up front so that no benchmark pays for page faults. */
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		return vnvme_fail(-errno, "mmap DMA arena of %zu bytes", size);
	/* A fork must not copy-on-write pages the device may have pinned. */
	madvise(mem, size, MADV_DONTFORK);
	dev->arena.vaddr = mem;
	dev->arena.iova = iova;
	dev->arena.size = size;
	dev->arena_pages = size / ARENA_PAGE_SIZE;
	dev->map_chunk = chunk;
	nr_chunks = size / chunk;
	dev->page_in_use = calloc(dev->arena_pages, 1);
	dev->chunk_mapped = calloc(nr_chunks, 1);
	if (!dev->page_in_use || !dev->chunk_mapped)
		return vnvme_fail(-ENOMEM, "arena page map");

	for (off = 0; off < size; off += chunk) {
		ret = vnvme_dma_map(dev, (uint8_t *)mem + off, iova + off, chunk);
		if (ret)
			return ret;
		dev->chunk_mapped[off / chunk] = 1;
		dev->arena_mapped = true;
	}
	return 0;
}

/* Apply map (or unmap) to the arena mappings [off, off + len) touches. */
static int arena_change(struct vnvme_dev *dev, uint64_t off, size_t len, bool map)
{
	size_t first, last, i;
	int ret, changed = 0;

	if (!dev->chunk_mapped || !len || off >= dev->arena.size)
		return vnvme_fail(-EINVAL, "arena range 0x%llx+0x%zx",
				  (unsigned long long)off, len);
	if (len > dev->arena.size - off)
		len = dev->arena.size - off;
	first = off / dev->map_chunk;
	last = (off + len - 1) / dev->map_chunk;
	for (i = first; i <= last; i++) {
		size_t at = i * dev->map_chunk;

		if (dev->chunk_mapped[i] == map)
			continue;
		if (map)
			ret = vnvme_dma_map(dev, (uint8_t *)dev->arena.vaddr + at,
					    dev->arena.iova + at, dev->map_chunk);
		else
			ret = vnvme_dma_unmap(dev, dev->arena.iova + at, dev->map_chunk);
		if (ret)
			return ret;
		dev->chunk_mapped[i] = map;
		changed++;
	}
	return changed;
}

int vnvme_arena_unmap(struct vnvme_dev *dev, uint64_t off, size_t len)
{
	return arena_change(dev, off, len, false);
}

int vnvme_arena_remap(struct vnvme_dev *dev, uint64_t off, size_t len)
{
	return arena_change(dev, off, len, true);
}

int vnvme_arena_remap_all(struct vnvme_dev *dev)
{
	return arena_change(dev, 0, dev->arena.size, true);
}

int vnvme_open(const char *uuid, const struct vnvme_open_opts *opts,
	       struct vnvme_dev **devp)
{
	struct vfio_irq_info irq;
	struct vnvme_dev *dev;
	unsigned int i;
	int ret;

	*devp = NULL;
	last_error[0] = '\0';
	if (strlen(uuid) >= sizeof(dev->uuid) || strchr(uuid, '/'))
		return vnvme_fail(-EINVAL, "bad UUID '%s'", uuid);
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return vnvme_fail(-ENOMEM, "out of memory");
	snprintf(dev->uuid, sizeof(dev->uuid), "%s", uuid);
	dev->container_fd = dev->group_fd = dev->iommufd = -1;
	dev->device_fd = dev->req_fd = -1;

	dev->uses_iommufd = opts && opts->use_iommufd;
	ret = dev->uses_iommufd ? open_iommufd(dev) : open_type1(dev);
	if (ret)
		goto err;

	ret = vnvme_device_info(dev, &dev->info);
	if (ret) {
		vnvme_fail(ret, "VFIO_DEVICE_GET_INFO");
		goto err;
	}
	ret = read_region(dev, VFIO_PCI_BAR0_REGION_INDEX, &dev->bar0);
	if (ret)
		goto err;
	ret = read_region(dev, VFIO_PCI_CONFIG_REGION_INDEX, &dev->config);
	if (ret)
		goto err;

	ret = vnvme_irq_info(dev, VFIO_PCI_MSIX_IRQ_INDEX, &irq);
	if (ret) {
		vnvme_fail(ret, "VFIO_DEVICE_GET_IRQ_INFO(MSIX)");
		goto err;
	}
	dev->msix_count = irq.count;
	if (dev->msix_count) {
		dev->msix_fds = malloc(dev->msix_count * sizeof(int));
		if (!dev->msix_fds) {
			ret = vnvme_fail(-ENOMEM, "out of memory");
			goto err;
		}
		for (i = 0; i < dev->msix_count; i++)
			dev->msix_fds[i] = -1;
	}

	ret = map_arena(dev, opts);
	if (!ret && opts && opts->map_doorbells)
		ret = vnvme_doorbells_map(dev);
	if (ret)
		goto err;
	*devp = dev;
	return 0;
err:
	vnvme_close(dev);
	return ret;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vnvme_close(struct vnvme_dev *dev)
{
	if (!dev)
		return;
	vnvme_doorbells_unmap(dev);
	if (dev->msix_fds)
		vnvme_msix_disable(dev);
	free(dev->msix_fds);
	close_fd(&dev->req_fd);
	/* Closing the device first stops its DMA before the memory goes away. */
	close_fd(&dev->device_fd);
	if (dev->arena_mapped && dev->chunk_mapped) {
		size_t i;

		for (i = 0; i < dev->arena.size / dev->map_chunk; i++)
			if (dev->chunk_mapped[i])
				vnvme_dma_unmap(dev, dev->arena.iova + i * dev->map_chunk,
						dev->map_chunk);
	} else if (dev->arena_mapped) {
		vnvme_dma_unmap(dev, dev->arena.iova, dev->arena.size);
	}
	if (dev->arena.vaddr)
		munmap(dev->arena.vaddr, dev->arena.size);
	free(dev->page_in_use);
	free(dev->chunk_mapped);
	close_fd(&dev->group_fd);
	close_fd(&dev->container_fd);
	close_fd(&dev->iommufd);
	free(dev);
}

/* ------------------------------------------------------------------------ */
/* Info ioctls                                                               */
/* ------------------------------------------------------------------------ */

int vnvme_device_info(struct vnvme_dev *dev, struct vfio_device_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return ioctl(dev->device_fd, VFIO_DEVICE_GET_INFO, info) ? -errno : 0;
}

int vnvme_region_info(struct vnvme_dev *dev, unsigned int index,
		      struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, info) ? -errno : 0;
}

int vnvme_region_sparse_areas(struct vnvme_dev *dev, unsigned int index,
			      struct vfio_region_sparse_mmap_area *areas,
			      unsigned int max)
{
	struct vfio_region_info *info;
	struct vfio_info_cap_header *hdr;
	struct vfio_region_info_cap_sparse_mmap *sparse;
	uint32_t argsz = sizeof(*info), off;
	unsigned int i, n = 0;
	int ret = 0;

	/* Twice at most: the first answer says how much room the caps need. */
	for (i = 0; i < 2; i++) {
		info = calloc(1, argsz);
		if (!info)
			return vnvme_fail(-ENOMEM, "out of memory");
		info->argsz = argsz;
		info->index = index;
		if (ioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, info)) {
			ret = vnvme_fail(-errno, "VFIO_DEVICE_GET_REGION_INFO(%u)", index);
			free(info);
			return ret;
		}
		if (info->argsz <= argsz)
			break;
		argsz = info->argsz;
		free(info);
		info = NULL;
	}
	if (!info)
		return vnvme_fail(-EPROTO, "region %u info keeps growing", index);
	if (!(info->flags & VFIO_REGION_INFO_FLAG_MMAP) ||
	    !(info->flags & VFIO_REGION_INFO_FLAG_CAPS) || !info->cap_offset)
		goto out;
	for (off = info->cap_offset; off; off = hdr->next) {
		if (off < sizeof(*info) || off > argsz - sizeof(*hdr)) {
			ret = vnvme_fail(-EPROTO, "region %u capability at %u out of bounds",
					 index, off);
			goto out;
		}
		hdr = (struct vfio_info_cap_header *)((char *)info + off);
		if (hdr->id != VFIO_REGION_INFO_CAP_SPARSE_MMAP)
			continue;
		sparse = (struct vfio_region_info_cap_sparse_mmap *)hdr;
		if (off + sizeof(*sparse) + (size_t)sparse->nr_areas * sizeof(areas[0]) > argsz) {
			ret = vnvme_fail(-EPROTO, "region %u sparse mmap areas out of bounds",
					 index);
			goto out;
		}
		for (i = 0; i < sparse->nr_areas; i++)
			if (n < max)
				areas[n++] = sparse->areas[i];
		break;
	}
out:
	free(info);
	return ret ? ret : (int)n;
}

int vnvme_doorbells_map(struct vnvme_dev *dev)
{
	struct vfio_region_sparse_mmap_area areas[8];
	long page = sysconf(_SC_PAGESIZE);
	int i, n;
	void *p;

	if (dev->doorbells)
		return 0;
	n = vnvme_region_sparse_areas(dev, VFIO_PCI_BAR0_REGION_INDEX, areas,
				      ARRAY_SIZE(areas));
	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		if (areas[i].offset <= NVME_REG_DOORBELLS &&
		    areas[i].offset + areas[i].size >= NVME_REG_DOORBELLS + (uint64_t)page)
			break;
	if (i == n)
		return vnvme_fail(-ENODEV, "BAR0 offers no mmap of the doorbell page "
				  "(the instance's doorbell_mode is trapped?)");
	p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, dev->device_fd,
		 (off_t)(dev->bar0.offset + NVME_REG_DOORBELLS));
	if (p == MAP_FAILED)
		return vnvme_fail(-errno, "mmap of the doorbell page");
	dev->doorbells = p;
	return 0;
}

void vnvme_doorbells_unmap(struct vnvme_dev *dev)
{
	if (!dev->doorbells)
		return;
	munmap((void *)dev->doorbells, (size_t)sysconf(_SC_PAGESIZE));
	dev->doorbells = NULL;
}

int vnvme_irq_info(struct vnvme_dev *dev, unsigned int index,
		   struct vfio_irq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(dev->device_fd, VFIO_DEVICE_GET_IRQ_INFO, info) ? -errno : 0;
}

int vnvme_device_reset(struct vnvme_dev *dev)
{
	return ioctl(dev->device_fd, VFIO_DEVICE_RESET) ? -errno : 0;
}

/* ------------------------------------------------------------------------ */
/* Region access                                                             */
/* ------------------------------------------------------------------------ */

int vnvme_region_read(struct vnvme_dev *dev, const struct vnvme_region *region,
		      uint64_t off, void *buf, size_t len)
{
	ssize_t n = pread(dev->device_fd, buf, len, (off_t)(region->offset + off));

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vnvme_region_write(struct vnvme_dev *dev, const struct vnvme_region *region,
		       uint64_t off, const void *buf, size_t len)
{
	ssize_t n = pwrite(dev->device_fd, buf, len, (off_t)(region->offset + off));

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vnvme_cfg_read(struct vnvme_dev *dev, uint64_t off, void *buf, size_t len)
{
	return vnvme_region_read(dev, &dev->config, off, buf, len);
}

int vnvme_cfg_write(struct vnvme_dev *dev, uint64_t off, const void *buf, size_t len)
{
	return vnvme_region_write(dev, &dev->config, off, buf, len);
}

int vnvme_bar_read(struct vnvme_dev *dev, uint64_t off, void *buf, size_t len)
{
	return vnvme_region_read(dev, &dev->bar0, off, buf, len);
}

int vnvme_bar_write(struct vnvme_dev *dev, uint64_t off, const void *buf, size_t len)
{
	return vnvme_region_write(dev, &dev->bar0, off, buf, len);
}

int vnvme_cfg_read8(struct vnvme_dev *dev, uint64_t off, uint8_t *val)
{
	return vnvme_cfg_read(dev, off, val, sizeof(*val));
}

int vnvme_cfg_read16(struct vnvme_dev *dev, uint64_t off, uint16_t *val)
{
	return vnvme_cfg_read(dev, off, val, sizeof(*val));
}

int vnvme_cfg_read32(struct vnvme_dev *dev, uint64_t off, uint32_t *val)
{
	return vnvme_cfg_read(dev, off, val, sizeof(*val));
}

int vnvme_cfg_write8(struct vnvme_dev *dev, uint64_t off, uint8_t val)
{
	return vnvme_cfg_write(dev, off, &val, sizeof(val));
}

int vnvme_cfg_write16(struct vnvme_dev *dev, uint64_t off, uint16_t val)
{
	return vnvme_cfg_write(dev, off, &val, sizeof(val));
}

int vnvme_cfg_write32(struct vnvme_dev *dev, uint64_t off, uint32_t val)
{
	return vnvme_cfg_write(dev, off, &val, sizeof(val));
}

/* ------------------------------------------------------------------------ */
/* DMA mapping and the arena allocator                                       */
/* ------------------------------------------------------------------------ */

int vnvme_dma_map(struct vnvme_dev *dev, void *vaddr, uint64_t iova, size_t size)
{
	if (dev->uses_iommufd) {
#if HAVE_IOMMUFD
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = dev->ioas_id,
			.user_va = (uintptr_t)vaddr,
			.length = size,
			.iova = iova,
		};

		if (ioctl(dev->iommufd, IOMMU_IOAS_MAP, &map))
			return vnvme_fail(-errno, "IOMMU_IOAS_MAP iova 0x%llx size 0x%zx",
					  (unsigned long long)iova, size);
		return 0;
#endif
	} else {
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)vaddr,
			.iova = iova,
			.size = size,
		};

		if (ioctl(dev->container_fd, VFIO_IOMMU_MAP_DMA, &map))
			return vnvme_fail(-errno, "VFIO_IOMMU_MAP_DMA iova 0x%llx size 0x%zx",
					  (unsigned long long)iova, size);
		return 0;
	}
	return vnvme_fail(-EOPNOTSUPP, "no DMA backend");
}

/* 0 if something was unmapped, -ENOENT if nothing was mapped there. */
int vnvme_dma_unmap(struct vnvme_dev *dev, uint64_t iova, size_t size)
{
	if (dev->uses_iommufd) {
#if HAVE_IOMMUFD
		struct iommu_ioas_unmap unmap = {
			.size = sizeof(unmap),
			.ioas_id = dev->ioas_id,
			.iova = iova,
			.length = size,
		};

		if (ioctl(dev->iommufd, IOMMU_IOAS_UNMAP, &unmap))
			return vnvme_fail(-errno, "IOMMU_IOAS_UNMAP iova 0x%llx size 0x%zx",
					  (unsigned long long)iova, size);
		return 0;
#endif
	} else {
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap),
			.iova = iova,
			.size = size,
		};

		if (ioctl(dev->container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap))
			return vnvme_fail(-errno, "VFIO_IOMMU_UNMAP_DMA iova 0x%llx size 0x%zx",
					  (unsigned long long)iova, size);
		/* type1 reports success with size 0 when nothing was mapped. */
		return unmap.size ? 0 : -ENOENT;
	}
	return vnvme_fail(-EOPNOTSUPP, "no DMA backend");
}

/* First-fit over the page map; arenas are small and allocations rare. */
int vnvme_dma_alloc(struct vnvme_dev *dev, size_t size, struct vnvme_dma_buf *buf)
{
	size_t pages = DIV_ROUND_UP(size ? size : 1, ARENA_PAGE_SIZE);
	size_t tried, start, run = 0, i;

	if (pages > dev->arena_pages)
		return vnvme_fail(-ENOMEM, "DMA buffer of %zu bytes exceeds the arena", size);
	start = dev->alloc_hint % dev->arena_pages;
	for (tried = 0, i = start; tried < dev->arena_pages + pages; tried++) {
		if (i == dev->arena_pages) {	/* runs do not wrap around */
			i = 0;
			run = 0;
		}
		run = dev->page_in_use[i] ? 0 : run + 1;
		i++;
		if (run == pages) {
			size_t first = i - pages;

			memset(dev->page_in_use + first, 1, pages);
			dev->alloc_hint = i;
			buf->vaddr = (uint8_t *)dev->arena.vaddr + first * ARENA_PAGE_SIZE;
			buf->iova = dev->arena.iova + first * ARENA_PAGE_SIZE;
			buf->size = pages * ARENA_PAGE_SIZE;
			memset(buf->vaddr, 0, buf->size);
			return 0;
		}
	}
	return vnvme_fail(-ENOMEM, "DMA arena exhausted (%zu bytes requested)", size);
}

void vnvme_dma_free(struct vnvme_dev *dev, struct vnvme_dma_buf *buf)
{
	size_t first;

	if (!buf->vaddr)
		return;
	first = ((uint8_t *)buf->vaddr - (uint8_t *)dev->arena.vaddr) / ARENA_PAGE_SIZE;
	memset(dev->page_in_use + first, 0, buf->size / ARENA_PAGE_SIZE);
	if (first < dev->alloc_hint)
		dev->alloc_hint = first;
	memset(buf, 0, sizeof(*buf));
}

/* ------------------------------------------------------------------------ */
/* Interrupts                                                                */
/* ------------------------------------------------------------------------ */

int vnvme_set_irqs(struct vnvme_dev *dev, unsigned int index, uint32_t flags,
		   unsigned int start, unsigned int count, const void *data)
{
	struct vfio_irq_set *set;
	size_t data_len = 0;
	int ret = 0;

	switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_BOOL:
		data_len = count * sizeof(uint8_t);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		data_len = count * sizeof(int32_t);
		break;
	}
	set = calloc(1, sizeof(*set) + data_len);
	if (!set)
		return -ENOMEM;
	set->argsz = sizeof(*set) + data_len;
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	if (data_len)
		memcpy(set->data, data, data_len);
	if (ioctl(dev->device_fd, VFIO_DEVICE_SET_IRQS, set))
		ret = -errno;
	free(set);
	return ret;
}

int vnvme_irq_set_eventfds(struct vnvme_dev *dev, unsigned int index,
			   unsigned int start, unsigned int count, const int *fds)
{
	return vnvme_set_irqs(dev, index,
			      VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			      start, count, fds);
}

int vnvme_irq_disable(struct vnvme_dev *dev, unsigned int index)
{
	return vnvme_set_irqs(dev, index,
			      VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			      0, 0, NULL);
}

int vnvme_irq_trigger(struct vnvme_dev *dev, unsigned int index,
		      unsigned int start, unsigned int count)
{
	return vnvme_set_irqs(dev, index,
			      VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			      start, count, NULL);
}

int vnvme_msix_enable(struct vnvme_dev *dev, unsigned int nvec)
{
	unsigned int i;
	int ret;

	if (!nvec || nvec > dev->msix_count)
		return vnvme_fail(-EINVAL, "MSI-X: %u vectors requested, device has %u",
				  nvec, dev->msix_count);
	for (i = 0; i < nvec; i++) {
		if (dev->msix_fds[i] >= 0)
			continue;
		ret = vnvme_eventfd_create();
		if (ret < 0)
			return vnvme_fail(ret, "eventfd");
		dev->msix_fds[i] = ret;
	}
	ret = vnvme_irq_set_eventfds(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, nvec,
				     dev->msix_fds);
	if (ret)
		return vnvme_fail(ret, "VFIO_DEVICE_SET_IRQS(MSIX, %u eventfds)", nvec);
	return 0;
}

int vnvme_msix_disable(struct vnvme_dev *dev)
{
	unsigned int i;
	int ret;

	ret = vnvme_irq_disable(dev, VFIO_PCI_MSIX_IRQ_INDEX);
	for (i = 0; i < dev->msix_count; i++)
		close_fd(&dev->msix_fds[i]);
	return ret ? vnvme_fail(ret, "VFIO_DEVICE_SET_IRQS(MSIX, disable)") : 0;
}

int vnvme_msix_fd(struct vnvme_dev *dev, unsigned int vector)
{
	return vector < dev->msix_count ? dev->msix_fds[vector] : -1;
}

int vnvme_req_irq_enable(struct vnvme_dev *dev)
{
	int ret;

	if (dev->req_fd < 0) {
		ret = vnvme_eventfd_create();
		if (ret < 0)
			return vnvme_fail(ret, "eventfd");
		dev->req_fd = ret;
	}
	ret = vnvme_irq_set_eventfds(dev, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &dev->req_fd);
	return ret ? vnvme_fail(ret, "VFIO_DEVICE_SET_IRQS(REQ)") : 0;
}

int vnvme_eventfd_create(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int64_t vnvme_eventfd_consume(int fd)
{
	uint64_t count;

	if (read(fd, &count, sizeof(count)) != sizeof(count))
		return errno == EAGAIN ? 0 : -errno;
	return (int64_t)count;
}

int64_t vnvme_eventfd_wait(int fd, int timeout_ms)
{
	uint64_t deadline = vnvme_now_ns() + (uint64_t)timeout_ms * 1000000;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t count;

	for (;;) {
		uint64_t now = vnvme_now_ns();
		int left_ms = now >= deadline ? 0 :
			      (int)DIV_ROUND_UP(deadline - now, 1000000);
		int n = poll(&pfd, 1, left_ms);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0) {
			count = vnvme_eventfd_consume(fd);
			if (count)
				return count;
		}
		if (vnvme_now_ns() >= deadline)
			return -ETIMEDOUT;
	}
}
