// SPDX-License-Identifier: GPL-2.0
/*
 * io.c - the NVM command set on a backing block device.
 *
 * Read and Write become asynchronous bios on the guest's own pages
 * (zero-copy, pincache.c) or, where those cannot make a bio, on the
 * request's bounce buffer.
 * Flush, Write Zeroes, Dataset Management, Compare and Verify run
 * synchronously in a work item of their own so they never stall the SQ.
 * Those without a data transfer for MDTS to bound have limits of their own,
 * advertised in Identify CNS 06h: Verify and Write Zeroes at most MDTS,
 * Dataset Management ranges VNVME_DMRSL blocks each and VNVME_DMSL in all.
 * Verify reads into a buffer counted in the bounce budget like a transfer.
 * Block-layer errors become NVMe media or internal errors, are counted in
 * SMART and land in the Error Information log on completion.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/slab.h>
#include <linux/highmem.h>

#include "vnvme.h"

#define VNVME_NSID_ALL		0xffffffff
#define VNVME_RW_FUA		BIT(30)
#define VNVME_WZ_DEAC		BIT(25)
#define VNVME_DSM_AD		BIT(2)
#define VNVME_VERIFY_CHUNK	(256 * 1024)

#define DNR(sc)			((sc) | VNVME_SC_DNR)

struct vnvme_dsm_range {
	__le32	cattr;
	__le32	nlb;
	__le64	slba;
};

static u32 vnvme_io_cdw(const struct vnvme_req *req, unsigned int n)
{
	const __le32 *cdw = &req->cmd.cdw10;

	return le32_to_cpu(cdw[n - 10]);
}

static sector_t vnvme_lba_to_sector(const struct vnvme_backing *b, u64 lba)
{
	return lba << (b->lba_shift - SECTOR_SHIFT);
}

/* Checks that [slba, slba + nlb) lies inside the namespace, without overflow. */
static bool vnvme_lba_range_ok(const struct vnvme_backing *b, u64 slba, u64 nlb)
{
	return slba < b->nr_lbas && nlb <= b->nr_lbas - slba;
}

static u16 vnvme_blk_status(struct vnvme_req *req, blk_status_t sts)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	u16 status;

	switch (sts) {
	case BLK_STS_OK:
		return VNVME_SC_SUCCESS;
	case BLK_STS_NOSPC:
		return DNR(VNVME_SC_CAP_EXCEEDED);
	case BLK_STS_NOTSUPP:
		return DNR(VNVME_SC_INVALID_OPCODE);
	case BLK_STS_RESOURCE:
	case BLK_STS_AGAIN:
		return VNVME_SC_INTERNAL;
	default:
		break;
	}
	atomic64_inc(&ctrl->smart.media_errors);
	dev_err_ratelimited(vnvme_dev(ctrl), "nsid %u: backing device error %d on opcode %#x\n",
			    le32_to_cpu(req->cmd.nsid), blk_status_to_errno(sts),
			    req->cmd.opcode);
	status = (req->cmd.opcode == VNVME_IO_READ ||
		  req->cmd.opcode == VNVME_IO_COMPARE ||
		  req->cmd.opcode == VNVME_IO_VERIFY) ?
		 VNVME_SC_READ_ERROR : VNVME_SC_WRITE_FAULT;
	vnvme_notify(ctrl, VNVME_EVENT_IO_ERROR, le32_to_cpu(req->cmd.nsid),
		     status);
	return status;
}

static u16 vnvme_errno_status(struct vnvme_req *req, int err)
{
	return vnvme_blk_status(req, errno_to_blk_status(err));
}

/* Accounting and the namespace reference end with the command. */
static void vnvme_io_done(struct vnvme_req *req, u16 status)
{
	struct vnvme_smart *smart = &req->sq->ctrl->smart;

	req->status = status;
	if (!status) {
		if (req->cmd.opcode == VNVME_IO_READ) {
			atomic64_inc(&smart->read_cmds);
			atomic64_add(req->len, &smart->bytes_read);
		} else if (req->cmd.opcode == VNVME_IO_WRITE) {
			atomic64_inc(&smart->write_cmds);
			atomic64_add(req->len, &smart->bytes_written);
		}
	}
	atomic64_add(ktime_get_ns() - req->start_ns, &smart->busy_ns);
	if (req->backing) {
		vnvme_ns_put(req->backing);
		req->backing = NULL;
	}
	vnvme_req_complete(req);
}

static void vnvme_io_end_bio(struct bio *bio)
{
	struct vnvme_req *req = bio->bi_private;
	u16 status = vnvme_blk_status(req, bio->bi_status);

	bio_put(bio);
	vnvme_io_done(req, status);
}

static struct bio *vnvme_io_build_bio(struct vnvme_req *req,
				      struct block_device *bdev,
				      struct page **pages, u32 len,
				      blk_opf_t opf, sector_t sector)
{
	unsigned int nr = DIV_ROUND_UP(len, PAGE_SIZE), i;
	struct bio *bio;

	bio = bio_alloc(bdev, nr, opf, GFP_KERNEL);
	bio->bi_iter.bi_sector = sector;
	for (i = 0; i < nr; i++) {
		u32 n = min_t(u32, PAGE_SIZE, len - i * PAGE_SIZE);

		if (bio_add_page(bio, pages[i], n, 0) != n) {
			bio_put(bio);
			return NULL;
		}
	}
	return bio;
}

/* A bio on the guest's pages: each extent, piece by page-sized piece. */
static struct bio *vnvme_io_build_guest_bio(struct vnvme_req *req,
					    struct block_device *bdev,
					    blk_opf_t opf, sector_t sector)
{
	unsigned int s, i = 0;
	struct bio *bio;

	bio = bio_alloc(bdev, req->nr_pages, opf, GFP_KERNEL);
	bio->bi_iter.bi_sector = sector;
	for (s = 0; s < req->nr_segs; s++) {
		u64 addr = req->segs[s].addr;
		u32 left = req->segs[s].len;

		while (left) {
			u32 off = offset_in_page(addr);
			u32 n = min_t(u32, left, PAGE_SIZE - off);

			if (bio_add_page(bio, req->pages[i++], n, off) != n) {
				bio_put(bio);
				return NULL;
			}
			addr += n;
			left -= n;
		}
	}
	return bio;
}

/* Durable on completion: FUA, or no volatile write cache to hold it. */
static bool vnvme_io_durable(struct vnvme_req *req)
{
	return (vnvme_io_cdw(req, 12) & VNVME_RW_FUA) ||
	       !READ_ONCE(req->sq->ctrl->feat.vwc);
}

static u16 vnvme_io_rw(struct vnvme_req *req, u64 slba, u32 nlb)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	struct vnvme_backing *b = req->backing;
	bool is_write = req->cmd.opcode == VNVME_IO_WRITE;
	u64 len = (u64)nlb << b->lba_shift;
	blk_opf_t opf;
	struct bio *bio;
	u16 status;

	if (is_write && b->readonly)
		return DNR(VNVME_SC_NS_WRITE_PROTECTED);
	if (len > (PAGE_SIZE << ctrl->mdts))
		return DNR(VNVME_SC_INVALID_FIELD);
	status = vnvme_req_map_bio_data(req, len, !is_write, b->bdev.bdev);
	if (status)
		return status;
	if (is_write) {
		status = req->pins ? VNVME_SC_SUCCESS :
			 vnvme_req_copy_data(req, false);
		if (status)
			return status;
		opf = REQ_OP_WRITE;
		if (vnvme_io_durable(req))
			opf |= REQ_FUA;
	} else {
		opf = REQ_OP_READ;
	}

	if (req->pins)
		bio = vnvme_io_build_guest_bio(req, b->bdev.bdev, opf,
					       vnvme_lba_to_sector(b, slba));
	else
		bio = vnvme_io_build_bio(req, b->bdev.bdev, req->pages, len,
					 opf, vnvme_lba_to_sector(b, slba));
	if (!bio)
		return VNVME_SC_INTERNAL;
	bio->bi_private = req;
	bio->bi_end_io = vnvme_io_end_bio;
	submit_bio(bio);
	return VNVME_SC_SUCCESS;
}

/* Reads len bytes at sector into pages, waiting for the result. */
static int vnvme_io_read_sync(struct vnvme_req *req, struct page **pages,
			      u32 len, sector_t sector)
{
	struct bio *bio;
	int ret;

	bio = vnvme_io_build_bio(req, req->backing->bdev.bdev, pages, len,
				 REQ_OP_READ, sector);
	if (!bio)
		return -ENOMEM;
	ret = submit_bio_wait(bio);
	bio_put(bio);
	return ret;
}

static struct page **vnvme_alloc_pages(unsigned int nr)
{
	struct page **pages = kcalloc(nr, sizeof(*pages), GFP_KERNEL);
	unsigned int i;

	if (!pages)
		return NULL;
	for (i = 0; i < nr; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		if (!pages[i]) {
			while (i--)
				__free_page(pages[i]);
			kfree(pages);
			return NULL;
		}
	}
	return pages;
}

static void vnvme_free_pages(struct page **pages, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		__free_page(pages[i]);
	kfree(pages);
}

static bool vnvme_pages_equal(struct page **a, struct page **b, u32 len)
{
	unsigned int i;
	bool same = true;

	for (i = 0; same && i * PAGE_SIZE < len; i++) {
		void *pa = kmap_local_page(a[i]);
		void *pb = kmap_local_page(b[i]);

		same = !memcmp(pa, pb, min_t(u32, PAGE_SIZE, len - i * PAGE_SIZE));
		kunmap_local(pb);
		kunmap_local(pa);
	}
	return same;
}

static u16 vnvme_io_compare(struct vnvme_req *req, u64 slba, u32 nlb)
{
	struct vnvme_backing *b = req->backing;
	u64 len = (u64)nlb << b->lba_shift;
	unsigned int nr = DIV_ROUND_UP(len, PAGE_SIZE);
	struct page **media;
	u16 status;
	int ret;

	if (len > (PAGE_SIZE << req->sq->ctrl->mdts))
		return DNR(VNVME_SC_INVALID_FIELD);
	status = vnvme_req_map_data(req, len, false);
	if (!status)
		status = vnvme_req_copy_data(req, false);
	if (status)
		return status;
	media = vnvme_alloc_pages(nr);
	if (!media)
		return VNVME_SC_INTERNAL;
	ret = vnvme_io_read_sync(req, media, len, vnvme_lba_to_sector(b, slba));
	if (ret)
		status = vnvme_errno_status(req, ret);
	else if (!vnvme_pages_equal(req->pages, media, len))
		status = VNVME_SC_COMPARE_FAILED;
	vnvme_free_pages(media, nr);
	return status;
}

/*
 * Verify's read buffer, up to VNVME_VERIFY_CHUNK: the request's own pages,
 * allocated where the SQ is fetched and counted in the bounce budget as a
 * transfer's are (vnvme_req_free_data() gives them back).  Returns a status.
 */
static u16 vnvme_io_verify_buffer(struct vnvme_req *req, u32 nlb)
{
	u64 len = min_t(u64, (u64)nlb << req->backing->lba_shift,
			VNVME_VERIFY_CHUNK);
	unsigned int i;

	req->nr_pages = DIV_ROUND_UP(len, PAGE_SIZE);
	req->pages = kcalloc(req->nr_pages, sizeof(*req->pages), GFP_KERNEL);
	if (!req->pages) {
		req->nr_pages = 0;
		return VNVME_SC_INTERNAL;
	}
	atomic_add(req->nr_pages, &req->sq->ctrl->bounce_pages);
	for (i = 0; i < req->nr_pages; i++) {
		req->pages[i] = alloc_page(GFP_KERNEL);
		if (!req->pages[i])
			return VNVME_SC_INTERNAL;
	}
	return VNVME_SC_SUCCESS;
}

/* Verify: the range must read back without error; no data moves. */
static u16 vnvme_io_verify(struct vnvme_req *req, u64 slba, u32 nlb)
{
	struct vnvme_backing *b = req->backing;
	u64 left = (u64)nlb << b->lba_shift;
	u32 chunk = req->nr_pages << PAGE_SHIFT;
	sector_t sector = vnvme_lba_to_sector(b, slba);
	u16 status = VNVME_SC_SUCCESS;
	int ret;

	while (left && !status) {
		u32 n = min_t(u64, left, chunk);

		ret = vnvme_io_read_sync(req, req->pages, n, sector);
		if (ret)
			status = vnvme_errno_status(req, ret);
		sector += n >> SECTOR_SHIFT;
		left -= n;
	}
	/* Back to the budget now, not once the completion is posted. */
	vnvme_req_free_data(req);
	return status;
}

static u16 vnvme_io_write_zeroes(struct vnvme_req *req, u64 slba, u32 nlb)
{
	struct vnvme_backing *b = req->backing;
	bool deac = vnvme_io_cdw(req, 12) & VNVME_WZ_DEAC;
	int ret;

	if (b->readonly)
		return DNR(VNVME_SC_NS_WRITE_PROTECTED);
	ret = blkdev_issue_zeroout(b->bdev.bdev, vnvme_lba_to_sector(b, slba),
				   vnvme_lba_to_sector(b, nlb), GFP_KERNEL,
				   deac ? 0 : BLKDEV_ZERO_NOUNMAP);
	/* Zeroes are written like data: durable when a write would be. */
	if (!ret && vnvme_io_durable(req))
		ret = blkdev_issue_flush(b->bdev.bdev);
	return ret ? vnvme_errno_status(req, ret) : VNVME_SC_SUCCESS;
}

static u16 vnvme_io_dsm(struct vnvme_req *req)
{
	struct vnvme_backing *b = req->backing;
	unsigned int nr = (vnvme_io_cdw(req, 10) & 0xff) + 1, i;
	struct vnvme_dsm_range *ranges;
	u64 total = 0;
	u16 status;
	int ret = 0;

	/* Only deallocate has an effect; the other attributes are hints. */
	if (!(vnvme_io_cdw(req, 11) & VNVME_DSM_AD))
		return VNVME_SC_SUCCESS;
	if (b->readonly)
		return DNR(VNVME_SC_NS_WRITE_PROTECTED);
	status = vnvme_req_map_data(req, nr * sizeof(*ranges), false);
	if (!status)
		status = vnvme_req_copy_data(req, false);
	if (status)
		return status;
	ranges = kcalloc(nr, sizeof(*ranges), GFP_KERNEL);
	if (!ranges)
		return VNVME_SC_INTERNAL;
	vnvme_req_extract(req, ranges, nr * sizeof(*ranges));
	for (i = 0; i < nr; i++) {
		u64 slba = le64_to_cpu(ranges[i].slba);
		u32 nlb = le32_to_cpu(ranges[i].nlb);

		if (!vnvme_lba_range_ok(b, slba, nlb)) {
			req->slba = slba;
			status = DNR(VNVME_SC_LBA_RANGE);
			break;
		}
	}
	/* DMRSL and DMSL (Identify CNS 06h): each discard is bounded work. */
	for (i = 0; !status && i < nr; i++) {
		u32 nlb = le32_to_cpu(ranges[i].nlb);

		total += nlb;
		if (nlb > VNVME_DMRSL || total > VNVME_DMSL) {
			req->slba = le64_to_cpu(ranges[i].slba);
			status = DNR(VNVME_SC_INVALID_FIELD);
		}
	}
	for (i = 0; !status && b->can_discard && i < nr && !ret; i++) {
		u32 nlb = le32_to_cpu(ranges[i].nlb);

		if (nlb)
			ret = blkdev_issue_discard(b->bdev.bdev,
						   vnvme_lba_to_sector(b, le64_to_cpu(ranges[i].slba)),
						   vnvme_lba_to_sector(b, nlb), GFP_KERNEL);
	}
	kfree(ranges);
	if (!status && ret && ret != -EOPNOTSUPP)
		status = vnvme_errno_status(req, ret);
	/* No data goes back to the guest. */
	vnvme_req_free_data(req);
	req->to_guest = false;
	return status;
}

static u16 vnvme_io_flush(struct vnvme_req *req)
{
	int ret;

	if (le32_to_cpu(req->cmd.nsid) == VNVME_NSID_ALL)
		ret = vnvme_ns_flush_all(req->sq->ctrl);
	else if (req->backing->readonly)
		ret = 0;
	else
		ret = blkdev_issue_flush(req->backing->bdev.bdev);
	return ret ? vnvme_errno_status(req, ret) : VNVME_SC_SUCCESS;
}

/* Commands that wait for the block layer run here, off the SQ worker. */
static void vnvme_io_sync_work(struct work_struct *work)
{
	struct vnvme_req *req = container_of(work, struct vnvme_req, work);
	u64 slba = req->slba;
	u32 nlb = (vnvme_io_cdw(req, 12) & 0xffff) + 1;
	u16 status;

	/* Its SQ is being deleted or the controller reset: it never started. */
	if (READ_ONCE(req->sq->stopping)) {
		vnvme_io_done(req, VNVME_SC_ABORT_SQ_DELETED);
		return;
	}
	switch (req->cmd.opcode) {
	case VNVME_IO_FLUSH:
		status = vnvme_io_flush(req);
		break;
	case VNVME_IO_COMPARE:
		status = vnvme_io_compare(req, slba, nlb);
		break;
	case VNVME_IO_VERIFY:
		status = vnvme_io_verify(req, slba, nlb);
		break;
	case VNVME_IO_WRITE_ZEROES:
		status = vnvme_io_write_zeroes(req, slba, nlb);
		break;
	case VNVME_IO_DSM:
		status = vnvme_io_dsm(req);
		break;
	default:
		status = DNR(VNVME_SC_INVALID_OPCODE);
	}
	vnvme_io_done(req, status);
}

static bool vnvme_io_opcode_known(u8 opcode)
{
	switch (opcode) {
	case VNVME_IO_FLUSH:
	case VNVME_IO_WRITE:
	case VNVME_IO_READ:
	case VNVME_IO_COMPARE:
	case VNVME_IO_WRITE_ZEROES:
	case VNVME_IO_DSM:
	case VNVME_IO_VERIFY:
		return true;
	}
	return false;
}

static bool vnvme_io_has_lba_range(u8 opcode)
{
	return opcode != VNVME_IO_FLUSH && opcode != VNVME_IO_DSM;
}

void vnvme_io_exec(struct vnvme_req *req)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	u32 nsid = le32_to_cpu(req->cmd.nsid);
	u8 opcode = req->cmd.opcode;
	u64 slba;
	u32 nlb;
	u16 status;

	if (!vnvme_io_opcode_known(opcode)) {
		status = DNR(VNVME_SC_INVALID_OPCODE);
		goto done;
	}
	if (VNVME_SQE_FUSE(req->cmd.flags)) {
		status = DNR(VNVME_SC_INVALID_FIELD);
		goto done;
	}
	if (opcode == VNVME_IO_FLUSH && nsid == VNVME_NSID_ALL) {
		INIT_WORK(&req->work, vnvme_io_sync_work);
		queue_work(req->sq->ctrl->cmd_wq, &req->work);
		return;
	}
	req->backing = vnvme_ns_get(ctrl, nsid);
	if (!req->backing) {
		status = DNR(VNVME_SC_INVALID_NS);
		goto done;
	}

	slba = (u64)vnvme_io_cdw(req, 11) << 32 | vnvme_io_cdw(req, 10);
	nlb = (vnvme_io_cdw(req, 12) & 0xffff) + 1;
	req->slba = slba;
	if (vnvme_io_has_lba_range(opcode) &&
	    !vnvme_lba_range_ok(req->backing, slba, nlb)) {
		status = DNR(VNVME_SC_LBA_RANGE);
		goto done;
	}
	/* VSL and WZSL (Identify CNS 06h): no more than MDTS. */
	if ((opcode == VNVME_IO_VERIFY || opcode == VNVME_IO_WRITE_ZEROES) &&
	    ((u64)nlb << req->backing->lba_shift) > (PAGE_SIZE << ctrl->mdts)) {
		status = DNR(VNVME_SC_INVALID_FIELD);
		goto done;
	}
	if (opcode == VNVME_IO_VERIFY) {
		status = vnvme_io_verify_buffer(req, nlb);
		if (status)
			goto done;
	}

	if (opcode == VNVME_IO_READ || opcode == VNVME_IO_WRITE) {
		status = vnvme_io_rw(req, slba, nlb);
		if (status == VNVME_SC_SUCCESS)
			return;	/* the bio completes it */
		goto done;
	}
	INIT_WORK(&req->work, vnvme_io_sync_work);
	queue_work(req->sq->ctrl->cmd_wq, &req->work);
	return;

done:
	vnvme_io_done(req, status);
}
