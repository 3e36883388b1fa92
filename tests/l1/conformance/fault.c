// SPDX-License-Identifier: GPL-2.0
/*
 * fault: the client side of the fault suite (tests/l1/suites/40-fault.sh),
 * which builds the faulty backing devices (device-mapper error, flakey,
 * delay and suspended tables, null_blk bad blocks and removal, loop detach)
 * and runs one case of this program per fresh instance.  KTAP output.
 *
 * usage: fault [tcase options] UUID         one tcase case (--case NAME)
 *        fault hold UUID [DM]               bring up, I/O held in a suspended dm device
 *                                           (namespace 2),
 *                                           ask for REQ; "ready", then on REQ "req";
 *                                           closes after a line on stdin
 *        fault busy UUID [DM]               bring up, I/O held in a suspended dm device,
 *                                           "ready", then wait to be killed
 * --set keys: bad_slba, bad_nlb (the failing LBA range), dm (device-mapper name),
 *   good_table, bad_table (files), remove_cmd, detach_cmd (shell commands),
 *   ns_slot (namespace slot for detach), rounds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tcase.h"

#define SC_WRITE_FAULT	NVME_SC_WRITE_FAULT
#define SC_READ_ERROR	NVME_SC_READ_ERROR

static int sh(struct tctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(struct tctx *c, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	st = system(cmd);
	if (st)
		tc_diag("'%s' exited with %d", cmd, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	(void)c;
	return st;
}

static int get_log(struct tctx *c, uint8_t lid, void *buf, size_t len)
{
	return vnvme_get_log_page(&c->ctrl, lid, 0xffffffff, buf, len);
}

static uint64_t smart_media_errors(struct tctx *c, uint64_t *err_entries)
{
	struct nvme_smart_log s;

	memset(&s, 0xff, sizeof(s));
	if (!EXPECT_OK(get_log(c, NVME_LOG_SMART, &s, sizeof(s))))
		return ~0ull;
	if (err_entries)
		*err_entries = s.num_err_log_entries[0];
	return s.media_errors[0];
}

struct expect_err {
	uint16_t cid;
	uint16_t sqid;
	uint16_t status;	/* status field (code, DNR...) */
	uint64_t slba;
};

/*
 * Every command into the failing range completes with the media status the
 * specification names (Unrecovered Read Error, Write Fault); each gets an
 * Error Information entry (status, LBA, NSID, queue, CID) and SMART counts
 * it as a media error; commands outside the range work.
 */
static void media_error_checks(struct tctx *c, bool reads_fail, bool writes_fail)
{
	uint64_t bad = (uint64_t)tc_get_long(c, "bad_slba", -1);
	uint64_t nbad = (uint64_t)tc_get_long(c, "bad_nlb", 0);
	struct expect_err errs[64];
	unsigned int nerr = 0, i;
	uint64_t media0, media1, entries0, entries1;
	struct nvme_error_log_entry *log = (void *)c->buf2.vaddr;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	int st;

	if (!tc_up(c, 0))
		return;
	if (!nbad) {
		tc_skip(c, "no --set bad_slba=S --set bad_nlb=N");
		return;
	}
	media0 = smart_media_errors(c, &entries0);
	/* Outside the range everything works. */
	if (bad >= 16)
		EXPECT_OK(tc_verified_io(c, c->q, 0, 16, 1));
	if (bad + nbad + 16 <= c->ns.nsze)
		EXPECT_OK(tc_verified_io(c, c->q, bad + nbad, 16, 2));
	if (bad >= 8)
		EXPECT_OK(tc_verified_io(c, c->q, bad - 8, 8, 3));

	for (i = 0; i < 6; i++) {
		static const uint8_t ops[] = { NVME_IO_READ, NVME_IO_WRITE, NVME_IO_COMPARE,
					       NVME_IO_VERIFY, NVME_IO_WRITE_ZEROES, NVME_IO_READ };
		uint8_t op = ops[i];
		bool is_write = op == NVME_IO_WRITE || op == NVME_IO_WRITE_ZEROES;
		bool fails = is_write ? writes_fail : reads_fail;
		uint64_t slba = bad + (i == 5 ? nbad - 1 : i * 3);
		uint32_t nlb = i == 5 ? 2 : 4;	/* the last one straddles the end of the range */

		if (i == 5 && bad + nbad + 1 > c->ns.nsze)
			slba = bad + nbad - 2;	/* no room to straddle: the last two */
		vnvme_cmd_rw(&sqe, op, c->nsid, slba, nlb);
		vnvme_set_prps(&sqe, c->buf.iova, (size_t)nlb * c->ns.lba_size, &c->list);
		st = vnvme_exec(c->q, &sqe, &cqe);
		c->faults++;
		if (!fails) {
			tc_check(c, st == 0 || (op == NVME_IO_COMPARE && NVME_STATUS_CODE(st) ==
						NVME_SC_COMPARE_FAILED), __LINE__,
				 "opcode 0x%02x into the range: 0x%x, expected success", op, st);
			continue;
		}
		tc_check(c, st > 0 && NVME_STATUS_CODE(st) == (is_write ? SC_WRITE_FAULT : SC_READ_ERROR),
			 __LINE__, "opcode 0x%02x at %llu: %d (0x%x %s), expected %s", op,
			 (unsigned long long)slba, st, st > 0 ? st : 0,
			 st > 0 ? vnvme_status_name(st) : "", is_write ? "Write Fault" : "Unrecovered Read Error");
		if (st > 0 && nerr < 64)
			errs[nerr++] = (struct expect_err){ cqe.cid, 1, (uint16_t)st, slba };
	}
	/* Flush through a device with an error target may fail: as a Write Fault then. */
	st = vnvme_io_flush(&c->ns, c->q);
	tc_check(c, st == 0 || (st > 0 && NVME_STATUS_CODE(st) == SC_WRITE_FAULT), __LINE__,
		 "flush: 0x%x", st);
	if (st > 0) {
		tc_diag("flush failed with Write Fault (the backing device fails flushes)");
		nerr += 0;
	}
	media1 = smart_media_errors(c, &entries1);
	tc_check(c, media1 - media0 == nerr + (st > 0), __LINE__,
		 "SMART media errors %llu -> %llu for %u media-error completions",
		 (unsigned long long)media0, (unsigned long long)media1, nerr + (st > 0));
	tc_check(c, entries1 - entries0 >= nerr, __LINE__,
		 "SMART error log entries %llu -> %llu for %u errors",
		 (unsigned long long)entries0, (unsigned long long)entries1, nerr);
	/* Error Information log: the newest entries are ours, newest first. */
	if (!EXPECT_OK(get_log(c, NVME_LOG_ERROR, log, 64 * sizeof(*log))))
		return;
	for (i = 0; i < nerr; i++) {
		const struct nvme_error_log_entry *e = &log[(st > 0 ? 1 : 0) + nerr - 1 - i];
		const struct expect_err *x = &errs[i];

		tc_check(c, e->cid == x->cid && e->sqid == x->sqid && (e->status >> 1) == x->status &&
			 e->lba == x->slba && e->nsid == c->nsid, __LINE__,
			 "error log entry %u: cid %u sqid %u status 0x%x lba %llu nsid %u; expected "
			 "cid %u sqid %u status 0x%x lba %llu nsid %u", i, e->cid, e->sqid,
			 e->status >> 1, (unsigned long long)e->lba, e->nsid, x->cid, x->sqid,
			 x->status, (unsigned long long)x->slba, c->nsid);
	}
	if (nerr >= 2)
		EXPECT(log[0].error_count > log[1].error_count, "error counts descend");
	/* The queue goes on. */
	if (bad >= 40)
		EXPECT_OK(tc_verified_io(c, c->q, 32, 8, 4));
}

static void t_media_errors(struct tctx *c)
{
	media_error_checks(c, true, true);
}

static void t_write_errors(struct tctx *c)
{
	media_error_checks(c, false, true);
}

/* A live table swap linear <-> error, rounds times: failures only while it is bad. */
static void t_table_swap(struct tctx *c)
{
	const char *dm = tc_get(c, "dm"), *good = tc_get(c, "good_table"), *bad = tc_get(c, "bad_table");
	long rounds = tc_get_long(c, "rounds", 10), r;
	uint64_t bad_slba = (uint64_t)tc_get_long(c, "bad_slba", 0);
	int st;

	if (!tc_up(c, 0))
		return;
	if (!dm || !good || !bad) {
		tc_skip(c, "no --set dm/good_table/bad_table");
		return;
	}
	for (r = 0; r < rounds; r++) {
		uint64_t slba = bad_slba + (uint64_t)r * 16;

		EXPECT_OK(tc_verified_io(c, c->q, slba, 8, (uint64_t)r));
		if (sh(c, "dmsetup load %s %s && dmsetup suspend --noudevsync %s && dmsetup resume --noudevsync %s", dm, bad,
		       dm, dm))
			return;
		c->faults++;
		st = tc_rw(c, c->q, NVME_IO_READ, c->nsid, slba, 8, &c->buf);
		tc_check(c, st > 0 && NVME_STATUS_CODE(st) == SC_READ_ERROR, __LINE__,
			 "round %ld: read from the error table: 0x%x", r, st);
		st = tc_rw(c, c->q, NVME_IO_WRITE, c->nsid, slba, 8, &c->buf);
		tc_check(c, st > 0 && NVME_STATUS_CODE(st) == SC_WRITE_FAULT, __LINE__,
			 "round %ld: write to the error table: 0x%x", r, st);
		if (sh(c, "dmsetup load %s %s && dmsetup suspend --noudevsync %s && dmsetup resume --noudevsync %s", dm, good,
		       dm, dm))
			return;
		/* What was written before the bad phase is intact. */
		{
			uint64_t badlba;

			EXPECT_OK(tc_rw(c, c->q, NVME_IO_READ, c->nsid, slba, 8, &c->buf));
			EXPECT_OK(vnvme_pattern_check(c->buf.vaddr, c->ns.lba_size, slba, 8,
						      (uint64_t)r, &badlba));
		}
	}
}

/* I/O runs on while sh(trigger) removes or detaches the backing device. */
static void io_around_trigger(struct tctx *c, const char *trigger, bool expect_errors)
{
	struct nvme_sqe sqe;
	unsigned int round, i, errors = 0, ok = 0, timeouts = 0;

	if (!tc_up(c, 0))
		return;
	if (!trigger) {
		tc_skip(c, "no trigger command");
		return;
	}
	c->ctrl.cmd_timeout_ms = 30000;
	for (round = 0; round < 40; round++) {
		/* a batch in flight, then the trigger in the middle of the run */
		for (i = 0; i < 16; i++) {
			vnvme_cmd_rw(&sqe, i % 2 ? NVME_IO_READ : NVME_IO_WRITE, c->nsid,
				     (round * 16 + i) * 8 % (c->ns.nsze - 8), 8);
			vnvme_set_prps(&sqe, c->buf.iova + i * 8192, 8 * c->ns.lba_size, NULL);
			sqe.cid = (uint16_t)(round * 16 + i);
			vnvme_sq_push(c->q, &sqe);
		}
		vnvme_sq_ring(c->q);
		if (round == 10) {
			if (sh(c, "%s", trigger))
				return;
			c->faults++;
		}
		for (i = 0; i < 16; i++) {
			struct nvme_cqe cqe;

			if (vnvme_cq_wait(c->q, &cqe, 30000)) {
				timeouts++;
				break;
			}
			if (NVME_CQE_STATUS_FIELD(cqe.status))
				errors++;
			else
				ok++;
			c->ops++;
		}
		if (timeouts)
			break;
	}
	EXPECT(timeouts == 0, "a command never completed");
	tc_diag("%u commands succeeded, %u failed", ok, errors);
	if (expect_errors)
		EXPECT(errors > 0, "no command failed after the backing device went away");
	else
		EXPECT(errors == 0, "%u commands failed", errors);
	c->ctrl.cmd_timeout_ms = 15000;
}

static void t_backing_removed(struct tctx *c)
{
	io_around_trigger(c, tc_get(c, "remove_cmd"), true);
}

static void t_loop_detach(struct tctx *c)
{
	io_around_trigger(c, tc_get(c, "detach_cmd"), false);
	if (!c->failed && !c->skip[0])
		EXPECT_OK(tc_verified_io(c, c->q, 0, 64, 5));
}

/* Submit n reads and writes on q without waiting (they sit in a suspended dm device). */
static void submit_held(struct tctx *c, struct vnvme_queue *q, unsigned int n)
{
	struct nvme_sqe sqe;
	unsigned int i;

	for (i = 0; i < n; i++) {
		vnvme_cmd_rw(&sqe, i % 2 ? NVME_IO_READ : NVME_IO_WRITE, c->nsid, 1000 + i * 8, 8);
		vnvme_set_prps(&sqe, c->buf.iova + (i % 64) * 8192, 8 * c->ns.lba_size, NULL);
		sqe.cid = (uint16_t)(0x100 + i);
		if (vnvme_sq_push(q, &sqe))
			break;
	}
	vnvme_sq_ring(q);
}

/*
 * A fresh controller with 32 commands held in the suspended dm device,
 * given time to reach it.  False (recorded) if that could not be set up.
 */
static bool hold_io(struct tctx *c, const char *dm)
{
	if (!tc_up(c, 0) || sh(c, "dmsetup suspend --noudevsync %s", dm))
		return false;
	submit_held(c, c->q, 32);
	usleep(200000);
	return true;
}

static unsigned int reap(struct tctx *c, struct vnvme_queue *q, unsigned int n, unsigned int ms,
			 unsigned int *errors)
{
	uint64_t deadline = vnvme_now_ns() + (uint64_t)ms * 1000000;
	unsigned int got = 0;
	struct nvme_cqe cqe;

	*errors = 0;
	while (got < n && vnvme_now_ns() < deadline) {
		int k = vnvme_cq_poll(q, &cqe, 1);

		if (k == 1) {
			got++;
			*errors += NVME_CQE_STATUS_FIELD(cqe.status) != 0;
		} else {
			usleep(500);
		}
	}
	(void)c;
	return got;
}

/* A command run by a thread after a delay (dmsetup resume of a held device). */
struct bg_resume {
	char cmd[256];
	unsigned int delay_ms;
};

static void *resume_later(void *arg)
{
	struct bg_resume *b = arg;
	int r;

	usleep(b->delay_ms * 1000);
	r = system(b->cmd);
	(void)r;
	return NULL;
}

/* Completions of the held commands whose status is neither success nor Data Transfer Error. */
static unsigned int reap_not_dte(struct tctx *c, struct vnvme_queue *q, unsigned int n,
				 unsigned int ms, unsigned int *got)
{
	uint64_t deadline = vnvme_now_ns() + (uint64_t)ms * 1000000;
	unsigned int other = 0;
	struct nvme_cqe cqe;

	*got = 0;
	while (*got < n && vnvme_now_ns() < deadline) {
		if (vnvme_cq_poll(q, &cqe, 1) == 1) {
			uint16_t st = NVME_CQE_STATUS_FIELD(cqe.status);

			(*got)++;
			if (st && NVME_STATUS_CODE(st) != NVME_SC_DATA_XFER_ERROR) {
				if (!other)
					tc_diag("CID 0x%x: status 0x%x %s", cqe.cid, st,
						vnvme_status_name(st));
				other++;
			}
		} else {
			usleep(500);
		}
	}
	(void)c;
	return other;
}

/*
 * dma_unmap of all guest memory with I/O in flight (held in a suspended dm
 * device).  Zero-copy commands hold pins on their data pages: the unmap
 * waits for them, so a thread resumes the device a second after the unmap
 * starts.  When the unmap returns nothing of this instance is pinned any
 * more (pinned_pages and the pin cache say 0); the commands complete with
 * success or Data Transfer Error (or the controller reports CFS: its CQ was
 * in the unmapped memory), with the memory mapped again before the I/O
 * completes or not.  A reset brings it back; never a hang.
 */
static void t_unmap_inflight(struct tctx *c)
{
	const char *dm = tc_get(c, "dm");
	struct bg_resume b = { .delay_ms = 1000 };
	unsigned int round, got, other;
	bool zero_copy = tc_sysfs_long(c, "vnvme/zero_copy", 0) == 1;
	uint32_t csts;
	pthread_t t;

	if (!dm) {
		tc_skip(c, "no --set dm=NAME");
		return;
	}
	snprintf(b.cmd, sizeof(b.cmd), "dmsetup resume --noudevsync %s", dm);
	for (round = 0; round < 4; round++) {
		long data_pages;

		if (!hold_io(c, dm))
			return;
		data_pages = tc_pin_cache(c, "pages");
		/* The held commands hold their data pages (until the first unmap revokes them). */
		if (round == 0 && zero_copy)
			EXPECT(data_pages > 0, "held zero-copy I/O holds %ld data pages", data_pages);
		if (pthread_create(&t, NULL, resume_later, &b))
			return;
		EXPECT(vnvme_arena_unmap(c->dev, 0, c->dev->arena.size) > 0, "unmap everything");
		c->faults++;
		/* All guest memory is the arena: no pin may be left anywhere. */
		EXPECT_EQ(tc_sysfs_long(c, "vnvme/pinned_pages", -1), 0);
		if (zero_copy)
			EXPECT_EQ(tc_pin_cache(c, "pages"), 0);
		if (round % 2 == 0)
			EXPECT(vnvme_arena_remap_all(c->dev) >= 0, "map again");
		pthread_join(t, NULL);
		other = reap_not_dte(c, c->q, 32, 5000, &got);
		vnvme_arena_remap_all(c->dev);
		vnvme_reg_read32(&c->ctrl, NVME_REG_CSTS, &csts);
		tc_diag("round %u (%s after the unmap): %u of 32 completed, %u with another error than Data Transfer Error, %ld data pages pinned before, CSTS 0x%x",
			round, round % 2 ? "still unmapped" : "mapped again", got, other,
			data_pages, csts);
		EXPECT(got == 32 || (csts & NVME_CSTS_CFS), "commands neither completed nor CFS");
		EXPECT(other == 0, "%u completions with another error than Data Transfer Error", other);
		/* A reset brings it back in any case. */
		if (tc_up(c, 0))
			EXPECT_OK(tc_verified_io(c, c->q, 0, 8, round));
	}
}

/* Controller reset, CC.EN = 0 and shutdown with I/O held in the backing device. */
static void t_reset_inflight(struct tctx *c)
{
	const char *dm = tc_get(c, "dm");
	struct bg_resume b = { .delay_ms = 1500 };
	unsigned int round;
	pthread_t t;

	if (!dm) {
		tc_skip(c, "no --set dm=NAME");
		return;
	}
	snprintf(b.cmd, sizeof(b.cmd), "dmsetup resume --noudevsync %s", dm);
	for (round = 0; round < 3; round++) {
		if (!hold_io(c, dm))
			return;
		/* The reset waits for the held I/O, which a thread lets go after a while. */
		if (pthread_create(&t, NULL, resume_later, &b))
			return;
		if (round == 0)
			EXPECT_OK(vnvme_device_reset(c->dev));
		else if (round == 1)
			EXPECT_OK(vnvme_ctrl_disable(&c->ctrl));
		else {
			uint32_t cc = 0;

			vnvme_reg_read32(&c->ctrl, NVME_REG_CC, &cc);
			vnvme_reg_write32(&c->ctrl, NVME_REG_CC, cc | NVME_CC_SHN_NORMAL);
			EXPECT_OK(vnvme_ctrl_wait_csts(&c->ctrl, NVME_CSTS_SHST_MASK,
						       NVME_CSTS_SHST_CMPLT, 30000));
		}
		c->faults++;
		pthread_join(t, NULL);
		if (tc_up(c, 0))
			EXPECT_OK(tc_verified_io(c, c->q, 0, 8, round));
	}
}

/* Namespace detach (sysfs) and Delete SQ with I/O held in the backing device. */
static void t_detach_and_delete_inflight(struct tctx *c)
{
	const char *dm = tc_get(c, "dm");
	struct bg_resume b = { .delay_ms = 1500 };
	struct vnvme_queue *q;
	unsigned int got, errors;
	struct nvme_sqe sqe;
	char rel[32];
	pthread_t t;

	if (!dm) {
		tc_skip(c, "no --set dm=NAME");
		return;
	}
	snprintf(b.cmd, sizeof(b.cmd), "dmsetup resume --noudevsync %s", dm);
	snprintf(rel, sizeof(rel), "ns%u/enable", c->nsid);
	/* Detach: waits for the commands, later ones see Invalid Namespace. */
	if (!tc_up(c, 0) || sh(c, "dmsetup suspend --noudevsync %s", dm))
		return;
	submit_held(c, c->q, 16);
	usleep(200000);
	if (pthread_create(&t, NULL, resume_later, &b))
		return;
	EXPECT_OK(tc_sysfs_write(c, rel, "0"));
	c->faults++;
	pthread_join(t, NULL);
	got = reap(c, c->q, 16, 10000, &errors);
	EXPECT_EQ(got, 16);
	EXPECT_STATUS_DNR(tc_rw(c, c->q, NVME_IO_READ, c->nsid, 0, 1, &c->buf), NVME_SC_INVALID_NS);
	EXPECT_OK(tc_sysfs_write(c, rel, "1"));
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 6));
	/* Delete SQ: waits for the commands too. */
	if (!EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 2, 64, -1, &q)) ||
	    sh(c, "dmsetup suspend --noudevsync %s", dm))
		return;
	submit_held(c, q, 32);
	usleep(200000);
	if (pthread_create(&t, NULL, resume_later, &b))
		return;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_ADMIN_DELETE_SQ;
	sqe.cdw10 = 2;
	c->ctrl.cmd_timeout_ms = 30000;
	EXPECT_OK(vnvme_exec(&c->ctrl.admin, &sqe, NULL));
	c->faults++;
	pthread_join(t, NULL);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_ADMIN_DELETE_CQ;
	sqe.cdw10 = 2;
	EXPECT_OK(vnvme_exec(&c->ctrl.admin, &sqe, NULL));
	vnvme_queue_release(&c->ctrl, 2);
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 7));
}

/* Reads the dm device completed (first field of /sys/block/dm-N/stat), -1 if unknown. */
static long dm_reads_completed(const char *dm)
{
	char cmd[256], path[128], name[64] = "";
	long reads = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "dmsetup info -c --noheadings -o blkdevname %s", dm);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (!fgets(name, sizeof(name), f))
		name[0] = '\0';
	pclose(f);
	name[strcspn(name, " \n")] = '\0';
	if (!name[0])
		return -1;
	snprintf(path, sizeof(path), "/sys/block/%s/stat", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &reads) != 1)
		reads = -1;
	fclose(f);
	return reads;
}

/* Pushes n one-block Verify commands on q, all at different LBAs, and rings once. */
static void push_verify(struct tctx *c, struct vnvme_queue *q, unsigned int n)
{
	struct nvme_sqe sqe;
	unsigned int i;

	for (i = 0; i < n; i++) {
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = NVME_IO_VERIFY;
		sqe.nsid = c->nsid;
		sqe.cdw10 = i * 8;
		sqe.cid = (uint16_t)(0x200 + i);
		if (vnvme_sq_push(q, &sqe))
			break;
	}
	vnvme_sq_ring(q);
	c->ops += n;
}

/* Delete SQ qid (the admin command, waiting up to 30 s), or the CQ. */
static void delete_queue(struct tctx *c, uint8_t opcode, uint16_t qid)
{
	struct nvme_sqe sqe = { .opcode = opcode, .cdw10 = qid };

	c->ctrl.cmd_timeout_ms = 30000;
	EXPECT_OK(vnvme_exec(&c->ctrl.admin, &sqe, NULL));
}

/*
 * Delete SQ with 512 Verify commands fetched and held: the backing device is
 * suspended, so those that started wait in it and the rest wait for a
 * worker.  The ones that have not started when the SQ stops must be dropped,
 * not run: the device's read count says how many ran (issue 10 item 2).
 */
static void t_delete_sq_drops_unstarted(struct tctx *c)
{
	const char *dm = tc_get(c, "dm");
	struct bg_resume b = { .delay_ms = 2000 };
	const unsigned int n = 512;
	struct vnvme_queue *q;
	long before, ran;
	pthread_t t;

	if (!dm) {
		tc_skip(c, "no --set dm=NAME");
		return;
	}
	snprintf(b.cmd, sizeof(b.cmd), "dmsetup resume --noudevsync %s", dm);
	if (!tc_up(c, 0) || !EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 2, 1024, -1, &q)))
		return;
	before = dm_reads_completed(dm);
	if (!EXPECT(before >= 0, "no read count for dm device %s", dm) ||
	    sh(c, "dmsetup suspend --noudevsync %s", dm))
		return;
	push_verify(c, q, n);
	/* Time for the SQ worker to fetch them all. */
	usleep(500000);
	if (pthread_create(&t, NULL, resume_later, &b))
		return;
	delete_queue(c, NVME_ADMIN_DELETE_SQ, 2);
	c->faults++;
	pthread_join(t, NULL);
	delete_queue(c, NVME_ADMIN_DELETE_CQ, 2);
	vnvme_queue_release(&c->ctrl, 2);
	ran = dm_reads_completed(dm) - before;
	EXPECT(ran >= 0 && ran <= n / 8,
	       "%ld of %u Verify commands ran after their SQ was deleted", ran, n);
	tc_diag("%ld of %u Verify commands held at Delete SQ ran; the rest were dropped", ran, n);
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 8));
}

/*
 * One instance's synchronous commands held in its backing device hold up no
 * other instance: with 1000 Verify commands waiting on the suspended dm
 * device here, a second instance (--set other=UUID, driven by the vnvme-vfio
 * CLI at --set cli=PATH) must serve verified I/O before the device is
 * resumed (issue 10 item 2).  Until then every instance shared one
 * workqueue, whose max_active the held commands used up.
 */
static void t_instances_isolated(struct tctx *c)
{
	const char *dm = tc_get(c, "dm"), *other = tc_get(c, "other"), *cli = tc_get(c, "cli");
	struct vnvme_queue *q;
	int ret;

	if (!dm || !other || !cli) {
		tc_skip(c, "needs --set dm=NAME --set other=UUID --set cli=PATH");
		return;
	}
	if (!tc_up(c, 0) || !EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 2, 1024, -1, &q)) ||
	    sh(c, "dmsetup suspend --noudevsync %s", dm))
		return;
	push_verify(c, q, 1000);
	usleep(500000);
	/* Its commands time out after 60 s: a stalled instance fails, a slow one does not. */
	ret = sh(c, "timeout 300 %s --timeout 60000 %s verify-io 1 --lba-count 64 --qd 4 >/dev/null",
		 cli, other);
	EXPECT(ret == 0, "the second instance served no verified I/O while this one's commands were held");
	c->faults++;
	sh(c, "dmsetup resume --noudevsync %s", dm);
	delete_queue(c, NVME_ADMIN_DELETE_SQ, 2);
	delete_queue(c, NVME_ADMIN_DELETE_CQ, 2);
	vnvme_queue_release(&c->ctrl, 2);
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 9));
}

/* Flush of every namespace (NSID FFFFFFFFh) on q; the NVMe status or -errno. */
static int flush_all(struct vnvme_queue *q)
{
	struct nvme_sqe sqe = { .opcode = NVME_IO_FLUSH, .nsid = 0xffffffffu };

	return vnvme_exec(q, &sqe, NULL);
}

/* CC.SHN = normal; CSTS once the shutdown completed or failed (30 s at most). */
static uint32_t shutdown_csts(struct tctx *c)
{
	uint64_t deadline = vnvme_now_ns() + 30000000000ull;
	uint32_t cc = 0, csts = 0;

	vnvme_reg_read32(&c->ctrl, NVME_REG_CC, &cc);
	vnvme_reg_write32(&c->ctrl, NVME_REG_CC, (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL);
	do {
		if (vnvme_reg_read32(&c->ctrl, NVME_REG_CSTS, &csts))
			break;
		if ((csts & NVME_CSTS_SHST_MASK) == NVME_CSTS_SHST_CMPLT || (csts & NVME_CSTS_CFS))
			break;
		usleep(10000);
	} while (vnvme_now_ns() < deadline);
	return csts;
}

/*
 * A shutdown that cannot promise durability (WHY) must not report SHST complete and
 * must report Controller Fatal Status.
 */
static void expect_shutdown_failed(struct tctx *c, uint32_t csts, const char *why)
{
	tc_diag("CSTS after a shutdown where %s: 0x%x", why, csts);
	EXPECT((csts & NVME_CSTS_SHST_MASK) != NVME_CSTS_SHST_CMPLT,
	       "CSTS 0x%x: shutdown reported complete although %s", csts, why);
	EXPECT(csts & NVME_CSTS_CFS, "CSTS 0x%x: no Controller Fatal Status", csts);
}

/*
 * A backing device whose reads and writes work and whose flushes fail:
 * Flush of the namespace and Flush of every namespace are Write Faults (a
 * failed flush is never reported as durable), and a shutdown that could not
 * flush does not report SHST complete but Controller Fatal Status.
 */
static void t_flush_errors(struct tctx *c)
{
	uint32_t csts;

	if (!tc_up(c, 0))
		return;
	EXPECT_OK(tc_verified_io(c, c->q, 0, 16, 1));
	EXPECT_STATUS(vnvme_io_flush(&c->ns, c->q), SC_WRITE_FAULT);
	EXPECT_STATUS(flush_all(c->q), SC_WRITE_FAULT);
	c->faults += 2;
	/* Namespace 1 flushes fine: its own Flush still succeeds. */
	if (c->ns.nsid != 1) {
		struct nvme_sqe sqe = { .opcode = NVME_IO_FLUSH, .nsid = 1 };

		EXPECT_OK(vnvme_exec(c->q, &sqe, NULL));
	}
	csts = shutdown_csts(c);
	c->faults++;
	expect_shutdown_failed(c, csts, "its flush failed");
	/* A reset brings the controller back. */
	if (tc_up(c, 0))
		EXPECT_OK(tc_verified_io(c, c->q, 0, 16, 2));
}

/*
 * Write Zeroes is as durable as Write: with FUA, or with the volatile write
 * cache disabled, it is on stable media when it completes.  On a device
 * whose flushes fail that shows as Write Fault; with the cache enabled and
 * no FUA nothing is flushed and it succeeds.
 */
static void t_write_zeroes_durable(struct tctx *c)
{
	if (!tc_up(c, 0))
		return;
	EXPECT_OK(vnvme_io_write_zeroes(&c->ns, c->q, 0, 8, 0));
	EXPECT_STATUS(vnvme_io_write_zeroes(&c->ns, c->q, 8, 8, NVME_RW_FUA), SC_WRITE_FAULT);
	c->faults++;
	if (!EXPECT_OK(vnvme_set_features(&c->ctrl, NVME_FEAT_VOLATILE_WC, 0, 0, NULL)))
		return;
	/* Writes are FUA now; the device does those without a flush of its own. */
	EXPECT_OK(tc_verified_io(c, c->q, 16, 8, 3));
	EXPECT_STATUS(vnvme_io_write_zeroes(&c->ns, c->q, 24, 8, 0), SC_WRITE_FAULT);
	c->faults++;
	EXPECT_OK(vnvme_set_features(&c->ctrl, NVME_FEAT_VOLATILE_WC, 0, 1, NULL));
	EXPECT_OK(vnvme_io_write_zeroes(&c->ns, c->q, 32, 8, 0));
}

/*
 * Shutdown while writes are held in the backing device longer than the
 * controller waits for them: it must not report SHST complete (the writes
 * were not flushed), but Controller Fatal Status.  Writes that are done and
 * only wait for room in a full CQ are flushed: that shutdown completes.
 */
static void t_shutdown_io_stuck(struct tctx *c)
{
	const char *dm = tc_get(c, "dm");
	struct bg_resume b = { .delay_ms = 9000 };
	struct vnvme_queue *q;
	struct nvme_sqe sqe;
	unsigned int i;
	uint32_t csts;
	pthread_t t;

	if (!dm) {
		tc_skip(c, "no --set dm=NAME");
		return;
	}
	/* 32 writes over a CQ of 4 entries that the host does not read. */
	if (!tc_up(c, 0) || !EXPECT_OK(vnvme_queue_alloc(&c->ctrl, 2, 64, 4, -1, &q)))
		return;
	vnvme_cmd_create_cq(&sqe, q);
	if (!EXPECT_OK(vnvme_exec(&c->ctrl.admin, &sqe, NULL)))
		return;
	vnvme_cmd_create_sq(&sqe, q, 2);
	if (!EXPECT_OK(vnvme_exec(&c->ctrl.admin, &sqe, NULL)))
		return;
	for (i = 0; i < 32; i++) {
		vnvme_cmd_rw(&sqe, NVME_IO_WRITE, c->nsid, 2000 + i * 8, 8);
		vnvme_set_prps(&sqe, c->buf.iova + (i % 64) * 8192, 8 * c->ns.lba_size, NULL);
		sqe.cid = (uint16_t)i;
		vnvme_sq_push(q, &sqe);
	}
	vnvme_sq_ring(q);
	usleep(500000);
	csts = shutdown_csts(c);
	tc_diag("CSTS after a shutdown with 29 completions held by a full CQ: 0x%x", csts);
	EXPECT_EQ(csts & (NVME_CSTS_SHST_MASK | NVME_CSTS_CFS), NVME_CSTS_SHST_CMPLT);
	/* Now writes that have not reached the device. */
	snprintf(b.cmd, sizeof(b.cmd), "dmsetup resume --noudevsync %s", dm);
	if (!hold_io(c, dm))
		return;
	if (pthread_create(&t, NULL, resume_later, &b))
		return;
	csts = shutdown_csts(c);
	c->faults++;
	pthread_join(t, NULL);
	expect_shutdown_failed(c, csts, "writes were still in flight");
	if (tc_up(c, 0))
		EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 4));
}

/* ------------------------------------------------------------------------ */
/* The mapped doorbell page's poller                                         */
/* ------------------------------------------------------------------------ */

struct poller_counters {
	long long parks, faults, late_writes;
};

/* vnvme/doorbell_poller: "STATE pid N parks N faults N late_writes N". */
static bool read_poller(struct tctx *c, struct poller_counters *pc)
{
	char buf[256], state[32];
	int pid;

	if (tc_sysfs_read(c, "vnvme/doorbell_poller", buf, sizeof(buf)))
		return false;
	return sscanf(buf, "%31s pid %d parks %lld faults %lld late_writes %lld", state, &pid,
		      &pc->parks, &pc->faults, &pc->late_writes) == 5;
}

static void spin_us(uint64_t us)
{
	uint64_t end = vnvme_now_ns() + us * 1000;

	while (vnvme_now_ns() < end)
		;
}

/*
 * A poller parked while the guest writes: with an idle interval of 20 us the
 * poller parks after nearly every doorbell, and the next doorbell, written
 * after a pause of 0-60 us, lands before the park, during it (between the
 * last scan and the zap, or between the zap and the scan after it) or after
 * it (a fault).  Every command must complete (a lost doorbell is a command
 * that never does: the wait times out), and the counters must show that
 * the poller did park and was woken by faults many times.
 */
static void t_poller_park_race(struct tctx *c)
{
	static const char param[] = "/sys/module/vnvme/parameters/doorbell_poll_idle_us";
	struct poller_counters before, after;
	char old[32];
	uint64_t s = 41;
	unsigned int i;

	if (!c->dev || !c->dev->doorbells) {
		tc_skip(c, "trapped doorbells: the case needs the doorbell page mapped (--doorbells mapped)");
		return;
	}
	if (!tc_check(c, tc_file_read(param, old, sizeof(old)) == 0, __LINE__,
		      "no module parameter doorbell_poll_idle_us"))
		return;
	if (!tc_up(c, 0))
		return;
	if (!tc_check(c, read_poller(c, &before), __LINE__, "vnvme/doorbell_poller unreadable") ||
	    !tc_check(c, tc_file_write(param, "20") == 0, __LINE__, "set doorbell_poll_idle_us"))
		return;
	for (i = 0; i < 400 && !c->failed; i++) {
		spin_us(tc_rand(&s) % 60);
		tc_check(c, tc_rw(c, c->q, NVME_IO_READ, c->nsid, (uint64_t)(i % 64) * 8, 8,
				  &c->buf) == 0, __LINE__, "read %u: %s", i, vnvme_last_error());
		if (i % 50 == 49)
			EXPECT_OK(tc_verified_io(c, c->q, 512 + i, 8, i));
		c->ops++;
	}
	tc_file_write(param, old);
	if (!tc_check(c, read_poller(c, &after), __LINE__, "vnvme/doorbell_poller unreadable"))
		return;
	tc_diag("poller: %lld parks, %lld faults, %lld writes found by the scan after a zap",
		after.parks - before.parks, after.faults - before.faults,
		after.late_writes - before.late_writes);
	tc_check(c, after.parks - before.parks >= 20 && after.faults - before.faults >= 20,
		 __LINE__, "the poller parked %lld and faulted %lld times: the race was not exercised",
		 after.parks - before.parks, after.faults - before.faults);
}

static const struct tcase cases[] = {
	{ "media_errors", t_media_errors },
	{ "write_errors", t_write_errors },
	{ "table_swap", t_table_swap },
	{ "backing_removed", t_backing_removed },
	{ "loop_detach", t_loop_detach },
	{ "unmap_inflight", t_unmap_inflight },
	{ "reset_inflight", t_reset_inflight },
	{ "detach_and_delete_inflight", t_detach_and_delete_inflight },
	{ "flush_errors", t_flush_errors },
	{ "delete_sq_drops_unstarted", t_delete_sq_drops_unstarted },
	{ "instances_isolated", t_instances_isolated },
	{ "write_zeroes_durable", t_write_zeroes_durable },
	{ "shutdown_io_stuck", t_shutdown_io_stuck },
	{ "poller_park_race", t_poller_park_race },
};

/* ------------------------------------------------------------------------ */
/* hold / busy: a client the suite removes the instance under, or kills     */
/* ------------------------------------------------------------------------ */

static int client_mode(const char *mode, const char *uuid, const char *dm)
{
	static struct tctx ctx;
	struct tctx *c = &ctx;
	char line[64];
	int ret;

	c->uuid = uuid;
	c->nsid = dm ? 2 : 1;	/* the dm device is namespace 2 */
	snprintf(c->sysfs, sizeof(c->sysfs), "/sys/bus/mdev/devices/%s", uuid);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The client follows the instance's doorbell mode. */
	c->open_opts.map_doorbells = !tc_sysfs_read(c, "vnvme/doorbell_mode", line, sizeof(line)) &&
				     !strcmp(line, "mapped");
	ret = vnvme_open(uuid, &c->open_opts, &c->dev);
	if (ret) {
		printf("error: open: %s\n", vnvme_last_error());
		return 1;
	}
	if (!tc_up(c, 0)) {
		printf("error: bring-up failed\n");
		return 1;
	}
	if (!strcmp(mode, "hold") && vnvme_req_irq_enable(c->dev)) {
		printf("error: REQ: %s\n", vnvme_last_error());
		return 1;
	}
	if (dm) {
		snprintf(line, sizeof(line), "dmsetup suspend --noudevsync %s", dm);
		if (system(line))
			printf("error: %s failed\n", line);
		submit_held(c, c->q, 32);
		usleep(200000);
	}
	printf("ready\n");
	if (!strcmp(mode, "busy")) {
		for (;;)
			pause();
	}
	/* hold: wait for the kernel to ask for the device back */
	if (vnvme_eventfd_wait(c->dev->req_fd, 120000) <= 0) {
		printf("error: no REQ interrupt within 120 s\n");
		return 1;
	}
	printf("req\n");
	if (!fgets(line, sizeof(line), stdin))
		line[0] = '\0';
	vnvme_close(c->dev);
	printf("closed\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && (!strcmp(argv[1], "hold") || !strcmp(argv[1], "busy")))
		return client_mode(argv[1], argv[2], argc > 3 ? argv[3] : NULL);
	return tcase_main(argc, argv, "fault",
			  "       fault hold|busy UUID [DM]   (see the source)\n"
			  "  --set bad_slba=S --set bad_nlb=N  the failing LBA range\n"
			  "  --set dm=NAME --set good_table=F --set bad_table=F --set rounds=N\n"
			  "  --set remove_cmd=CMD --set detach_cmd=CMD\n",
			  cases, sizeof(cases) / sizeof(cases[0]));
}
