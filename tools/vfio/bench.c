// SPDX-License-Identifier: GPL-2.0
/*
 * libvnvme workloads: one engine keeps qd I/Os in flight on each queue and
 * serves both the benchmark (IOPS, bandwidth, latency, CPU) and the data
 * verification (stamped pattern written, read back and checked).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------------------ */
/* Verify pattern                                                            */
/* ------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* Expected word i of block lba; words 0 and 1 are the LBA and the seed. */
static void pattern_block(uint64_t *words, uint32_t nwords, uint64_t lba, uint64_t seed)
{
	uint64_t state = splitmix64(lba ^ splitmix64(seed)) | 1;
	uint32_t i;

	words[0] = lba;
	words[1] = seed;
	for (i = 2; i < nwords; i++)
		words[i] = xorshift64(&state);
}

void vnvme_pattern_fill(void *buf, uint32_t lba_size, uint64_t slba,
			uint32_t nlb, uint64_t seed)
{
	uint32_t b;

	for (b = 0; b < nlb; b++)
		pattern_block((uint64_t *)((uint8_t *)buf + (size_t)b * lba_size),
			      lba_size / 8, slba + b, seed);
}

int vnvme_pattern_check(const void *buf, uint32_t lba_size, uint64_t slba,
			uint32_t nlb, uint64_t seed, uint64_t *bad_lba)
{
	uint64_t expected[65536 / 8];
	uint32_t b;

	if (lba_size > sizeof(expected))
		return -EINVAL;
	for (b = 0; b < nlb; b++) {
		pattern_block(expected, lba_size / 8, slba + b, seed);
		if (memcmp(expected, (const uint8_t *)buf + (size_t)b * lba_size, lba_size)) {
			if (bad_lba)
				*bad_lba = slba + b;
			return -EBADMSG;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Latency histogram: log-linear buckets, 1/16 relative precision           */
/* ------------------------------------------------------------------------ */

#define LAT_SUB_BITS	4
#define LAT_SUB_COUNT	(1u << LAT_SUB_BITS)
#define LAT_BUCKETS	((64 - LAT_SUB_BITS + 1) * LAT_SUB_COUNT)

struct latency_hist {
	uint64_t count[LAT_BUCKETS];
	uint64_t total;
	uint64_t sum_ns;
	uint64_t min_ns;
	uint64_t max_ns;
};

static unsigned int lat_bucket(uint64_t ns)
{
	unsigned int msb, shift;

	if (ns < LAT_SUB_COUNT)
		return (unsigned int)ns;
	msb = 63 - (unsigned int)__builtin_clzll(ns);
	shift = msb - LAT_SUB_BITS;
	return (shift + 1) * LAT_SUB_COUNT + (unsigned int)((ns >> shift) & (LAT_SUB_COUNT - 1));
}

/* Middle of the range of values that fall into bucket b. */
static double lat_bucket_mid(unsigned int b)
{
	unsigned int shift;
	uint64_t low;

	if (b < LAT_SUB_COUNT)
		return b;
	shift = b / LAT_SUB_COUNT - 1;
	low = ((uint64_t)LAT_SUB_COUNT + b % LAT_SUB_COUNT) << shift;
	return (double)low + (double)((1ull << shift) - 1) / 2.0;
}

static void lat_add(struct latency_hist *h, uint64_t ns)
{
	h->count[lat_bucket(ns)]++;
	h->total++;
	h->sum_ns += ns;
	if (!h->min_ns || ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

static double lat_percentile_ns(const struct latency_hist *h, double pct)
{
	uint64_t want = (uint64_t)(pct / 100.0 * (double)h->total + 0.5), seen = 0;
	unsigned int b;

	if (!h->total)
		return 0;
	if (!want)
		want = 1;
	for (b = 0; b < LAT_BUCKETS; b++) {
		seen += h->count[b];
		if (seen >= want)
			return lat_bucket_mid(b);
	}
	return (double)h->max_ns;
}

/* ------------------------------------------------------------------------ */
/* CPU accounting                                                            */
/* ------------------------------------------------------------------------ */

static double timeval_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Busy seconds of all CPUs from /proc/stat; 0 if it cannot be read. */
static double host_busy_seconds(void)
{
	unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &user, &nice, &sys, &idle, &iowait, &irq, &softirq, &steal);
	fclose(f);
	if (n != 8 || hz <= 0)
		return 0;
	return (double)(user + nice + sys + irq + softirq + steal) / (double)hz;
}

/* ------------------------------------------------------------------------ */
/* The engine                                                                */
/* ------------------------------------------------------------------------ */

int vnvme_rw_parse(const char *name, enum vnvme_rw *rw)
{
	static const enum vnvme_rw all[] = {
		VNVME_RW_READ, VNVME_RW_WRITE, VNVME_RW_RANDREAD, VNVME_RW_RANDWRITE,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(all); i++) {
		if (!strcmp(name, vnvme_rw_name(all[i]))) {
			*rw = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

const char *vnvme_rw_name(enum vnvme_rw rw)
{
	switch (rw) {
	case VNVME_RW_READ:
		return "read";
	case VNVME_RW_WRITE:
		return "write";
	case VNVME_RW_RANDREAD:
		return "randread";
	case VNVME_RW_RANDWRITE:
		return "randwrite";
	}
	return "?";
}

/* Polling without a completion for this long yields the CPU once per sweep. */
#define POLL_SPIN_NS	20000

struct io_slot {
	struct vnvme_dma_buf data;
	struct vnvme_dma_buf prp_list;
	uint64_t slba;
	uint32_t nlb;
	bool busy;
	uint64_t submit_ns;
};

struct queue_state {
	struct vnvme_queue *q;
	struct io_slot *slots;		/* qd of them; the CID is the slot index */
	unsigned int inflight;
};

struct workload {
	struct vnvme_ns *ns;
	const struct vnvme_bench_opts *opts;
	bool is_write;
	bool is_random;
	uint32_t blocks_per_io;
	uint64_t region_slba;
	uint64_t region_nlb;
	uint64_t seq_cursor;		/* offset of the next sequential I/O in the region */
	uint64_t rng;
	uint64_t issued;
	uint64_t issue_limit;		/* 0: none */
	uint64_t stop_ns;		/* 0: none */
	bool stop;
	int error;			/* first failure: NVMe status, -EBADMSG, -errno */
	uint64_t bad_lba;
	uint64_t bytes;
	struct latency_hist lat;
};

static bool may_issue(struct workload *w)
{
	if (w->stop)
		return false;
	if (w->issue_limit && w->issued >= w->issue_limit)
		return false;
	if (w->stop_ns && vnvme_now_ns() >= w->stop_ns) {
		w->stop = true;
		return false;
	}
	return true;
}

static void record_error(struct workload *w, int error, uint64_t bad_lba)
{
	if (!w->error) {
		w->error = error;
		w->bad_lba = bad_lba;
	}
	w->stop = true;
}

static void pick_blocks(struct workload *w, struct io_slot *slot)
{
	if (w->is_random) {
		uint64_t ios_in_region = w->region_nlb / w->blocks_per_io;

		slot->slba = w->region_slba + (xorshift64(&w->rng) % ios_in_region) * w->blocks_per_io;
		slot->nlb = w->blocks_per_io;
		return;
	}
	slot->slba = w->region_slba + w->seq_cursor;
	slot->nlb = (uint32_t)MIN((uint64_t)w->blocks_per_io, w->region_nlb - w->seq_cursor);
	w->seq_cursor += slot->nlb;
	if (w->seq_cursor == w->region_nlb)
		w->seq_cursor = 0;
}

static int issue(struct workload *w, struct queue_state *qs, uint16_t slot_index)
{
	struct io_slot *slot = &qs->slots[slot_index];
	uint32_t lba_size = w->ns->lba_size;
	struct nvme_sqe sqe;
	int ret;

	pick_blocks(w, slot);
	if (w->is_write && w->opts->verify)
		vnvme_pattern_fill(slot->data.vaddr, lba_size, slot->slba, slot->nlb,
				   w->opts->seed);
	vnvme_cmd_rw(&sqe, w->is_write ? NVME_IO_WRITE : NVME_IO_READ, w->ns->nsid,
		     slot->slba, slot->nlb);
	sqe.cid = slot_index;
	ret = vnvme_set_prps(&sqe, slot->data.iova, (size_t)slot->nlb * lba_size,
			     &slot->prp_list);
	if (!ret)
		ret = vnvme_sq_push(qs->q, &sqe);
	if (ret)
		return vnvme_fail(ret, "queue %u: cannot submit", qs->q->qid);
	slot->busy = true;
	slot->submit_ns = vnvme_now_ns();
	qs->inflight++;
	w->issued++;
	return 0;
}

static int complete(struct workload *w, struct queue_state *qs,
		    const struct nvme_cqe *cqe, uint64_t now)
{
	int status = NVME_CQE_STATUS_FIELD(cqe->status);
	struct io_slot *slot;
	uint64_t bad_lba;

	if (cqe->cid >= w->opts->qd || !qs->slots[cqe->cid].busy)
		return vnvme_fail(-EPROTO, "queue %u: completion for unknown CID %u",
				  qs->q->qid, cqe->cid);
	slot = &qs->slots[cqe->cid];
	slot->busy = false;
	qs->inflight--;
	lat_add(&w->lat, now - slot->submit_ns);
	if (status) {
		record_error(w, status, slot->slba);
		return 0;
	}
	w->bytes += (uint64_t)slot->nlb * w->ns->lba_size;
	if (!w->is_write && w->opts->verify &&
	    vnvme_pattern_check(slot->data.vaddr, w->ns->lba_size, slot->slba, slot->nlb,
				w->opts->seed, &bad_lba))
		record_error(w, -EBADMSG, bad_lba);
	return 0;
}

/* Block until one of the queues' interrupts fires (all queues have one). */
static int wait_for_interrupts(struct queue_state *qss, unsigned int nr, int timeout_ms)
{
	struct pollfd pfds[nr];
	unsigned int i;
	int n;

	for (i = 0; i < nr; i++) {
		pfds[i].fd = qss[i].q->irq_fd;
		pfds[i].events = POLLIN;
	}
	n = poll(pfds, nr, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < nr; i++)
		if (pfds[i].revents & POLLIN)
			vnvme_eventfd_consume(pfds[i].fd);
	return 0;
}

static int run(struct workload *w, struct queue_state *qss, unsigned int nr)
{
	unsigned int timeout_ms = w->ns->ctrl->cmd_timeout_ms;
	struct nvme_cqe cqes[256];
	bool all_irq = true;
	uint64_t last_progress;
	unsigned int i, inflight = 0;
	uint16_t s;
	int ret, n;

	for (i = 0; i < nr; i++)
		all_irq &= qss[i].q->irq_fd >= 0;
	for (i = 0; i < nr; i++) {
		for (s = 0; s < w->opts->qd && may_issue(w); s++) {
			ret = issue(w, &qss[i], s);
			if (ret)
				return ret;
		}
		ret = vnvme_sq_ring(qss[i].q);
		if (ret)
			return ret;
		inflight += qss[i].inflight;
	}

	last_progress = vnvme_now_ns();
	while (inflight) {
		bool progressed = false;
		uint64_t now;

		for (i = 0; i < nr; i++) {
			struct queue_state *qs = &qss[i];
			int k;

			n = vnvme_cq_poll(qs->q, cqes, MIN(w->opts->qd, ARRAY_SIZE(cqes)));
			if (n < 0)
				return n;
			if (!n)
				continue;
			progressed = true;
			now = vnvme_now_ns();
			for (k = 0; k < n; k++) {
				ret = complete(w, qs, &cqes[k], now);
				if (ret)
					return ret;
				if (may_issue(w)) {
					ret = issue(w, qs, cqes[k].cid);
					if (ret)
						return ret;
				}
			}
			ret = vnvme_sq_ring(qs->q);
			if (ret)
				return ret;
		}
		inflight = 0;
		for (i = 0; i < nr; i++)
			inflight += qss[i].inflight;

		now = vnvme_now_ns();
		if (progressed) {
			last_progress = now;
			continue;
		}
		if (now - last_progress > (uint64_t)timeout_ms * 1000000)
			return vnvme_fail(-ETIMEDOUT, "%u I/Os outstanding with no completion for %u ms",
					  inflight, timeout_ms);
		if (all_irq) {
			ret = wait_for_interrupts(qss, nr, 100);
			if (ret)
				return ret;
		} else if (now - last_progress > POLL_SPIN_NS) {
			/*
			 * The device's workers may need this CPU (a VM has few):
			 * after a short spin, let them run.
			 */
			sched_yield();
		}
	}
	return 0;
}

static void free_slots(struct vnvme_dev *dev, struct queue_state *qss, unsigned int nr,
		       unsigned int qd)
{
	unsigned int i, s;

	for (i = 0; i < nr; i++) {
		if (!qss[i].slots)
			continue;
		for (s = 0; s < qd; s++) {
			vnvme_dma_free(dev, &qss[i].slots[s].data);
			vnvme_dma_free(dev, &qss[i].slots[s].prp_list);
		}
		free(qss[i].slots);
	}
	free(qss);
}

static int alloc_slots(struct vnvme_dev *dev, struct vnvme_queue **queues,
		       unsigned int nr, unsigned int qd, uint32_t bs,
		       struct queue_state **qssp)
{
	size_t prp_bytes = vnvme_prp_list_size(0, bs);
	struct queue_state *qss = calloc(nr, sizeof(*qss));
	unsigned int i, s;
	int ret = 0;

	if (!qss)
		return -ENOMEM;
	for (i = 0; i < nr && !ret; i++) {
		qss[i].q = queues[i];
		qss[i].slots = calloc(qd, sizeof(*qss[i].slots));
		if (!qss[i].slots) {
			ret = -ENOMEM;
			break;
		}
		for (s = 0; s < qd && !ret; s++) {
			ret = vnvme_dma_alloc(dev, bs, &qss[i].slots[s].data);
			if (!ret && prp_bytes)
				ret = vnvme_dma_alloc(dev, prp_bytes, &qss[i].slots[s].prp_list);
		}
	}
	if (ret) {
		free_slots(dev, qss, nr, qd);
		return ret;
	}
	*qssp = qss;
	return 0;
}

static int check_opts(struct vnvme_ns *ns, struct vnvme_queue **queues,
		      unsigned int nr, const struct vnvme_bench_opts *opts,
		      uint64_t *region_nlb)
{
	unsigned int i;

	if (!nr)
		return vnvme_fail(-EINVAL, "no I/O queue given");
	if (!opts->bs || opts->bs % ns->lba_size || opts->bs / ns->lba_size > 0x10000)
		return vnvme_fail(-EINVAL, "block size %u is not 1..65536 blocks of %u bytes",
				  opts->bs, ns->lba_size);
	if (!opts->qd || opts->qd > 65536)
		return vnvme_fail(-EINVAL, "queue depth %u", opts->qd);
	for (i = 0; i < nr; i++)
		if (opts->qd > queues[i]->depth - 1u)
			return vnvme_fail(-EINVAL, "queue depth %u does not fit queue %u (%u entries)",
					  opts->qd, queues[i]->qid, queues[i]->depth);
	if (opts->slba >= ns->nsze)
		return vnvme_fail(-EINVAL, "start LBA %llu beyond the namespace (%llu blocks)",
				  (unsigned long long)opts->slba, (unsigned long long)ns->nsze);
	*region_nlb = opts->nlb ? opts->nlb : ns->nsze - opts->slba;
	if (*region_nlb > ns->nsze - opts->slba)
		return vnvme_fail(-EINVAL, "LBA range past the end of the namespace");
	if (*region_nlb < opts->bs / ns->lba_size)
		return vnvme_fail(-EINVAL, "LBA range smaller than one I/O");
	return 0;
}

int vnvme_bench(struct vnvme_ns *ns, struct vnvme_queue **queues,
		unsigned int nr_queues, const struct vnvme_bench_opts *opts,
		struct vnvme_bench_result *res)
{
	struct rusage ru_start, ru_end;
	struct queue_state *qss;
	double host_start, elapsed;
	uint64_t start_ns, end_ns;
	struct workload *w;
	int ret;

	memset(res, 0, sizeof(*res));
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ns = ns;
	w->opts = opts;
	w->is_write = opts->rw == VNVME_RW_WRITE || opts->rw == VNVME_RW_RANDWRITE;
	w->is_random = opts->rw == VNVME_RW_RANDREAD || opts->rw == VNVME_RW_RANDWRITE;
	ret = check_opts(ns, queues, nr_queues, opts, &w->region_nlb);
	if (ret)
		goto out;
	w->region_slba = opts->slba;
	w->blocks_per_io = opts->bs / ns->lba_size;
	w->rng = splitmix64(opts->seed) | 1;
	w->issue_limit = opts->ios;
	if (!opts->ios && !opts->seconds)	/* one pass over the region */
		w->issue_limit = DIV_ROUND_UP(w->region_nlb, w->blocks_per_io);

	ret = alloc_slots(ns->ctrl->dev, queues, nr_queues, opts->qd, opts->bs, &qss);
	if (ret)
		goto out;

	getrusage(RUSAGE_SELF, &ru_start);
	host_start = host_busy_seconds();
	start_ns = vnvme_now_ns();
	if (opts->seconds > 0)
		w->stop_ns = start_ns + (uint64_t)(opts->seconds * 1e9);
	ret = run(w, qss, nr_queues);
	end_ns = vnvme_now_ns();
	res->host_cpu_s = host_busy_seconds() - host_start;
	getrusage(RUSAGE_SELF, &ru_end);
	/* On a transport failure I/Os may still be in flight: keep their memory. */
	if (!ret)
		free_slots(ns->ctrl->dev, qss, nr_queues, opts->qd);

	elapsed = (double)(end_ns - start_ns) / 1e9;
	res->ios = w->lat.total;
	res->bytes = w->bytes;
	res->seconds = elapsed;
	res->iops = elapsed > 0 ? (double)res->ios / elapsed : 0;
	res->mbps = elapsed > 0 ? (double)res->bytes / elapsed / 1e6 : 0;
	res->lat_avg_us = res->ios ? (double)w->lat.sum_ns / (double)res->ios / 1e3 : 0;
	res->lat_min_us = (double)w->lat.min_ns / 1e3;
	res->lat_max_us = (double)w->lat.max_ns / 1e3;
	res->lat_p50_us = lat_percentile_ns(&w->lat, 50) / 1e3;
	res->lat_p99_us = lat_percentile_ns(&w->lat, 99) / 1e3;
	res->cpu_user_s = timeval_s(ru_end.ru_utime) - timeval_s(ru_start.ru_utime);
	res->cpu_sys_s = timeval_s(ru_end.ru_stime) - timeval_s(ru_start.ru_stime);
	if (res->ios) {
		res->cpu_us_per_io = (res->cpu_user_s + res->cpu_sys_s) * 1e6 / (double)res->ios;
		res->host_cpu_us_per_io = res->host_cpu_s * 1e6 / (double)res->ios;
	}
	if (!ret && w->error) {
		ret = w->error;
		if (ret > 0) {
			res->nvme_status = ret;
			vnvme_fail(-EIO, "I/O at LBA %llu failed: NVMe status 0x%x (%s)",
				   (unsigned long long)w->bad_lba, ret, vnvme_status_name(ret));
		} else {
			res->bad_lba = w->bad_lba;
			vnvme_fail(ret, "data at LBA %llu does not match what was written",
				   (unsigned long long)w->bad_lba);
		}
	}
out:
	free(w);
	return ret;
}

int vnvme_verify_range(struct vnvme_ns *ns, struct vnvme_queue **queues,
		       unsigned int nr_queues, uint64_t slba, uint64_t nlb,
		       uint32_t bs, unsigned int qd, uint64_t seed,
		       struct vnvme_bench_result *res)
{
	struct vnvme_bench_opts opts = {
		.rw = VNVME_RW_WRITE,
		.bs = bs,
		.qd = qd,
		.slba = slba,
		.nlb = nlb,
		.seed = seed,
		.verify = true,
	};
	int ret;

	if (!nlb)
		return vnvme_fail(-EINVAL, "empty LBA range");
	if (nlb * ns->lba_size < bs)
		opts.bs = (uint32_t)(nlb * ns->lba_size);
	/* Sequential passes end with a shorter I/O, so both cover the range exactly. */
	ret = vnvme_bench(ns, queues, nr_queues, &opts, res);
	if (ret)
		return ret;
	opts.rw = VNVME_RW_READ;
	return vnvme_bench(ns, queues, nr_queues, &opts, res);
}
