/* SPDX-License-Identifier: GPL-2.0 */
/* libvnvme private helpers shared by vfio.c, nvme.c and bench.c. */
#ifndef LIBVNVME_INTERNAL_H
#define LIBVNVME_INTERNAL_H

#include "libvnvme.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define ALIGN_UP(x, a)		(((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
/* Granule of the DMA arena's allocator and of dirty bitmaps. */
#define ARENA_PAGE_SIZE		4096u
#define MIN(a, b)		((a) < (b) ? (a) : (b))

/* Record the words returned by vnvme_last_error(); returns err (a -errno). */
int vnvme_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* LIBVNVME_INTERNAL_H */
