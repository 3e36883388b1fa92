/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the only place in vnvme that knows kernel versions.
 *
 * Supported: 6.1 (the mdev "types array" API starts there) up to current
 * mainline.  Every difference between those kernels that vnvme touches is
 * wrapped here so that the rest of the module reads like plain kernel code.
 */
#ifndef VNVME_COMPAT_H
#define VNVME_COMPAT_H

#include <linux/version.h>
#include <linux/eventfd.h>
#include <linux/blkdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/vfio.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <net/genetlink.h>

/* 6.12 moved the unaligned access helpers to <linux/unaligned.h>. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "vnvme needs Linux 6.1 or later (mdev_register_parent)"
#endif

#if !IS_ENABLED(CONFIG_VFIO_MDEV)
#error "vnvme needs CONFIG_VFIO_MDEV (Debian: use the generic, not the cloud, kernel flavour)"
#endif

/* 6.8 dropped the counter argument of eventfd_signal(). */
static inline void vnvme_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/* 6.4 dropped the owner argument of class_create(). */
static inline struct class *vnvme_class_create(const char *name)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	return class_create(name);
#else
	return class_create(THIS_MODULE, name);
#endif
}

/*
 * Until 6.2 the driver's ->release must free the vfio_device itself; from
 * 6.2 on the core does it after ->release returns.
 */
static inline void vnvme_vfio_release_device(struct vfio_device *vdev)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	vfio_free_device(vdev);
#endif
}

/*
 * iommufd callbacks for emulated-IOMMU devices: 6.2 added bind/unbind/attach,
 * 6.6 added detach and refuses registration without all four when
 * CONFIG_IOMMUFD is enabled.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define VNVME_VFIO_IOMMUFD_OPS					\
	.bind_iommufd	= vfio_iommufd_emulated_bind,		\
	.unbind_iommufd	= vfio_iommufd_emulated_unbind,		\
	.attach_ioas	= vfio_iommufd_emulated_attach_ioas,	\
	.detach_ioas	= vfio_iommufd_emulated_detach_ioas,
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define VNVME_VFIO_IOMMUFD_OPS					\
	.bind_iommufd	= vfio_iommufd_emulated_bind,		\
	.unbind_iommufd	= vfio_iommufd_emulated_unbind,		\
	.attach_ioas	= vfio_iommufd_emulated_attach_ioas,
#else
#define VNVME_VFIO_IOMMUFD_OPS
#endif

/* 6.3 made vma->vm_flags read-only behind vm_flags_set(). */
static inline void vnvme_vm_flags_set(struct vm_area_struct *vma,
				      vm_flags_t flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/* 6.13 added hrtimer_setup(); hrtimer_init() went away later. */
static inline void vnvme_hrtimer_setup(struct hrtimer *timer,
				       enum hrtimer_restart (*fn)(struct hrtimer *),
				       clockid_t clock, enum hrtimer_mode mode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

/*
 * An exclusively opened backing block device.  The open/close API changed
 * four times between 6.1 and 6.9; the holder makes the open exclusive.
 */
struct vnvme_bdev {
	struct block_device *bdev;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct file *file;
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	struct bdev_handle *handle;
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	void *holder;
#else
	fmode_t mode;
#endif
};

static inline int vnvme_bdev_open(struct vnvme_bdev *b, const char *path,
				  bool readonly, void *holder)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct file *file;

	file = bdev_file_open_by_path(path, BLK_OPEN_READ |
				      (readonly ? 0 : BLK_OPEN_WRITE),
				      holder, NULL);
	if (IS_ERR(file))
		return PTR_ERR(file);
	b->file = file;
	b->bdev = file_bdev(file);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	struct bdev_handle *handle;

	handle = bdev_open_by_path(path, BLK_OPEN_READ |
				   (readonly ? 0 : BLK_OPEN_WRITE),
				   holder, NULL);
	if (IS_ERR(handle))
		return PTR_ERR(handle);
	b->handle = handle;
	b->bdev = handle->bdev;
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	struct block_device *bdev;

	bdev = blkdev_get_by_path(path, BLK_OPEN_READ |
				  (readonly ? 0 : BLK_OPEN_WRITE),
				  holder, NULL);
	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	b->holder = holder;
	b->bdev = bdev;
#else
	struct block_device *bdev;
	fmode_t mode = FMODE_READ | FMODE_EXCL | (readonly ? 0 : FMODE_WRITE);

	bdev = blkdev_get_by_path(path, mode, holder);
	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	b->mode = mode;
	b->bdev = bdev;
#endif
	return 0;
}

/* Releases the exclusive claim synchronously, so a re-open right after works. */
static inline void vnvme_bdev_close(struct vnvme_bdev *b)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	bdev_fput(b->file);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	bdev_release(b->handle);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	blkdev_put(b->bdev, b->holder);
#else
	blkdev_put(b->bdev, b->mode);
#endif
	b->bdev = NULL;
}

/*
 * Joining a generic netlink multicast group with CAP_NET_ADMIN only: in
 * mainline from 6.7, backported to the 6.1 and 6.6 stable series in
 * December 2023 (Debian's 6.1 and 6.12 have it).  Without the flag the events group, which shows backing
 * devices and a VM's I/O errors, would be open to every local user, and
 * 6.1's genl_family has no bind hook to check it ourselves: refuse to build.
 */
#ifdef GENL_MCAST_CAP_NET_ADMIN
#define VNVME_GENL_MCAST_CAP_NET_ADMIN	GENL_MCAST_CAP_NET_ADMIN
#else
#error "vnvme needs GENL_MCAST_CAP_NET_ADMIN (Linux 6.7, or a 6.1/6.6 stable release from December 2023 on)"
#endif

/*
 * VFIO migration data size: 6.3 added VFIO_DEVICE_FEATURE_MIG_DATA_SIZE and
 * vfio_migration_ops.migration_get_data_size together (6.1 has neither).
 * Where the op is missing, vnvme answers the feature itself through
 * .device_feature, with the uapi number and struct of later kernels.
 */
#ifdef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VNVME_MIG_DATA_SIZE_OP(fn)	.migration_get_data_size = (fn),
#else
#define VNVME_MIG_DATA_SIZE_OP(fn)
#define VNVME_MIG_DATA_SIZE_FEATURE
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
struct vfio_device_feature_mig_data_size {
	__aligned_u64 stop_copy_length;
};
#endif

#endif /* VNVME_COMPAT_H */
