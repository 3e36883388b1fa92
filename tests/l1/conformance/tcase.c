// SPDX-License-Identifier: GPL-2.0
/* tcase: KTAP harness and shared helpers of the L1 NVMe test programs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "tcase.h"

#define TC_BUF_SIZE	(2u << 20)
#define TC_LIST_SIZE	(64u << 10)

static char timeout_line[512];
static int kmsg_fd = -1;

/* ------------------------------------------------------------------------ */
/* Reporting                                                                 */
/* ------------------------------------------------------------------------ */

void tc_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

bool tc_check(struct tctx *c, bool ok, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	printf("# line %d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	c->failed = true;
	return false;
}

void tc_skip(struct tctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->skip, sizeof(c->skip), fmt, ap);
	va_end(ap);
}

const char *tc_get(struct tctx *c, const char *key)
{
	unsigned int i;

	for (i = 0; i < c->nr_sets; i++)
		if (!strcmp(c->set_key[i], key))
			return c->set_val[i];
	return NULL;
}

long tc_get_long(struct tctx *c, const char *key, long fallback)
{
	const char *v = tc_get(c, key);

	return v ? strtol(v, NULL, 0) : fallback;
}

uint64_t tc_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

void tc_fill(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1, v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			v = tc_rand(&s);
		p[i] = (uint8_t)(v >> (8 * (i % 8)));
	}
}

/* ------------------------------------------------------------------------ */
/* Kernel log                                                                */
/* ------------------------------------------------------------------------ */

static const char kmsg_bad[] =
	"Oops|BUG:|WARNING:|kernel BUG|general protection|Call Trace|refcount_t|"
	"list_add corruption|list_del corruption|possible circular locking|"
	"possible recursive locking|lockdep|blocked for more than|soft lockup|"
	"hard LOCKUP|rcu_sched self-detected stall|rcu: INFO|UBSAN|KASAN|"
	"unable to handle|BUG_ON|use-after-free|double free|bad page state";

void tc_kmsg_mark(void)
{
	if (kmsg_fd < 0)
		kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

int tc_kmsg_check(char *out, size_t size)
{
	char rec[8192];
	regex_t re;
	size_t used = 0;
	int bad = 0;
	ssize_t n;

	if (size)
		out[0] = '\0';
	if (kmsg_fd < 0)
		return 0;
	if (regcomp(&re, kmsg_bad, REG_EXTENDED | REG_NOSUB))
		return 0;
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records */
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (!regexec(&re, rec, 0, NULL, 0)) {
			char *msg = strchr(rec, ';');
			char *nl;

			msg = msg ? msg + 1 : rec;
			nl = strchr(msg, '\n');
			if (nl)
				*nl = '\0';
			bad++;
			if (used + strlen(msg) + 2 < size) {
				used += (size_t)snprintf(out + used, size - used, "%s%s",
							 used ? " | " : "", msg);
			}
		}
	}
	regfree(&re);
	return bad;
}

/* ------------------------------------------------------------------------ */
/* sysfs                                                                     */
/* ------------------------------------------------------------------------ */

int tc_file_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int tc_sysfs_read(struct tctx *c, const char *rel, char *buf, size_t size)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", c->sysfs, rel);
	return tc_file_read(path, buf, size);
}

int tc_file_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int tc_sysfs_write(struct tctx *c, const char *rel, const char *value)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", c->sysfs, rel);
	return tc_file_write(path, value);
}

long tc_sysfs_long(struct tctx *c, const char *rel, long fallback)
{
	char buf[64];

	if (tc_sysfs_read(c, rel, buf, sizeof(buf)))
		return fallback;
	return strtol(buf, NULL, 0);
}

long tc_pin_cache(struct tctx *c, const char *key)
{
	char buf[512], *line, *save = NULL;
	size_t klen = strlen(key);

	if (tc_sysfs_read(c, "vnvme/pin_cache", buf, sizeof(buf)))
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, key, klen) && line[klen] == ' ')
			return strtol(line + klen + 1, NULL, 0);
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Controller                                                                */
/* ------------------------------------------------------------------------ */

static bool tc_buffers(struct tctx *c)
{
	if (c->buf.vaddr)
		return true;
	return EXPECT_OK(vnvme_dma_alloc(c->dev, TC_BUF_SIZE, &c->buf)) &&
	       EXPECT_OK(vnvme_dma_alloc(c->dev, TC_BUF_SIZE, &c->buf2)) &&
	       EXPECT_OK(vnvme_dma_alloc(c->dev, TC_LIST_SIZE, &c->list));
}

bool tc_enable(struct tctx *c, unsigned int nvec)
{
	c->q = NULL;
	if (!c->ctrl_inited) {
		if (!EXPECT_OK(vnvme_ctrl_init(&c->ctrl, c->dev)))
			return false;
		c->ctrl_inited = true;
	}
	c->ctrl.cmd_timeout_ms = 15000;
	if (!tc_buffers(c))
		return false;
	if (nvec) {
		if (!EXPECT_OK(vnvme_msix_enable(c->dev, nvec)))
			return false;
	} else {
		vnvme_msix_disable(c->dev);
	}
	return EXPECT_OK(vnvme_ctrl_enable(&c->ctrl, 0, nvec ? vnvme_msix_fd(c->dev, 0) : -1));
}

bool tc_up(struct tctx *c, unsigned int nvec)
{
	int ret;

	if (!tc_enable(c, nvec))
		return false;
	if (!EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 1, 64, -1, &c->q)))
		return false;
	ret = vnvme_ns_init(&c->ns, &c->ctrl, c->nsid);
	return tc_check(c, ret == 0, __LINE__, "namespace %u: %d %s", c->nsid, ret,
			ret < 0 ? vnvme_last_error() : vnvme_status_name(ret));
}

void tc_down(struct tctx *c)
{
	if (!c->ctrl_inited)
		return;
	vnvme_ctrl_disable(&c->ctrl);
	c->q = NULL;
}

void tc_close_device(struct tctx *c)
{
	/*
	 * The controller and the buffers live in the device's memory: forget
	 * them first.  Closing unmaps the whole DMA arena, buffers included.
	 */
	if (c->ctrl_inited) {
		vnvme_ctrl_fini(&c->ctrl);
		c->ctrl_inited = false;
	}
	c->q = NULL;
	memset(&c->buf, 0, sizeof(c->buf));
	memset(&c->buf2, 0, sizeof(c->buf2));
	memset(&c->list, 0, sizeof(c->list));
	vnvme_close(c->dev);
	c->dev = NULL;
}

int tc_admin(struct tctx *c, struct nvme_sqe *sqe, struct nvme_cqe *cqe)
{
	return vnvme_exec(&c->ctrl.admin, sqe, cqe);
}

int tc_admin_data(struct tctx *c, struct nvme_sqe *sqe, void *data, size_t len,
		  bool to_device, struct nvme_cqe *cqe)
{
	return vnvme_admin_exec(&c->ctrl, sqe, data, len, to_device, cqe);
}

int tc_rw(struct tctx *c, struct vnvme_queue *q, uint8_t opcode, uint32_t nsid,
	  uint64_t slba, uint32_t nlb, const struct vnvme_dma_buf *buf)
{
	size_t len = (size_t)nlb * (c->ns.lba_size ? c->ns.lba_size : 512);
	struct nvme_sqe sqe;
	int ret;

	vnvme_cmd_rw(&sqe, opcode, nsid, slba, nlb);
	ret = vnvme_set_prps(&sqe, buf->iova, len, &c->list);
	return ret ? ret : vnvme_exec(q, &sqe, NULL);
}

int tc_verified_io(struct tctx *c, struct vnvme_queue *q, uint64_t slba, uint32_t nlb,
		   uint64_t seed)
{
	uint32_t lba = c->ns.lba_size;
	uint64_t bad;
	int ret;

	if ((size_t)nlb * lba > c->buf.size)
		return -EINVAL;
	vnvme_pattern_fill(c->buf.vaddr, lba, slba, nlb, seed);
	ret = tc_rw(c, q, NVME_IO_WRITE, c->ns.nsid, slba, nlb, &c->buf);
	if (ret)
		return ret;
	memset(c->buf.vaddr, 0x5a, (size_t)nlb * lba);
	ret = tc_rw(c, q, NVME_IO_READ, c->ns.nsid, slba, nlb, &c->buf);
	if (ret)
		return ret;
	return vnvme_pattern_check(c->buf.vaddr, lba, slba, nlb, seed, &bad);
}

int tc_health(struct tctx *c, char *why, size_t size)
{
	static const uint32_t sizes[] = { 1, 8, 64 };
	uint32_t csts = 0;
	unsigned int i;
	int ret;

	why[0] = '\0';
	vnvme_arena_remap_all(c->dev);
	if (!c->ctrl_inited) {
		ret = vnvme_ctrl_init(&c->ctrl, c->dev);
		if (ret) {
			snprintf(why, size, "controller init: %s", vnvme_last_error());
			return -1;
		}
		c->ctrl_inited = true;
	}
	c->ctrl.cmd_timeout_ms = 15000;
	if (!c->buf.vaddr && (vnvme_dma_alloc(c->dev, TC_BUF_SIZE, &c->buf) ||
			      vnvme_dma_alloc(c->dev, TC_BUF_SIZE, &c->buf2) ||
			      vnvme_dma_alloc(c->dev, TC_LIST_SIZE, &c->list))) {
		snprintf(why, size, "DMA buffers: %s", vnvme_last_error());
		return -1;
	}
	vnvme_msix_disable(c->dev);
	ret = vnvme_ctrl_enable(&c->ctrl, 0, -1);
	if (ret) {
		vnvme_reg_read32(&c->ctrl, NVME_REG_CSTS, &csts);
		snprintf(why, size, "controller enable failed (CSTS 0x%x): %s", csts,
			 vnvme_last_error());
		return -1;
	}
	ret = vnvme_create_io_queue_pair(&c->ctrl, 1, 64, -1, &c->q);
	if (ret) {
		snprintf(why, size, "create I/O queue: %d %s", ret, vnvme_last_error());
		return -1;
	}
	/* --set health_nsid=N: check a namespace other than the one the case broke */
	ret = vnvme_ns_init(&c->ns, &c->ctrl, (uint32_t)tc_get_long(c, "health_nsid", c->nsid));
	if (ret) {
		snprintf(why, size, "identify namespace %u: %d %s",
			 (uint32_t)tc_get_long(c, "health_nsid", c->nsid), ret,
			 ret > 0 ? vnvme_status_name(ret) : vnvme_last_error());
		return -1;
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t slba = (uint64_t)i * 128;

		ret = tc_verified_io(c, c->q, slba, sizes[i], 0xfeed0000ull + i);
		if (ret) {
			snprintf(why, size, "verified write+read of %u blocks at LBA %llu: %d %s",
				 sizes[i], (unsigned long long)slba, ret,
				 ret == -EBADMSG ? "data mismatch" :
				 ret > 0 ? vnvme_status_name(ret) : vnvme_last_error());
			return -1;
		}
	}
	tc_down(c);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Main                                                                      */
/* ------------------------------------------------------------------------ */

static void on_timeout(int sig)
{
	ssize_t n;

	(void)sig;
	n = write(STDOUT_FILENO, timeout_line, strlen(timeout_line));
	(void)n;
	_exit(1);
}

static bool selected(const char *name, const char *patterns)
{
	char buf[1024], *tok, *save;

	if (!patterns)
		return true;
	snprintf(buf, sizeof(buf), "%s", patterns);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!fnmatch(tok, name, 0))
			return true;
	return false;
}

static int usage(const char *prog, const char *extra)
{
	fprintf(stderr,
		"usage: %s [--case PATTERN[,PATTERN...]] [--list] [--health] [--nsid N]\n"
		"       [--timeout S] [--iommufd] [--doorbells trapped|mapped] [--set KEY=VALUE]...\n"
		"       UUID\n"
		"  --health   after every case: kernel log clean, fresh controller serves\n"
		"             verified I/O\n"
		"  --doorbells mapped: every open maps BAR0's doorbell page and the queue\n"
		"             helpers write doorbells into it (instance in mapped mode)\n%s",
		prog, extra ? extra : "");
	return 2;
}

int tcase_main(int argc, char **argv, const char *prog, const char *usage_extra,
	       const struct tcase *cases, size_t nr_cases)
{
	static struct tctx ctx;
	struct tctx *c = &ctx;
	const char *patterns = NULL;
	unsigned int passed = 0, failed = 0, skipped = 0, planned = 0, num = 0;
	uint64_t total_faults = 0, total_ops = 0;
	bool list = false, health = false;
	size_t i;
	int argi, ret;

	c->nsid = 1;
	c->case_timeout_s = 300;
	for (argi = 1; argi < argc && argv[argi][0] == '-'; argi++) {
		const char *a = argv[argi];

		if (!strcmp(a, "--case") && argi + 1 < argc) {
			patterns = argv[++argi];
		} else if (!strcmp(a, "--list")) {
			list = true;
		} else if (!strcmp(a, "--health")) {
			health = true;
		} else if (!strcmp(a, "--iommufd")) {
			c->open_opts.use_iommufd = true;
		} else if (!strcmp(a, "--doorbells") && argi + 1 < argc) {
			a = argv[++argi];
			if (strcmp(a, "mapped") && strcmp(a, "trapped"))
				return usage(prog, usage_extra);
			c->open_opts.map_doorbells = !strcmp(a, "mapped");
		} else if (!strcmp(a, "--nsid") && argi + 1 < argc) {
			c->nsid = (uint32_t)strtoul(argv[++argi], NULL, 0);
		} else if (!strcmp(a, "--timeout") && argi + 1 < argc) {
			c->case_timeout_s = (unsigned int)strtoul(argv[++argi], NULL, 0);
		} else if (!strcmp(a, "--set") && argi + 1 < argc && c->nr_sets < TC_MAX_SETS) {
			char *kv = argv[++argi], *eq = strchr(kv, '=');

			if (!eq)
				return usage(prog, usage_extra);
			*eq = '\0';
			c->set_key[c->nr_sets] = kv;
			c->set_val[c->nr_sets++] = eq + 1;
		} else {
			return usage(prog, usage_extra);
		}
	}
	if (list) {
		for (i = 0; i < nr_cases; i++)
			if (selected(cases[i].name, patterns))
				printf("%s\n", cases[i].name);
		return 0;
	}
	if (argi != argc - 1)
		return usage(prog, usage_extra);
	c->uuid = argv[argi];
	snprintf(c->sysfs, sizeof(c->sysfs), "/sys/bus/mdev/devices/%s", c->uuid);
	c->open_opts.map_chunk = 1u << 20;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_timeout);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < nr_cases; i++)
		planned += selected(cases[i].name, patterns);
	printf("KTAP version 1\n");
	printf("# %s: instance %s, namespace %u%s\n", prog, c->uuid, c->nsid,
	       health ? ", health check after every case" : "");
	printf("1..%u\n", planned);

	ret = vnvme_open(c->uuid, &c->open_opts, &c->dev);
	if (ret)
		tc_diag("cannot open the instance: %s", vnvme_last_error());
	/* The cases' data buffers exist from the start (cases take pointers early). */
	if (c->dev && (vnvme_dma_alloc(c->dev, TC_BUF_SIZE, &c->buf) ||
		       vnvme_dma_alloc(c->dev, TC_BUF_SIZE, &c->buf2) ||
		       vnvme_dma_alloc(c->dev, TC_LIST_SIZE, &c->list))) {
		tc_diag("DMA buffers: %s", vnvme_last_error());
		tc_close_device(c);
	}
	tc_kmsg_mark();

	for (i = 0; i < nr_cases; i++) {
		char why[1024];

		if (!selected(cases[i].name, patterns))
			continue;
		num++;
		c->failed = false;
		c->skip[0] = '\0';
		c->faults = 0;
		c->ops = 0;
		if (!c->dev) {
			c->failed = true;
		} else {
			snprintf(timeout_line, sizeof(timeout_line),
				 "# timed out after %u s\nnot ok %u %s\nBail out! %s hung\n",
				 c->case_timeout_s, num, cases[i].name, cases[i].name);
			tc_kmsg_mark();
			alarm(c->case_timeout_s);
			cases[i].run(c);
			if (health && !c->skip[0] && !c->dev) {
				tc_diag("%s closed the device (it removes the instance): no health check",
					cases[i].name);
			} else if (health && !c->skip[0]) {
				if (tc_health(c, why, sizeof(why)))
					tc_check(c, false, __LINE__, "after the case: %s", why);
			}
			alarm(0);
			if (tc_kmsg_check(why, sizeof(why)))
				tc_check(c, false, __LINE__, "kernel log: %s", why);
			tc_down(c);
		}
		if (c->faults)
			tc_diag("%s: faults injected: %llu", cases[i].name,
				(unsigned long long)c->faults);
		if (c->ops)
			tc_diag("%s: operations: %llu", cases[i].name, (unsigned long long)c->ops);
		total_faults += c->faults;
		total_ops += c->ops;
		if (c->skip[0] && !c->failed) {
			printf("ok %u %s # SKIP %s\n", num, cases[i].name, c->skip);
			skipped++;
		} else if (c->failed) {
			printf("not ok %u %s\n", num, cases[i].name);
			failed++;
		} else {
			printf("ok %u %s\n", num, cases[i].name);
			passed++;
		}
	}
	tc_close_device(c);
	printf("# %s: %u passed, %u failed, %u skipped; faults injected %llu, operations %llu\n",
	       prog, passed, failed, skipped, (unsigned long long)total_faults,
	       (unsigned long long)total_ops);
	return failed ? 1 : 0;
}
