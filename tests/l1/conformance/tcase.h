/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcase: a small KTAP harness for the L1 NVMe test programs (conformance,
 * hostile, fault) built on libvnvme.  A program lists its cases; tcase_main
 * runs the selected ones, each under a time limit, and prints one KTAP line
 * per case.  With --health every case is followed by the postcondition of
 * the hostile and fault suites: the kernel log gained no Oops/BUG/WARNING/
 * refcount/list-corruption/lockdep/hung-task report, and a freshly enabled
 * controller serves a verified write and read.
 */
#ifndef TCASE_H
#define TCASE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "libvnvme.h"

#define TC_MAX_SETS	16

struct tctx {
	const char *uuid;
	struct vnvme_open_opts open_opts;
	struct vnvme_dev *dev;
	struct vnvme_ctrl ctrl;
	bool ctrl_inited;
	uint32_t nsid;			/* --nsid (default 1) */
	struct vnvme_ns ns;
	struct vnvme_queue *q;		/* I/O queue 1 after tc_up */
	struct vnvme_dma_buf buf;	/* 2 MiB data buffer */
	struct vnvme_dma_buf buf2;	/* 2 MiB second data buffer */
	struct vnvme_dma_buf list;	/* 64 KiB for PRP lists and SGL segments */
	char sysfs[256];		/* /sys/bus/mdev/devices/UUID */
	unsigned int case_timeout_s;

	/* --set key=value */
	const char *set_key[TC_MAX_SETS];
	const char *set_val[TC_MAX_SETS];
	unsigned int nr_sets;

	/* per case */
	bool failed;
	char skip[256];
	uint64_t faults;		/* faults injected by the case (reported) */
	uint64_t ops;			/* operations done by the case (reported) */
};

struct tcase {
	const char *name;
	void (*run)(struct tctx *c);
};

int tcase_main(int argc, char **argv, const char *prog, const char *usage_extra,
	       const struct tcase *cases, size_t nr_cases);

/* Reporting */
void tc_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool tc_check(struct tctx *c, bool ok, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void tc_skip(struct tctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define EXPECT(cond, fmt, ...) \
	tc_check(c, (cond), __LINE__, "%s: " fmt, #cond, ##__VA_ARGS__)
#define EXPECT_EQ(got, want) ({ \
	unsigned long long got_ = (unsigned long long)(got); \
	unsigned long long want_ = (unsigned long long)(want); \
	tc_check(c, got_ == want_, __LINE__, "%s = 0x%llx, expected %s = 0x%llx", \
		 #got, got_, #want, want_); \
})
#define EXPECT_OK(ret) ({ \
	int ret_ = (ret); \
	tc_check(c, ret_ == 0, __LINE__, "%s returned %d (%s) %s", #ret, ret_, \
		 ret_ < 0 ? strerror(-ret_) : vnvme_status_name(ret_), \
		 ret_ < 0 ? vnvme_last_error() : ""); \
})
/* An NVMe status (SCT << 8 | SC), ignoring DNR/More. */
#define EXPECT_STATUS(ret, code) ({ \
	int ret_ = (ret); \
	tc_check(c, ret_ > 0 && NVME_STATUS_CODE(ret_) == (code), __LINE__, \
		 "%s returned %d (0x%x %s), expected status 0x%x %s", #ret, ret_, \
		 ret_ > 0 ? ret_ : 0, ret_ > 0 ? vnvme_status_name(ret_) : \
		 ret_ < 0 ? strerror(-ret_) : "success", (code), vnvme_status_name(code)); \
})
/* The same status with Do Not Retry set. */
#define EXPECT_STATUS_DNR(ret, code) ({ \
	int ret2_ = (ret); \
	EXPECT_STATUS(ret2_, code) && \
	tc_check(c, ret2_ & NVME_STATUS_DNR, __LINE__, "%s: status 0x%x without DNR", \
		 #ret, ret2_); \
})
/* Any NVMe error status (> 0), not a timeout or system error. */
#define EXPECT_NVME_ERROR(ret) ({ \
	int ret_ = (ret); \
	tc_check(c, ret_ > 0, __LINE__, "%s returned %d (%s), expected an NVMe error status", \
		 #ret, ret_, ret_ < 0 ? strerror(-ret_) : "success"); \
})

/* A system call wrapper's -errno: any error, or this one. */
#define EXPECT_FAILS(ret) ({ \
	int ret_ = (ret); \
	tc_check(c, ret_ < 0, __LINE__, "%s returned %d, expected an error", #ret, ret_); \
})
#define EXPECT_ERRNO(ret, err) ({ \
	int ret_ = (ret); \
	tc_check(c, ret_ == -(err), __LINE__, "%s returned %d (%s), expected -%s", #ret, \
		 ret_, ret_ < 0 ? strerror(-ret_) : "no error", #err); \
})

/* --set key=value lookups */
const char *tc_get(struct tctx *c, const char *key);
long tc_get_long(struct tctx *c, const char *key, long fallback);

/*
 * Controller bring-up: MSI-X with nvec vectors (0: none), admin queue
 * (completions on vector 0 if nvec), polled I/O queue 1 of 64 entries and
 * namespace c->nsid.  Failures are recorded; returns success.
 */
bool tc_up(struct tctx *c, unsigned int nvec);
bool tc_enable(struct tctx *c, unsigned int nvec);	/* without queue 1 / namespace */
void tc_down(struct tctx *c);
/* Close the device for good (a case that removes the instance); later cases fail. */
void tc_close_device(struct tctx *c);

/* Commands */
int tc_admin(struct tctx *c, struct nvme_sqe *sqe, struct nvme_cqe *cqe);
int tc_admin_data(struct tctx *c, struct nvme_sqe *sqe, void *data, size_t len,
		  bool to_device, struct nvme_cqe *cqe);
/* Read or write nlb blocks of ns at slba through buf (contiguous PRPs). */
int tc_rw(struct tctx *c, struct vnvme_queue *q, uint8_t opcode, uint32_t nsid,
	  uint64_t slba, uint32_t nlb, const struct vnvme_dma_buf *buf);
/* Write a stamped pattern to [slba, slba + nlb) and read it back; 0 if intact. */
int tc_verified_io(struct tctx *c, struct vnvme_queue *q, uint64_t slba, uint32_t nlb,
		   uint64_t seed);
/* Fresh controller (reset), queue 1, verified write+read; 0 or -1 with words in why. */
int tc_health(struct tctx *c, char *why, size_t size);

/* sysfs under /sys/bus/mdev/devices/UUID */
int tc_sysfs_read(struct tctx *c, const char *rel, char *buf, size_t size);
int tc_sysfs_write(struct tctx *c, const char *rel, const char *value);
long tc_sysfs_long(struct tctx *c, const char *rel, long fallback);
/* One counter of vnvme/pin_cache (pages, hits, misses, evictions, bounce_fallbacks); -1 if absent. */
long tc_pin_cache(struct tctx *c, const char *key);

/* Subsystem-wide reads and writes (any path); reads drop trailing newlines and spaces. */
int tc_file_read(const char *path, char *buf, size_t size);
int tc_file_write(const char *path, const char *value);

/* Kernel log: reports since tc_kmsg_mark(); 0 when clean, else lines in out. */
void tc_kmsg_mark(void);
int tc_kmsg_check(char *out, size_t size);

/* A page-sized piece of a DMA buffer */
static inline uint64_t tc_page(const struct vnvme_dma_buf *b, unsigned int i)
{
	return b->iova + (uint64_t)i * NVME_PAGE_SIZE;
}

static inline void *tc_vpage(const struct vnvme_dma_buf *b, unsigned int i)
{
	return (uint8_t *)b->vaddr + (size_t)i * NVME_PAGE_SIZE;
}

/* Deterministic bytes for data checks */
void tc_fill(void *buf, size_t len, uint64_t seed);

uint64_t tc_rand(uint64_t *state);

#endif /* TCASE_H */
