// SPDX-License-Identifier: GPL-2.0
/*
 * migration: VFIO migration v2 of a vnvme controller from userspace, the way
 * QEMU drives it, between two instances on the same backing storage.
 *
 *   migration [tcase options] --set peer=UUID_B UUID_A
 *
 * The move case runs verified I/O on four queues (shadow doorbells on, AERs
 * held), quiesces the source with commands in flight and more queued behind
 * the pause, reads its state, checks type1's dirty bitmap against every page
 * the device wrote, loads the state into the destination, which takes over
 * the source's memory as a VMM's RAM would arrive, and finishes the I/O
 * there: every command completes exactly once with the right data.  The
 * source is then reset and closed; the peer becomes the next destination.
 *
 * The refuse_* cases feed the destination a damaged or mismatched stream and
 * expect one errno each, a destination left reset and usable, and the intact
 * stream accepted afterwards.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcase.h"

#define NR_QUEUES	4
#define QUEUE_DEPTH	64
#define BATCH		16	/* per queue: writes and reads before the pause */
#define LATE		16	/* per queue: writes queued behind the pause */
#define CMDS_PER_Q	(2 * BATCH + LATE)
#define W_SLBA		0	/* in-flight writes, 4 KiB each */
#define R_SLBA		8192	/* written first, read while in flight */
#define AER_CID		0xa000
#define NR_AER		2

static char peer[64];	/* the destination of the next move */

/* Stream v1 as Documentation/migration.md describes it (little-endian host). */
struct mig_hdr {
	char magic[8];
	uint16_t major, minor;
	uint32_t flags, header_size, payload_len, payload_crc, header_crc;
	uint16_t nr_io_queues, nr_vectors, max_ns, page_shift;
	uint32_t nr_sections, abi;
	uint8_t reserved[16];
};

struct mig_sec {
	uint16_t type, flags;
	uint32_t length;
};

#define SEC_CQ		0x0010
#define SEC_NAMESPACE	0x0030
#define SEC_DOORBELL_MODE 0x0040
#define SEC_END		0x7fff
#define SEC_OPTIONAL	1

struct stream {
	uint8_t *buf;
	size_t len;
};

static void reseal(struct stream *s)
{
	struct mig_hdr *h = (void *)s->buf;

	h->payload_crc = vnvme_crc32c(s->buf + sizeof(*h), s->len - sizeof(*h));
	h->header_crc = 0;
	h->header_crc = vnvme_crc32c(h, sizeof(*h));
}

static struct mig_sec *find_section(struct stream *s, uint16_t type)
{
	size_t pos = sizeof(struct mig_hdr);

	while (pos + sizeof(struct mig_sec) <= s->len) {
		struct mig_sec *sec = (void *)(s->buf + pos);

		if (sec->type == type)
			return sec;
		pos += sizeof(*sec) + ((sec->length + 7) & ~7u);
	}
	return NULL;
}

static uint64_t *ns_nr_lbas(struct mig_sec *sec)
{
	return (uint64_t *)((uint8_t *)(sec + 1) + 8);
}

static uint8_t *ns_lba_shift(struct mig_sec *sec)
{
	return (uint8_t *)(sec + 1) + 16;
}

/* The state of dev read through STOP_COPY, dev left in state after. */
static bool save_state(struct tctx *c, struct vnvme_dev *dev, struct stream *s, uint32_t after)
{
	int fd = -1;
	bool ok;

	ok = EXPECT_OK(vnvme_mig_set_state(dev, VFIO_DEVICE_STATE_STOP_COPY, &fd)) &&
	     EXPECT(fd >= 0, "STOP_COPY opened no data file") &&
	     EXPECT_OK(vnvme_mig_read_stream(fd, &s->buf, &s->len)) &&
	     EXPECT(s->len > sizeof(struct mig_hdr), "stream of %zu bytes", s->len);
	if (fd >= 0)
		close(fd);
	return ok && EXPECT_OK(vnvme_mig_set_state(dev, after, NULL));
}

/*
 * Writes s into dev (RUNNING -> RESUMING, the walk QEMU's load setup asks
 * for) and asks for STOP.  Returns 0, or the errno of the write or of STOP.
 */
static int load_state(struct tctx *c, struct vnvme_dev *dev, const struct stream *s,
		      int *write_ret)
{
	int fd = -1, ret;

	*write_ret = 0;
	if (!EXPECT_OK(vnvme_mig_set_state(dev, VFIO_DEVICE_STATE_RESUMING, &fd)) ||
	    !EXPECT(fd >= 0, "RESUMING opened no data file"))
		return -EIO;
	*write_ret = vnvme_mig_write_stream(fd, s->buf, s->len, 4096);
	close(fd);
	ret = vnvme_mig_set_state(dev, VFIO_DEVICE_STATE_STOP, NULL);
	if (*write_ret)
		return *write_ret;
	return ret;
}

static void case_capability(struct tctx *c)
{
	uint64_t flags = 0, size = 0;
	uint32_t state = 99;

	EXPECT_OK(vnvme_mig_flags(c->dev, &flags));
	EXPECT_EQ(flags, VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P);
	EXPECT_OK(vnvme_mig_get_state(c->dev, &state));
	EXPECT_EQ(state, VFIO_DEVICE_STATE_RUNNING);
	/* QEMU assumes 100 GiB without an answer (6.1 gets ours through .device_feature). */
	if (EXPECT_OK(vnvme_mig_data_size(c->dev, &size)))
		EXPECT(size > 64 && size <= (1u << 20), "data size %llu",
		       (unsigned long long)size);
	/* Every arc QEMU takes on a source that stays (stop, cont, a failed migration). */
	EXPECT_OK(vnvme_mig_set_state(c->dev, VFIO_DEVICE_STATE_RUNNING_P2P, NULL));
	EXPECT_OK(vnvme_mig_set_state(c->dev, VFIO_DEVICE_STATE_STOP, NULL));
	EXPECT_OK(vnvme_mig_set_state(c->dev, VFIO_DEVICE_STATE_RUNNING_P2P, NULL));
	EXPECT_OK(vnvme_mig_set_state(c->dev, VFIO_DEVICE_STATE_RUNNING, NULL));
	/* A state we do not offer. */
	EXPECT_ERRNO(vnvme_mig_set_state(c->dev, 6 /* PRE_COPY */, NULL), EINVAL);
	EXPECT_OK(vnvme_mig_get_state(c->dev, &state));
	EXPECT_EQ(state, VFIO_DEVICE_STATE_RUNNING);
}

struct move {
	struct vnvme_queue *q[NR_QUEUES];
	struct vnvme_dma_buf data[NR_QUEUES];	/* a page per command */
	struct vnvme_dma_buf shadow, eventidx, canary;
	uint8_t seen[NR_QUEUES][CMDS_PER_Q];
	unsigned int done;
	uint32_t nlb;
};

static bool push_cmd(struct tctx *c, struct move *m, unsigned int qi, unsigned int i)
{
	struct nvme_sqe sqe;
	bool is_read = i >= BATCH && i < 2 * BATCH;
	uint64_t page = (uint64_t)qi * CMDS_PER_Q + i;
	uint64_t slba = (is_read ? R_SLBA : W_SLBA) + page * m->nlb;
	void *va = tc_vpage(&m->data[qi], i);

	if (is_read)
		memset(va, 0x5a, NVME_PAGE_SIZE);
	else
		vnvme_pattern_fill(va, c->ns.lba_size, slba, m->nlb, 0x1234);
	vnvme_cmd_rw(&sqe, is_read ? NVME_IO_READ : NVME_IO_WRITE, c->ns.nsid, slba, m->nlb);
	sqe.cid = i;
	sqe.prp1 = tc_page(&m->data[qi], i);
	return EXPECT_OK(vnvme_sq_push(m->q[qi], &sqe));
}

/* Completions that arrived; each CID once, successful, reads intact. */
static void reap(struct tctx *c, struct move *m)
{
	struct nvme_cqe cqe[64];
	unsigned int qi;
	uint64_t bad;
	int n, k;

	for (qi = 0; qi < NR_QUEUES; qi++) {
		n = vnvme_cq_poll(m->q[qi], cqe, 64);
		if (!EXPECT(n >= 0, "queue %u: %d", qi + 1, n))
			continue;
		for (k = 0; k < n; k++) {
			uint16_t cid = cqe[k].cid;

			if (!EXPECT(cid < CMDS_PER_Q, "queue %u: CID %u", qi + 1, cid))
				continue;
			EXPECT(!m->seen[qi][cid], "queue %u: CID %u completed twice", qi + 1, cid);
			EXPECT_EQ(NVME_CQE_STATUS_FIELD(cqe[k].status), 0);
			m->seen[qi][cid]++;
			m->done++;
			if (cid >= BATCH && cid < 2 * BATCH) {
				uint64_t slba = R_SLBA + ((uint64_t)qi * CMDS_PER_Q + cid) * m->nlb;

				EXPECT(!vnvme_pattern_check(tc_vpage(&m->data[qi], cid),
							    c->ns.lba_size, slba, m->nlb, 0x1234,
							    &bad),
				       "queue %u: read CID %u bad at LBA %llu", qi + 1, cid,
				       (unsigned long long)bad);
			}
		}
	}
}

static bool page_dirty(const uint64_t *bitmap, const struct vnvme_dev *dev, uint64_t iova)
{
	uint64_t page = (iova - dev->arena.iova) / NVME_PAGE_SIZE;

	return bitmap[page / 64] & (1ull << (page % 64));
}

/*
 * Every page the device wrote since tracking started must be in the
 * bitmap: CQ rings and the EventIdx page (pinned), read data (vfio_dma_rw).
 * A page it never touched must not be, or the check proves nothing.
 */
static void check_dirty(struct tctx *c, struct move *m, struct vnvme_dev *a)
{
	uint64_t *bitmap = calloc((a->arena_pages + 63) / 64, 8);
	unsigned int qi, i, missed = 0;

	if (!EXPECT(bitmap != NULL, "bitmap") || !EXPECT_OK(vnvme_dirty_arena_bitmap(a, bitmap))) {
		free(bitmap);
		return;
	}
	for (qi = 0; qi < NR_QUEUES; qi++) {
		for (i = 0; i * NVME_PAGE_SIZE < m->q[qi]->cq_mem.size; i++)
			missed += !page_dirty(bitmap, a, m->q[qi]->cq_mem.iova + i * NVME_PAGE_SIZE);
		for (i = BATCH; i < 2 * BATCH; i++)
			if (m->seen[qi][i])
				missed += !page_dirty(bitmap, a, tc_page(&m->data[qi], i));
	}
	missed += !page_dirty(bitmap, a, c->ctrl.admin.cq_mem.iova);
	missed += !page_dirty(bitmap, a, m->eventidx.iova);
	EXPECT(missed == 0, "%u pages the device wrote are not reported dirty", missed);
	EXPECT(!page_dirty(bitmap, a, m->canary.iova),
	       "a page the device never touched is reported dirty");
	free(bitmap);
}

static bool move_setup(struct tctx *c, struct move *m)
{
	unsigned int qi;
	struct nvme_sqe sqe;

	if (!tc_enable(c, NR_QUEUES + 1))
		return false;
	for (qi = 0; qi < NR_QUEUES; qi++) {
		/* Queue 1 interrupts (its vector must move); the rest are polled. */
		if (!EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, qi + 1, QUEUE_DEPTH,
							  qi ? -1 : 1, &m->q[qi])) ||
		    !EXPECT_OK(vnvme_dma_alloc(c->dev, CMDS_PER_Q * NVME_PAGE_SIZE, &m->data[qi])))
			return false;
	}
	if (!EXPECT_OK(vnvme_ns_init(&c->ns, &c->ctrl, c->nsid)) ||
	    !EXPECT_OK(vnvme_dma_alloc(c->dev, NVME_PAGE_SIZE, &m->shadow)) ||
	    !EXPECT_OK(vnvme_dma_alloc(c->dev, NVME_PAGE_SIZE, &m->eventidx)) ||
	    !EXPECT_OK(vnvme_dma_alloc(c->dev, NVME_PAGE_SIZE, &m->canary)) ||
	    !EXPECT_OK(vnvme_shadow_doorbells_config(&c->ctrl, &m->shadow, &m->eventidx)))
		return false;
	m->nlb = NVME_PAGE_SIZE / c->ns.lba_size;
	/* The data the in-flight reads will find. */
	for (qi = 0; qi < NR_QUEUES; qi++) {
		unsigned int i;

		for (i = BATCH; i < 2 * BATCH; i++) {
			uint64_t slba = R_SLBA + ((uint64_t)qi * CMDS_PER_Q + i) * m->nlb;

			vnvme_pattern_fill(c->buf.vaddr, c->ns.lba_size, slba, m->nlb, 0x1234);
			if (!EXPECT_OK(tc_rw(c, m->q[0], NVME_IO_WRITE, c->ns.nsid, slba, m->nlb,
					     &c->buf)))
				return false;
		}
	}
	/* AERs a guest keeps outstanding: they must stay held across the move. */
	for (qi = 0; qi < NR_AER; qi++) {
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = NVME_ADMIN_ASYNC_EVENT;
		sqe.cid = AER_CID + qi;
		if (!EXPECT_OK(vnvme_sq_push(&c->ctrl.admin, &sqe)))
			return false;
	}
	return EXPECT_OK(vnvme_sq_ring(&c->ctrl.admin));
}

/* The client's own view moves too: registers and interrupts are B's now. */
static void switch_client(struct tctx *c, struct move *m, struct vnvme_dev *b)
{
	unsigned int qi;

	c->ctrl.dev = b;
	c->dev = b;
	c->ctrl.admin.irq_fd = vnvme_msix_fd(b, 0);
	for (qi = 0; qi < NR_QUEUES; qi++)
		m->q[qi]->irq_fd = m->q[qi]->irq_vector >= 0 ?
				   vnvme_msix_fd(b, m->q[qi]->irq_vector) : -1;
}

static void case_move(struct tctx *c)
{
	struct vnvme_dev *a = c->dev, *b = NULL;
	struct stream s = { 0 };
	struct nvme_id_ctrl id_a, id_b;
	struct nvme_cqe cqe;
	struct move m;
	unsigned int qi, i, before;
	uint32_t state, doorbell = 1;
	uint64_t start, bad;
	int fd = -1;
	char tmp[64];

	memset(&m, 0, sizeof(m));
	if (!peer[0]) {
		tc_skip(c, "no --set peer=UUID");
		return;
	}
	if (!move_setup(c, &m) ||
	    !EXPECT_OK(vnvme_identify(&c->ctrl, NVME_ID_CNS_CTRL, 0, &id_a)))
		return;
	if (!EXPECT_OK(vnvme_dirty_start(a)))
		return;

	/* In flight: writes and reads on every queue, then stop at once. */
	for (qi = 0; qi < NR_QUEUES; qi++) {
		for (i = 0; i < 2 * BATCH; i++)
			if (!push_cmd(c, &m, qi, i))
				return;
		EXPECT_OK(vnvme_sq_ring(m.q[qi]));
	}
	start = vnvme_now_ns();
	if (!EXPECT_OK(vnvme_mig_set_state(a, VFIO_DEVICE_STATE_RUNNING_P2P, NULL)))
		return;
	tc_diag("RUNNING -> RUNNING_P2P (quiesce) took %llu us",
		(unsigned long long)(vnvme_now_ns() - start) / 1000);
	reap(c, &m);
	before = m.done;
	/* Paused: nothing more completes, even for commands queued now. */
	for (qi = 0; qi < NR_QUEUES; qi++) {
		for (i = 2 * BATCH; i < CMDS_PER_Q; i++)
			if (!push_cmd(c, &m, qi, i))
				return;
		EXPECT_OK(vnvme_sq_ring(m.q[qi]));
	}
	usleep(200 * 1000);
	reap(c, &m);
	EXPECT(m.done == before, "%u completions while paused", m.done - before);
	tc_diag("%u of %u commands completed on the source", before, NR_QUEUES * CMDS_PER_Q);

	if (!EXPECT_OK(vnvme_mig_set_state(a, VFIO_DEVICE_STATE_STOP, NULL)) ||
	    !save_state(c, a, &s, VFIO_DEVICE_STATE_STOP))
		goto out;
	tc_diag("device state: %zu bytes", s.len);
	check_dirty(c, &m, a);
	EXPECT_OK(vnvme_dirty_stop(a));

	/* The destination: RAM arrives, then the device state, then it runs. */
	if (!EXPECT_OK(vnvme_open(peer, &c->open_opts, &b)) ||
	    !EXPECT_OK(vnvme_msix_enable(b, NR_QUEUES + 1)) ||
	    !EXPECT_OK(vnvme_arena_share(b, a)))
		goto out;
	start = vnvme_now_ns();
	if (!EXPECT_OK(vnvme_mig_set_state(b, VFIO_DEVICE_STATE_RESUMING, &fd)) ||
	    !EXPECT_OK(vnvme_mig_write_stream(fd, s.buf, s.len, 0)) ||
	    !EXPECT_OK(vnvme_mig_set_state(b, VFIO_DEVICE_STATE_STOP, NULL)) ||
	    !EXPECT_OK(vnvme_mig_set_state(b, VFIO_DEVICE_STATE_RUNNING_P2P, NULL)) ||
	    !EXPECT_OK(vnvme_mig_set_state(b, VFIO_DEVICE_STATE_RUNNING, NULL)))
		goto out;
	tc_diag("destination load and start took %llu us",
		(unsigned long long)(vnvme_now_ns() - start) / 1000);
	switch_client(c, &m, b);

	/* The source is done: it resets to RUNNING and closes. */
	EXPECT_OK(vnvme_device_reset(a));
	if (EXPECT_OK(vnvme_mig_get_state(a, &state)))
		EXPECT_EQ(state, VFIO_DEVICE_STATE_RUNNING);
	vnvme_close(a);
	a = NULL;
	b = NULL;
	/* The instances swap roles: the next move goes back. */
	snprintf(tmp, sizeof(tmp), "%s", peer);
	snprintf(peer, sizeof(peer), "%s", c->uuid);
	c->uuid = strdup(tmp);

	/* Every command completes on the destination, once. */
	start = vnvme_now_ns();
	while (m.done < NR_QUEUES * CMDS_PER_Q && vnvme_now_ns() - start < 30000000000ull) {
		reap(c, &m);
		usleep(1000);
	}
	EXPECT(m.done == NR_QUEUES * CMDS_PER_Q, "%u of %u commands completed", m.done,
	       NR_QUEUES * CMDS_PER_Q);
	/* What the in-flight writes wrote is there, through the destination's path. */
	for (qi = 0; qi < NR_QUEUES; qi++) {
		for (i = 0; i < CMDS_PER_Q; i++) {
			uint64_t slba = W_SLBA + ((uint64_t)qi * CMDS_PER_Q + i) * m.nlb;

			if (i >= BATCH && i < 2 * BATCH)
				continue;
			if (!EXPECT_OK(tc_rw(c, m.q[0], NVME_IO_READ, c->ns.nsid, slba, m.nlb,
					     &c->buf)))
				break;
			EXPECT(!vnvme_pattern_check(c->buf.vaddr, c->ns.lba_size, slba, m.nlb,
						    0x1234, &bad),
			       "write CID %u of queue %u: bad at LBA %llu", i, qi + 1,
			       (unsigned long long)bad);
		}
	}
	/* The guest still sees the controller it knew. */
	if (EXPECT_OK(vnvme_identify(&c->ctrl, NVME_ID_CNS_CTRL, 0, &id_b))) {
		EXPECT(!memcmp(id_a.sn, id_b.sn, sizeof(id_a.sn)), "serial changed");
		EXPECT_EQ(id_b.cntlid, id_a.cntlid);
	}
	/* A held AER completes here: a doorbell of a queue that does not exist. */
	EXPECT_OK(vnvme_bar_write(c->dev, NVME_REG_DOORBELLS + 8 * 30, &doorbell, 4));
	if (EXPECT_OK(vnvme_cq_wait(&c->ctrl.admin, &cqe, 10000)))
		EXPECT(cqe.cid >= AER_CID && cqe.cid < AER_CID + NR_AER,
		       "admin completion CID 0x%x is not a held AER", cqe.cid);
	EXPECT_OK(tc_verified_io(c, m.q[1], 100000, 64, 77));
	EXPECT_OK(tc_verified_io(c, m.q[0], 110000, 8, 78));
out:
	free(s.buf);
	if (fd >= 0)
		close(fd);
	if (b)
		vnvme_close(b);
}

/* ---- Refused streams ---------------------------------------------------- */

typedef bool (*mutate_fn)(struct tctx *c, struct stream *s);

/* The destination after a refusal: reset, usable, and it takes a good stream. */
static void check_destination(struct tctx *c, struct vnvme_dev *d, const struct stream *good)
{
	struct vnvme_ctrl ctrl;
	struct vnvme_queue *q;
	struct vnvme_dma_buf buf;
	struct vnvme_ns ns;
	uint32_t state = 0, csts = 1;
	int wret;

	if (EXPECT_OK(vnvme_mig_get_state(d, &state)))
		EXPECT_EQ(state, VFIO_DEVICE_STATE_RESUMING);
	if (EXPECT_OK(vnvme_bar_read(d, NVME_REG_CSTS, &csts, 4)))
		EXPECT_EQ(csts, 0);
	EXPECT_OK(vnvme_device_reset(d));
	if (EXPECT_OK(vnvme_mig_get_state(d, &state)))
		EXPECT_EQ(state, VFIO_DEVICE_STATE_RUNNING);
	memset(&ctrl, 0, sizeof(ctrl));
	if (EXPECT_OK(vnvme_ctrl_init(&ctrl, d))) {
		ctrl.cmd_timeout_ms = 15000;
		if (EXPECT_OK(vnvme_ctrl_enable(&ctrl, 0, -1)) &&
		    EXPECT_OK(vnvme_create_io_queue_pair(&ctrl, 1, 32, -1, &q)) &&
		    EXPECT_OK(vnvme_ns_init(&ns, &ctrl, c->nsid)) &&
		    EXPECT_OK(vnvme_dma_alloc(d, 64 * 1024, &buf))) {
			struct vnvme_queue *qs[1] = { q };
			struct vnvme_bench_result res;

			EXPECT_OK(vnvme_verify_range(&ns, qs, 1, 120000, 64, 4096, 4, 99, &res));
		}
		vnvme_ctrl_fini(&ctrl);
	}
	EXPECT_OK(vnvme_device_reset(d));
	EXPECT_OK(load_state(c, d, good, &wret));
	EXPECT_OK(vnvme_mig_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL));
}

static void refuse(struct tctx *c, mutate_fn mutate, int err, bool at_write)
{
	struct stream good = { 0 }, bad;
	struct vnvme_dev *d = NULL;
	int ret, wret;

	if (!peer[0]) {
		tc_skip(c, "no --set peer=UUID");
		return;
	}
	if (!tc_up(c, 2) || !EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 5)) ||
	    !EXPECT_OK(vnvme_mig_set_state(c->dev, VFIO_DEVICE_STATE_STOP, NULL)) ||
	    !save_state(c, c->dev, &good, VFIO_DEVICE_STATE_RUNNING))
		goto out;
	/* The source goes on. */
	EXPECT_OK(tc_verified_io(c, c->q, 16, 8, 6));
	bad.len = good.len + 64;
	bad.buf = calloc(1, bad.len);
	if (!EXPECT(bad.buf != NULL, "memory"))
		goto out;
	memcpy(bad.buf, good.buf, good.len);
	bad.len = good.len;
	if (!mutate(c, &bad))
		goto out;
	if (!EXPECT_OK(vnvme_open(peer, &c->open_opts, &d)))
		goto out;
	ret = load_state(c, d, &bad, &wret);
	if (at_write)
		EXPECT(wret == -err, "write returned %d (%s), expected -%d (%s)", wret,
		       strerror(-wret), err, strerror(err));
	else
		EXPECT(wret == 0, "write returned %d (%s)", wret, strerror(-wret));
	EXPECT(ret == -err, "load returned %d (%s), expected -%d (%s)", ret, strerror(-ret),
	       err, strerror(err));
	check_destination(c, d, &good);
out:
	if (d)
		vnvme_close(d);
	free(good.buf);
	free(bad.buf);
}

static bool mut_truncate(struct tctx *c, struct stream *s)
{
	(void)c;
	s->len -= 8;
	return true;
}

static bool mut_truncate_header(struct tctx *c, struct stream *s)
{
	(void)c;
	s->len = 40;
	return true;
}

static bool mut_trailing(struct tctx *c, struct stream *s)
{
	(void)c;
	s->len += 8;
	return true;
}

static bool mut_flip_payload(struct tctx *c, struct stream *s)
{
	(void)c;
	s->buf[sizeof(struct mig_hdr) + (s->len - sizeof(struct mig_hdr)) / 2] ^= 0x10;
	return true;
}

static bool mut_flip_header(struct tctx *c, struct stream *s)
{
	(void)c;
	s->buf[offsetof(struct mig_hdr, nr_sections)] ^= 1;
	return true;
}

static bool mut_newer(struct tctx *c, struct stream *s)
{
	(void)c;
	((struct mig_hdr *)s->buf)->major = 2;
	reseal(s);
	return true;
}

static bool mut_magic(struct tctx *c, struct stream *s)
{
	(void)c;
	s->buf[0] = 'X';
	return true;
}

static struct mig_sec *ns1(struct tctx *c, struct stream *s)
{
	struct mig_sec *sec = find_section(s, SEC_NAMESPACE);

	EXPECT(sec != NULL, "no namespace section in the stream");
	return sec;
}

static bool mut_ns_size(struct tctx *c, struct stream *s)
{
	struct mig_sec *sec = ns1(c, s);

	if (!sec)
		return false;
	*ns_nr_lbas(sec) += 8;
	reseal(s);
	return true;
}

static bool mut_ns_lba_format(struct tctx *c, struct stream *s)
{
	struct mig_sec *sec = ns1(c, s);
	uint8_t *shift;

	if (!sec)
		return false;
	/* The same bytes in blocks of another size. */
	shift = ns_lba_shift(sec);
	if (*shift == 9) {
		*shift = 12;
		*ns_nr_lbas(sec) >>= 3;
	} else {
		*shift = 9;
		*ns_nr_lbas(sec) <<= 3;
	}
	reseal(s);
	return true;
}

/* The namespace section turned into an optional one a v1 reader skips. */
static bool mut_ns_missing(struct tctx *c, struct stream *s)
{
	struct mig_sec *sec = ns1(c, s);

	if (!sec)
		return false;
	sec->type = SEC_DOORBELL_MODE;
	sec->flags = SEC_OPTIONAL;
	reseal(s);
	return true;
}

static bool mut_bad_queue(struct tctx *c, struct stream *s)
{
	struct mig_sec *sec = find_section(s, SEC_CQ);

	if (!EXPECT(sec != NULL, "no CQ section in the stream"))
		return false;
	((uint16_t *)(sec + 1))[1] = 1;	/* size */
	reseal(s);
	return true;
}

/* A section before END: 8 bytes of a doorbell-mode section. */
static bool add_section(struct stream *s, uint16_t flags)
{
	struct mig_hdr *h = (void *)s->buf;
	struct mig_sec *sec = (void *)(s->buf + s->len - sizeof(*sec));

	sec->type = SEC_DOORBELL_MODE;
	sec->flags = flags;
	sec->length = 8;
	memset(sec + 1, 0, 8);
	sec = (void *)(s->buf + s->len + 8);
	sec->type = SEC_END;
	sec->flags = 0;
	sec->length = 0;
	s->len += 16;
	h->payload_len += 16;
	h->nr_sections++;
	reseal(s);
	return true;
}

static bool mut_unknown_mandatory(struct tctx *c, struct stream *s)
{
	(void)c;
	return add_section(s, 0);
}

static bool mut_unknown_optional(struct tctx *c, struct stream *s)
{
	(void)c;
	return add_section(s, SEC_OPTIONAL);
}

static void case_refuse_truncated(struct tctx *c) { refuse(c, mut_truncate, ENODATA, false); }
static void case_refuse_truncated_header(struct tctx *c)
{
	refuse(c, mut_truncate_header, ENODATA, false);
}
static void case_refuse_trailing(struct tctx *c) { refuse(c, mut_trailing, EBADMSG, true); }
static void case_refuse_crc_payload(struct tctx *c) { refuse(c, mut_flip_payload, EBADMSG, true); }
static void case_refuse_crc_header(struct tctx *c) { refuse(c, mut_flip_header, EBADMSG, true); }
static void case_refuse_newer(struct tctx *c) { refuse(c, mut_newer, EPROTONOSUPPORT, true); }
static void case_refuse_magic(struct tctx *c) { refuse(c, mut_magic, EINVAL, true); }
static void case_refuse_ns_size(struct tctx *c) { refuse(c, mut_ns_size, EMEDIUMTYPE, true); }
static void case_refuse_ns_lba_format(struct tctx *c)
{
	refuse(c, mut_ns_lba_format, EMEDIUMTYPE, true);
}
static void case_refuse_ns_missing(struct tctx *c) { refuse(c, mut_ns_missing, ENXIO, true); }
static void case_refuse_bad_queue(struct tctx *c) { refuse(c, mut_bad_queue, EINVAL, true); }
static void case_refuse_unknown_section(struct tctx *c)
{
	refuse(c, mut_unknown_mandatory, EPROTONOSUPPORT, true);
}

/* An optional section this reader does not know is skipped: the load works. */
static void case_accept_optional_section(struct tctx *c)
{
	struct stream good = { 0 };
	struct vnvme_dev *d = NULL;
	uint8_t *bigger;
	int wret;

	if (!peer[0]) {
		tc_skip(c, "no --set peer=UUID");
		return;
	}
	if (!tc_up(c, 2) ||
	    !EXPECT_OK(vnvme_mig_set_state(c->dev, VFIO_DEVICE_STATE_STOP, NULL)) ||
	    !save_state(c, c->dev, &good, VFIO_DEVICE_STATE_RUNNING))
		goto out;
	bigger = realloc(good.buf, good.len + 16);
	if (!EXPECT(bigger != NULL, "memory"))
		goto out;
	good.buf = bigger;
	mut_unknown_optional(c, &good);
	if (EXPECT_OK(vnvme_open(peer, &c->open_opts, &d))) {
		EXPECT_OK(load_state(c, d, &good, &wret));
		EXPECT_OK(vnvme_mig_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL));
	}
out:
	if (d)
		vnvme_close(d);
	free(good.buf);
}

static const struct tcase cases[] = {
	{ "capability", case_capability },
	{ "move_io_in_flight", case_move },
	{ "refuse_truncated", case_refuse_truncated },
	{ "refuse_truncated_header", case_refuse_truncated_header },
	{ "refuse_trailing_bytes", case_refuse_trailing },
	{ "refuse_crc_payload", case_refuse_crc_payload },
	{ "refuse_crc_header", case_refuse_crc_header },
	{ "refuse_newer_version", case_refuse_newer },
	{ "refuse_bad_magic", case_refuse_magic },
	{ "refuse_ns_size", case_refuse_ns_size },
	{ "refuse_ns_lba_format", case_refuse_ns_lba_format },
	{ "refuse_ns_missing", case_refuse_ns_missing },
	{ "refuse_bad_queue", case_refuse_bad_queue },
	{ "refuse_unknown_section", case_refuse_unknown_section },
	{ "accept_optional_section", case_accept_optional_section },
	{ "move_back", case_move },
};

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--set") && !strncmp(argv[i + 1], "peer=", 5))
			snprintf(peer, sizeof(peer), "%s", argv[i + 1] + 5);
	return tcase_main(argc, argv, "migration", "--set peer=UUID (the destination instance)",
			  cases, sizeof(cases) / sizeof(cases[0]));
}
