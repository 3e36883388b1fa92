// SPDX-License-Identifier: GPL-2.0
/*
 * vnvme-vfio: drive an NVMe controller behind VFIO (a vnvme mdev instance)
 * from userspace with libvnvme: inspect it, send admin/I/O commands,
 * verify data and benchmark it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libvnvme.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_NVME = 1,		/* NVMe error status, or data that did not verify */
	EXIT_USAGE = 2,
	EXIT_SYSTEM = 3,	/* VFIO/system failure or timeout */
};

static const char usage_text[] =
"Usage: vnvme-vfio [OPTIONS] UUID COMMAND [ARGS]\n"
"Drive the NVMe controller of mdev instance UUID (/sys/bus/mdev/devices/UUID)\n"
"from userspace over VFIO.\n"
"\n"
"Commands:\n"
"  info                       device, region and irq info, CAP/VS/CC/CSTS\n"
"  id-ctrl                    Identify Controller\n"
"  id-ns NSID                 Identify Namespace\n"
"  read NSID SLBA NLB [FILE]  read NLB blocks (a count) into FILE (default: hex dump)\n"
"  write NSID SLBA NLB FILE   write NLB blocks from FILE (zero padded)\n"
"  verify-io NSID             write a stamped pattern, read it back, compare\n"
"      --lba-count N (required) --queues Q --qd D [--slba S] [--bs B] [--seed X] [--irq]\n"
"  raw (--admin | --qid Q) HEX64BYTES [--data-in N | --data-out FILE]\n"
"                             submit one 64-byte SQE given as 128 hex digits (its CID\n"
"                             is kept; PRPs are set when a data buffer is given),\n"
"                             print the CQE and any data read\n"
"  bench NSID                 --rw read|write|randread|randwrite --bs B --qd D\n"
"      --queues Q (--seconds S | --ios N) [--slba S] [--lba-count N] [--seed X]\n"
"      [--irq] [--verify]\n"
"      --bs bytes per I/O, --qd I/Os in flight per queue, --queues I/O queue pairs;\n"
"      --slba/--lba-count the LBA range used (default: the whole namespace);\n"
"      --seed seeds random offsets and the verify pattern; --verify stamps writes\n"
"      and checks reads (read back with the seed used to write)\n"
"  fuzz NSID                  hostile-guest fuzzer: a seeded random mix of register,\n"
"      config-space, doorbell, command, DMA-unmap and VFIO operations, checking\n"
"      that the controller keeps serving verified I/O on NSID (it uses LBAs below\n"
"      min(8192, size/4) for that and writes anywhere above them)\n"
"      (--ops N | --seconds S) [--seed X] [--check-every N] [--ns-toggle FILE]\n"
"      [--chaos] [--verbose] [--json]; --ns-toggle writes 0/1 to a sysfs\n"
"      nsN/enable file now and then, --chaos adds a thread that unmaps memory\n"
"      under queue creation; the same seed replays the same operations\n"
"  reg read OFF | reg write OFF VALUE [--size 1|2|4|8]\n"
"                             raw BAR0 access (the controller is not enabled)\n"
"  cfg read OFF | cfg write OFF VALUE [--size 1|2|4]\n"
"                             raw PCI config-space access\n"
"\n"
"Options:\n"
"  --json             JSON output (info, bench, verify-io)\n"
"  --iommufd          use iommufd and the vfio cdev instead of a type1 container\n"
"  --irq              wait for I/O completions on MSI-X eventfds instead of polling\n"
"  --poll             poll the I/O completion queues (the default; not with --irq)\n"
"  --doorbells MODE   trapped (default): doorbells are write()s into the device;\n"
"                     mapped: mmap BAR0's doorbell page and write doorbells into it\n"
"                     (the instance's sysfs vnvme/doorbell_mode must be mapped);\n"
"                     '--doorbells mapped --poll' is the SPDK-style driver\n"
"  --shadow-doorbells I/O queue doorbells go to a shadow page (Doorbell Buffer\n"
"                     Config), and to the device only when its EventIdx asks,\n"
"                     as Linux's nvme driver does\n"
"  --timeout MS       per-command timeout (default 10000)\n"
"  --arena-mib N      DMA arena size in MiB (default 64)\n"
"  --iova-base ADDR   IOVA of the DMA arena (default 0x100000000)\n"
"  -h, --help         this text\n"
"Numbers accept 0x prefixes; sizes accept k, m, g suffixes (powers of 1024).\n"
"\n"
"Exit status: 0 success, 1 NVMe error status (or data mismatch), 2 usage error,\n"
"3 system error (VFIO, memory, timeout).\n";

enum opt_id {
	OPT_JSON = 1, OPT_IOMMUFD, OPT_IRQ, OPT_TIMEOUT, OPT_ARENA, OPT_IOVA_BASE,
	OPT_ADMIN, OPT_QID, OPT_DATA_IN, OPT_DATA_OUT,
	OPT_RW, OPT_BS, OPT_QD, OPT_QUEUES, OPT_SECONDS, OPT_IOS, OPT_SLBA,
	OPT_LBA_COUNT, OPT_SEED, OPT_VERIFY,
	OPT_OPS, OPT_CHECK_EVERY, OPT_NS_TOGGLE, OPT_CHAOS, OPT_VERBOSE, OPT_SIZE,
	OPT_POLL, OPT_DOORBELLS, OPT_SHADOW,
	OPT_COUNT
};

#define OPT_BIT(id)	(1u << (id))
#define GLOBAL_OPTS	(OPT_BIT(OPT_IOMMUFD) | OPT_BIT(OPT_TIMEOUT) | OPT_BIT(OPT_IRQ) | \
			 OPT_BIT(OPT_ARENA) | OPT_BIT(OPT_IOVA_BASE) | \
			 OPT_BIT(OPT_POLL) | OPT_BIT(OPT_DOORBELLS) | OPT_BIT(OPT_SHADOW))
#define WORKLOAD_OPTS	(OPT_BIT(OPT_BS) | OPT_BIT(OPT_QD) | OPT_BIT(OPT_QUEUES) | \
			 OPT_BIT(OPT_SLBA) | OPT_BIT(OPT_LBA_COUNT) | OPT_BIT(OPT_SEED) | \
			 OPT_BIT(OPT_JSON))

static const struct option long_options[] = {
	{ "json",	no_argument,		NULL, OPT_JSON },
	{ "iommufd",	no_argument,		NULL, OPT_IOMMUFD },
	{ "irq",	no_argument,		NULL, OPT_IRQ },
	{ "poll",	no_argument,		NULL, OPT_POLL },
	{ "doorbells",	required_argument,	NULL, OPT_DOORBELLS },
	{ "shadow-doorbells", no_argument,	NULL, OPT_SHADOW },
	{ "timeout",	required_argument,	NULL, OPT_TIMEOUT },
	{ "arena-mib",	required_argument,	NULL, OPT_ARENA },
	{ "iova-base",	required_argument,	NULL, OPT_IOVA_BASE },
	{ "admin",	no_argument,		NULL, OPT_ADMIN },
	{ "qid",	required_argument,	NULL, OPT_QID },
	{ "data-in",	required_argument,	NULL, OPT_DATA_IN },
	{ "data-out",	required_argument,	NULL, OPT_DATA_OUT },
	{ "rw",		required_argument,	NULL, OPT_RW },
	{ "bs",		required_argument,	NULL, OPT_BS },
	{ "qd",		required_argument,	NULL, OPT_QD },
	{ "queues",	required_argument,	NULL, OPT_QUEUES },
	{ "seconds",	required_argument,	NULL, OPT_SECONDS },
	{ "ios",	required_argument,	NULL, OPT_IOS },
	{ "slba",	required_argument,	NULL, OPT_SLBA },
	{ "lba-count",	required_argument,	NULL, OPT_LBA_COUNT },
	{ "seed",	required_argument,	NULL, OPT_SEED },
	{ "verify",	no_argument,		NULL, OPT_VERIFY },
	{ "ops",	required_argument,	NULL, OPT_OPS },
	{ "check-every", required_argument,	NULL, OPT_CHECK_EVERY },
	{ "ns-toggle",	required_argument,	NULL, OPT_NS_TOGGLE },
	{ "chaos",	no_argument,		NULL, OPT_CHAOS },
	{ "verbose",	no_argument,		NULL, OPT_VERBOSE },
	{ "size",	required_argument,	NULL, OPT_SIZE },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	const char *uuid;
	const char *command;
	char **args;
	int nargs;
	unsigned int opts_seen;		/* OPT_BIT()s given on the command line */

	bool json;
	bool irq;
	bool mapped_doorbells;
	bool shadow_doorbells;
	bool admin;
	bool verify;
	struct vnvme_open_opts open_opts;
	unsigned int timeout_ms;
	uint16_t qid;
	uint64_t data_in;
	const char *data_out;
	enum vnvme_rw rw;
	uint64_t bs;
	uint64_t qd;
	uint64_t queues;
	double seconds;
	uint64_t ios;
	uint64_t slba;
	uint64_t lba_count;
	uint64_t seed;
	uint64_t ops;
	uint64_t check_every;
	const char *ns_toggle;
	bool chaos;
	bool verbose;
	uint64_t size;
};

/* The controller session every NVMe command runs in. */
struct session {
	struct vnvme_dev *dev;
	struct vnvme_ctrl ctrl;
	struct vnvme_queue **io_queues;
	unsigned int nr_io_queues;
	bool ctrl_ready;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vnvme-vfio: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'vnvme-vfio --help'.\n");
	return EXIT_USAGE;
}

/* Map a library return (< 0 errno, > 0 NVMe status) to words and an exit code. */
static int report(int ret, const char *what)
{
	const char *detail = vnvme_last_error();

	if (!ret)
		return EXIT_OK;
	if (ret > 0) {
		fprintf(stderr, "vnvme-vfio: %s: NVMe status 0x%x (%s%s)\n", what, ret,
			vnvme_status_name(ret), ret & NVME_STATUS_DNR ? ", DNR" : "");
		return EXIT_NVME;
	}
	if (ret == -EBADMSG) {
		fprintf(stderr, "vnvme-vfio: %s: %s\n", what, *detail ? detail : "data mismatch");
		return EXIT_NVME;
	}
	fprintf(stderr, "vnvme-vfio: %s: %s\n", what, *detail ? detail : strerror(-ret));
	return EXIT_SYSTEM;
}

static bool parse_u64(const char *s, uint64_t *val)
{
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		return false;
	*val = strtoull(s, &end, 0);
	return !errno && !*end;
}

/* Like parse_u64 with an optional k/m/g (binary) suffix. */
static bool parse_size(const char *s, uint64_t *val)
{
	unsigned int shift = 0;
	char buf[64], *last;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf) || !*buf)
		return false;
	last = buf + strlen(buf) - 1;
	switch (tolower((unsigned char)*last)) {
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	}
	if (shift)
		*last = '\0';
	if (!parse_u64(buf, val) || *val > (UINT64_MAX >> shift))
		return false;
	*val <<= shift;
	return true;
}

static int parse_args(int argc, char **argv, struct cli *cli)
{
	uint64_t v;
	int c;

	memset(cli, 0, sizeof(*cli));
	cli->timeout_ms = VNVME_DEFAULT_CMD_TIMEOUT_MS;
	cli->rw = VNVME_RW_RANDREAD;
	cli->bs = 4096;
	cli->qd = 1;
	cli->queues = 1;
	cli->seed = 1;

	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		}
		if (c <= 0 || c >= OPT_COUNT)
			return EXIT_USAGE;	/* getopt printed why */
		cli->opts_seen |= OPT_BIT(c);
		switch (c) {
		case OPT_JSON:
			cli->json = true;
			break;
		case OPT_IOMMUFD:
			cli->open_opts.use_iommufd = true;
			break;
		case OPT_IRQ:
			cli->irq = true;
			break;
		case OPT_POLL:
			break;
		case OPT_DOORBELLS:
			if (!strcmp(optarg, "mapped"))
				cli->mapped_doorbells = cli->open_opts.map_doorbells = true;
			else if (strcmp(optarg, "trapped"))
				return usage_error("--doorbells: trapped or mapped, not '%s'",
						   optarg);
			break;
		case OPT_SHADOW:
			cli->shadow_doorbells = true;
			break;
		case OPT_ADMIN:
			cli->admin = true;
			break;
		case OPT_VERIFY:
			cli->verify = true;
			break;
		case OPT_TIMEOUT:
			if (!parse_u64(optarg, &v) || !v || v > 3600000)
				return usage_error("bad --timeout '%s'", optarg);
			cli->timeout_ms = (unsigned int)v;
			break;
		case OPT_ARENA:
			if (!parse_u64(optarg, &v) || !v || v > 65536)
				return usage_error("bad --arena-mib '%s'", optarg);
			cli->open_opts.arena_size = (size_t)v << 20;
			break;
		case OPT_IOVA_BASE:
			if (!parse_u64(optarg, &cli->open_opts.iova_base) ||
			    cli->open_opts.iova_base % 4096)
				return usage_error("bad --iova-base '%s' (page aligned)", optarg);
			break;
		case OPT_QID:
			if (!parse_u64(optarg, &v) || !v || v > NVME_MAX_QID)
				return usage_error("bad --qid '%s'", optarg);
			cli->qid = (uint16_t)v;
			break;
		case OPT_DATA_IN:
			if (!parse_size(optarg, &cli->data_in) || !cli->data_in)
				return usage_error("bad --data-in '%s'", optarg);
			break;
		case OPT_DATA_OUT:
			cli->data_out = optarg;
			break;
		case OPT_RW:
			if (vnvme_rw_parse(optarg, &cli->rw))
				return usage_error("bad --rw '%s'", optarg);
			break;
		case OPT_BS:
			if (!parse_size(optarg, &cli->bs) || !cli->bs || cli->bs > (64u << 20))
				return usage_error("bad --bs '%s'", optarg);
			break;
		case OPT_QD:
			if (!parse_u64(optarg, &cli->qd) || !cli->qd || cli->qd > 65535)
				return usage_error("bad --qd '%s'", optarg);
			break;
		case OPT_QUEUES:
			if (!parse_u64(optarg, &cli->queues) || !cli->queues ||
			    cli->queues > NVME_MAX_QID)
				return usage_error("bad --queues '%s'", optarg);
			break;
		case OPT_SECONDS: {
			char *end;

			cli->seconds = strtod(optarg, &end);
			if (*end || !(cli->seconds > 0))
				return usage_error("bad --seconds '%s'", optarg);
			break;
		}
		case OPT_IOS:
			if (!parse_u64(optarg, &cli->ios) || !cli->ios)
				return usage_error("bad --ios '%s'", optarg);
			break;
		case OPT_SLBA:
			if (!parse_u64(optarg, &cli->slba))
				return usage_error("bad --slba '%s'", optarg);
			break;
		case OPT_LBA_COUNT:
			if (!parse_u64(optarg, &cli->lba_count) || !cli->lba_count)
				return usage_error("bad --lba-count '%s'", optarg);
			break;
		case OPT_SEED:
			if (!parse_u64(optarg, &cli->seed))
				return usage_error("bad --seed '%s'", optarg);
			break;
		case OPT_OPS:
			if (!parse_u64(optarg, &cli->ops) || !cli->ops)
				return usage_error("bad --ops '%s'", optarg);
			break;
		case OPT_CHECK_EVERY:
			if (!parse_u64(optarg, &cli->check_every) || !cli->check_every ||
			    cli->check_every > UINT32_MAX)
				return usage_error("bad --check-every '%s'", optarg);
			break;
		case OPT_NS_TOGGLE:
			cli->ns_toggle = optarg;
			break;
		case OPT_CHAOS:
			cli->chaos = true;
			break;
		case OPT_VERBOSE:
			cli->verbose = true;
			break;
		case OPT_SIZE:
			if (!parse_u64(optarg, &cli->size) ||
			    (cli->size != 1 && cli->size != 2 && cli->size != 4 && cli->size != 8))
				return usage_error("bad --size '%s' (1, 2, 4 or 8)", optarg);
			break;
		}
	}
	if (argc - optind < 2)
		return usage_error("need a UUID and a command");
	if (cli->irq && (cli->opts_seen & OPT_BIT(OPT_POLL)))
		return usage_error("--irq and --poll exclude each other");
	cli->uuid = argv[optind];
	cli->command = argv[optind + 1];
	cli->args = argv + optind + 2;
	cli->nargs = argc - optind - 2;
	return EXIT_OK;
}

static const char *option_name(int id)
{
	const struct option *o;

	for (o = long_options; o->name; o++)
		if (o->val == id)
			return o->name;
	return "?";
}

static int check_command_args(const struct cli *cli, int min_args, int max_args,
			      unsigned int allowed_opts)
{
	unsigned int extra = cli->opts_seen & ~(allowed_opts | GLOBAL_OPTS);
	int id;

	if (cli->nargs < min_args || cli->nargs > max_args)
		return usage_error("%s: wrong number of arguments", cli->command);
	for (id = 1; id < OPT_COUNT; id++)
		if (extra & OPT_BIT(id))
			return usage_error("%s: option --%s does not apply", cli->command,
					   option_name(id));
	return EXIT_OK;
}

static bool arg_u64(const struct cli *cli, int index, const char *name, uint64_t max,
		    uint64_t *val)
{
	if (parse_u64(cli->args[index], val) && *val <= max)
		return true;
	usage_error("%s: bad %s '%s'", cli->command, name, cli->args[index]);
	return false;
}

/* ------------------------------------------------------------------------ */
/* Output helpers                                                            */
/* ------------------------------------------------------------------------ */

static void hexdump(const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i, j;

	for (i = 0; i < len; i += 16) {
		printf("%08zx ", i);
		for (j = i; j < i + 16; j++) {
			if (j < len)
				printf(" %02x", p[j]);
			else
				printf("   ");
		}
		printf("  |");
		for (j = i; j < i + 16 && j < len; j++)
			putchar(isprint(p[j]) ? p[j] : '.');
		printf("|\n");
	}
}

/* Copy a space-padded identify string without its padding. */
static const char *trim_field(char *out, const char *field, size_t len)
{
	memcpy(out, field, len);
	out[len] = '\0';
	while (len && (out[len - 1] == ' ' || out[len - 1] == '\0'))
		out[--len] = '\0';
	return out;
}

static void print_cqe(const struct nvme_cqe *cqe)
{
	int st = NVME_CQE_STATUS_FIELD(cqe->status);

	printf("cqe: result 0x%08x dw1 0x%08x sq_head %u sq_id %u cid %u status 0x%04x "
	       "(sct %u sc 0x%02x %s%s%s) phase %u\n",
	       cqe->result, cqe->dw1, cqe->sq_head, cqe->sq_id, cqe->cid, st,
	       NVME_STATUS_SCT(st), NVME_STATUS_SC(st), vnvme_status_name(st),
	       st & NVME_STATUS_MORE ? " more" : "", st & NVME_STATUS_DNR ? " dnr" : "",
	       cqe->status & 1);
}

/* ------------------------------------------------------------------------ */
/* Session                                                                   */
/* ------------------------------------------------------------------------ */

static int session_open(struct session *s, const struct cli *cli)
{
	int ret;

	memset(s, 0, sizeof(*s));
	if (cli->open_opts.use_iommufd && !vnvme_iommufd_available(cli->uuid)) {
		fprintf(stderr, "vnvme-vfio: --iommufd: not available (needs a build with Linux >= 6.6 uapi headers, "
			"CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV)\n");
		return EXIT_SYSTEM;
	}
	ret = vnvme_open(cli->uuid, &cli->open_opts, &s->dev);
	return report(ret, "open");
}

/* Enable the controller; with irq, vector 0 serves the admin queue. */
static int session_enable(struct session *s, const struct cli *cli, unsigned int io_vectors)
{
	int ret, admin_fd = -1;

	ret = vnvme_ctrl_init(&s->ctrl, s->dev);
	if (ret)
		return report(ret, "controller init");
	s->ctrl.cmd_timeout_ms = cli->timeout_ms;
	if (cli->irq) {
		ret = vnvme_msix_enable(s->dev, io_vectors + 1);
		if (ret)
			return report(ret, "MSI-X");
		admin_fd = vnvme_msix_fd(s->dev, 0);
	}
	ret = vnvme_ctrl_enable(&s->ctrl, 0, admin_fd);
	if (ret)
		return report(ret, "controller enable");
	s->ctrl_ready = true;
	return EXIT_OK;
}

static int session_create_queues(struct session *s, const struct cli *cli,
				 unsigned int count, uint16_t first_qid, unsigned int depth)
{
	unsigned int max_depth = NVME_CAP_MQES(s->ctrl.cap) + 1;
	unsigned int i;
	int ret;

	if (depth > max_depth)
		depth = max_depth;
	s->io_queues = calloc(count, sizeof(*s->io_queues));
	if (!s->io_queues)
		return report(-ENOMEM, "queues");
	for (i = 0; i < count; i++) {
		uint16_t qid = (uint16_t)(first_qid + i);

		ret = vnvme_create_io_queue_pair(&s->ctrl, qid, (uint16_t)depth,
						 cli->irq ? (int)qid : -1, &s->io_queues[i]);
		if (ret)
			return report(ret, "create I/O queue");
		s->nr_io_queues++;
	}
	if (cli->shadow_doorbells) {
		struct vnvme_dma_buf shadow, eventidx;

		ret = vnvme_dma_alloc(s->dev, 4096, &shadow);
		if (!ret)
			ret = vnvme_dma_alloc(s->dev, 4096, &eventidx);
		if (!ret)
			ret = vnvme_shadow_doorbells_config(&s->ctrl, &shadow, &eventidx);
		if (ret)
			return report(ret, "--shadow-doorbells: Doorbell Buffer Config");
	}
	return EXIT_OK;
}

/* Leave the controller disabled, as found. */
static void session_close(struct session *s)
{
	uint32_t csts = 0;
	unsigned int i;

	if (s->ctrl_ready) {
		/* A dead or fatal controller would only time out every deletion. */
		if (!vnvme_reg_read32(&s->ctrl, NVME_REG_CSTS, &csts) &&
		    (csts & (NVME_CSTS_RDY | NVME_CSTS_CFS)) == NVME_CSTS_RDY)
			for (i = 0; i < s->nr_io_queues; i++)
				vnvme_delete_io_queue_pair(&s->ctrl, s->io_queues[i]->qid);
		vnvme_ctrl_disable(&s->ctrl);
	}
	free(s->io_queues);
	vnvme_ctrl_fini(&s->ctrl);
	vnvme_close(s->dev);
}

static int session_ns(struct session *s, uint32_t nsid, struct vnvme_ns *ns)
{
	return report(vnvme_ns_init(ns, &s->ctrl, nsid), "identify namespace");
}

/* ------------------------------------------------------------------------ */
/* info                                                                      */
/* ------------------------------------------------------------------------ */

static const char *const region_names[VFIO_PCI_NUM_REGIONS] = {
	"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "CONFIG", "VGA",
};
static const char *const irq_names[VFIO_PCI_NUM_IRQS] = {
	"INTX", "MSI", "MSIX", "ERR", "REQ",
};

/* The mmap-able parts of a region (BAR0's doorbell page in mapped mode). */
static void print_sparse_areas(struct vnvme_dev *dev, unsigned int index)
{
	struct vfio_region_sparse_mmap_area areas[8];
	int i, n;

	n = vnvme_region_sparse_areas(dev, index, areas, 8);
	if (n < 0)
		printf("    sparse mmap: error %s\n", strerror(-n));
	for (i = 0; i < n; i++)
		printf("    sparse mmap area: offset 0x%llx size 0x%llx\n",
		       (unsigned long long)areas[i].offset,
		       (unsigned long long)areas[i].size);
}

static int cmd_info(struct session *s, const struct cli *cli)
{
	struct vnvme_ctrl *ctrl = &s->ctrl;
	struct vnvme_dev *dev = s->dev;
	uint32_t cc = 0, csts = 0, class_rev = 0;
	uint16_t vendor = 0, device = 0, ssvid = 0, ssid = 0, command = 0, status = 0;
	unsigned int i;
	int ret;

	ctrl->dev = dev;	/* register access only: no scratch buffers needed */
	ret = vnvme_reg_read64(ctrl, NVME_REG_CAP, &ctrl->cap);
	if (!ret)
		ret = vnvme_reg_read32(ctrl, NVME_REG_VS, &ctrl->vs);
	if (!ret)
		ret = vnvme_reg_read32(ctrl, NVME_REG_CC, &cc);
	if (!ret)
		ret = vnvme_reg_read32(ctrl, NVME_REG_CSTS, &csts);
	if (!ret)
		ret = vnvme_cfg_read16(dev, 0x00, &vendor);
	if (!ret)
		ret = vnvme_cfg_read16(dev, 0x02, &device);
	if (!ret)
		ret = vnvme_cfg_read16(dev, 0x04, &command);
	if (!ret)
		ret = vnvme_cfg_read16(dev, 0x06, &status);
	if (!ret)
		ret = vnvme_cfg_read32(dev, 0x08, &class_rev);
	if (!ret)
		ret = vnvme_cfg_read16(dev, 0x2c, &ssvid);
	if (!ret)
		ret = vnvme_cfg_read16(dev, 0x2e, &ssid);
	if (ret)
		return report(ret, "register read");

	if (cli->json) {
		printf("{\"uuid\":\"%s\",\"iommu\":\"%s\",\"device\":{\"flags\":%u,\"num_regions\":%u,\"num_irqs\":%u},\"regions\":[",
		       dev->uuid, dev->uses_iommufd ? "iommufd" : "type1",
		       dev->info.flags, dev->info.num_regions, dev->info.num_irqs);
		for (i = 0; i < dev->info.num_regions; i++) {
			struct vfio_region_info r;

			ret = vnvme_region_info(dev, i, &r);
			printf("%s{\"index\":%u,\"name\":\"%s\",\"error\":%d,\"size\":%llu,\"offset\":%llu,\"flags\":%u}",
			       i ? "," : "", i, i < VFIO_PCI_NUM_REGIONS ? region_names[i] : "?", ret,
			       (unsigned long long)r.size, (unsigned long long)r.offset, r.flags);
		}
		printf("],\"irqs\":[");
		for (i = 0; i < dev->info.num_irqs; i++) {
			struct vfio_irq_info q;

			ret = vnvme_irq_info(dev, i, &q);
			printf("%s{\"index\":%u,\"name\":\"%s\",\"error\":%d,\"count\":%u,\"flags\":%u}",
			       i ? "," : "", i, i < VFIO_PCI_NUM_IRQS ? irq_names[i] : "?", ret,
			       q.count, q.flags);
		}
		printf("],\"pci\":{\"vendor\":%u,\"device\":%u,\"subsystem_vendor\":%u,\"subsystem\":%u,"
		       "\"class\":%u,\"revision\":%u,\"command\":%u,\"status\":%u},",
		       vendor, device, ssvid, ssid, class_rev >> 8, class_rev & 0xff, command, status);
		printf("\"nvme\":{\"cap\":%" PRIu64 ",\"vs\":%u,\"cc\":%u,\"csts\":%u,\"mqes\":%u,\"to_ms\":%u,\"dstrd\":%u}}\n",
		       ctrl->cap, ctrl->vs, cc, csts, NVME_CAP_MQES(ctrl->cap),
		       NVME_CAP_TO(ctrl->cap) * 500, NVME_CAP_DSTRD(ctrl->cap));
		return EXIT_OK;
	}

	printf("instance %s (%s)\n", dev->uuid, dev->uses_iommufd ? "iommufd" : "type1 container");
	printf("device: flags 0x%x%s%s regions %u irqs %u\n", dev->info.flags,
	       dev->info.flags & VFIO_DEVICE_FLAGS_PCI ? " PCI" : "",
	       dev->info.flags & VFIO_DEVICE_FLAGS_RESET ? " RESET" : "",
	       dev->info.num_regions, dev->info.num_irqs);
	for (i = 0; i < dev->info.num_regions; i++) {
		struct vfio_region_info r;

		ret = vnvme_region_info(dev, i, &r);
		if (ret) {
			printf("  region %u %-6s: error %s\n", i,
			       i < VFIO_PCI_NUM_REGIONS ? region_names[i] : "?", strerror(-ret));
			continue;
		}
		printf("  region %u %-6s: size 0x%llx offset 0x%llx flags 0x%x%s%s%s\n", i,
		       i < VFIO_PCI_NUM_REGIONS ? region_names[i] : "?",
		       (unsigned long long)r.size, (unsigned long long)r.offset, r.flags,
		       r.flags & VFIO_REGION_INFO_FLAG_READ ? " read" : "",
		       r.flags & VFIO_REGION_INFO_FLAG_WRITE ? " write" : "",
		       r.flags & VFIO_REGION_INFO_FLAG_MMAP ? " mmap" : "");
		print_sparse_areas(dev, i);
	}
	for (i = 0; i < dev->info.num_irqs; i++) {
		struct vfio_irq_info q;

		ret = vnvme_irq_info(dev, i, &q);
		if (ret)
			printf("  irq %u %-4s: error %s\n", i,
			       i < VFIO_PCI_NUM_IRQS ? irq_names[i] : "?", strerror(-ret));
		else
			printf("  irq %u %-4s: count %u flags 0x%x\n", i,
			       i < VFIO_PCI_NUM_IRQS ? irq_names[i] : "?", q.count, q.flags);
	}
	printf("pci: %04x:%04x subsystem %04x:%04x class %06x rev %02x command 0x%04x status 0x%04x\n",
	       vendor, device, ssvid, ssid, class_rev >> 8, class_rev & 0xff, command, status);
	printf("nvme: CAP 0x%016" PRIx64 " (MQES %u CQR %u TO %u ms DSTRD %u CSS 0x%x MPSMIN %u MPSMAX %u)\n",
	       ctrl->cap, NVME_CAP_MQES(ctrl->cap), NVME_CAP_CQR(ctrl->cap),
	       NVME_CAP_TO(ctrl->cap) * 500, NVME_CAP_DSTRD(ctrl->cap), NVME_CAP_CSS(ctrl->cap),
	       NVME_CAP_MPSMIN(ctrl->cap), NVME_CAP_MPSMAX(ctrl->cap));
	printf("      VS %u.%u.%u CC 0x%08x CSTS 0x%08x%s%s\n", ctrl->vs >> 16,
	       (ctrl->vs >> 8) & 0xff, ctrl->vs & 0xff, cc, csts,
	       csts & NVME_CSTS_RDY ? " RDY" : "", csts & NVME_CSTS_CFS ? " CFS" : "");
	return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Identify                                                                  */
/* ------------------------------------------------------------------------ */

static int cmd_id_ctrl(struct session *s, const struct cli *cli)
{
	struct nvme_id_ctrl id;
	char sn[21], mn[41], fr[9];
	int ret;

	ret = session_enable(s, cli, 0);
	if (ret)
		return ret;
	ret = vnvme_identify(&s->ctrl, NVME_ID_CNS_CTRL, 0, &id);
	if (ret)
		return report(ret, "identify controller");
	printf("vid      0x%04x\nssvid    0x%04x\n", id.vid, id.ssvid);
	printf("sn       %s\n", trim_field(sn, id.sn, sizeof(id.sn)));
	printf("mn       %s\n", trim_field(mn, id.mn, sizeof(id.mn)));
	printf("fr       %s\n", trim_field(fr, id.fr, sizeof(id.fr)));
	printf("ieee     %02x%02x%02x\n", id.ieee[2], id.ieee[1], id.ieee[0]);
	printf("cmic     0x%x\nmdts     %u\ncntlid   %u\nver      0x%08x\n",
	       id.cmic, id.mdts, id.cntlid, id.ver);
	printf("oaes     0x%x\nctratt   0x%x\noacs     0x%x\nacl      %u\naerl     %u\n",
	       id.oaes, id.ctratt, id.oacs, id.acl, id.aerl);
	printf("frmw     0x%x\nlpa      0x%x\nelpe     %u\nnpss     %u\n",
	       id.frmw, id.lpa, id.elpe, id.npss);
	printf("sqes     0x%02x\ncqes     0x%02x\nmaxcmd   %u\nnn       %u\n",
	       id.sqes, id.cqes, id.maxcmd, id.nn);
	printf("oncs     0x%x\nfuses    0x%x\nfna      0x%x\nvwc      0x%x\nsgls     0x%x\n",
	       id.oncs, id.fuses, id.fna, id.vwc, id.sgls);
	printf("subnqn   %.*s\n", (int)strnlen(id.subnqn, sizeof(id.subnqn)), id.subnqn);
	return EXIT_OK;
}

static int cmd_id_ns(struct session *s, const struct cli *cli)
{
	struct vnvme_ns ns;
	uint64_t nsid;
	unsigned int i;
	int ret;

	if (!arg_u64(cli, 0, "NSID", UINT32_MAX, &nsid))
		return EXIT_USAGE;
	ret = session_enable(s, cli, 0);
	if (ret)
		return ret;
	/* Print even an inactive namespace: that is a valid answer. */
	ret = vnvme_identify(&s->ctrl, NVME_ID_CNS_NS, (uint32_t)nsid, &ns.id);
	if (ret)
		return report(ret, "identify namespace");
	printf("nsze     %" PRIu64 "\nncap     %" PRIu64 "\nnuse     %" PRIu64 "\n",
	       ns.id.nsze, ns.id.ncap, ns.id.nuse);
	printf("nsfeat   0x%x\nnlbaf    %u\nflbas    0x%x\ndlfeat   0x%x\nnmic     0x%x\n",
	       ns.id.nsfeat, ns.id.nlbaf, ns.id.flbas, ns.id.dlfeat, ns.id.nmic);
	printf("nguid    ");
	for (i = 0; i < sizeof(ns.id.nguid); i++)
		printf("%02x", ns.id.nguid[i]);
	printf("\neui64    ");
	for (i = 0; i < sizeof(ns.id.eui64); i++)
		printf("%02x", ns.id.eui64[i]);
	printf("\n");
	for (i = 0; i <= ns.id.nlbaf && i < 16; i++)
		printf("lbaf %2u  ms %u lbads %u rp %u%s\n", i, ns.id.lbaf[i].ms,
		       ns.id.lbaf[i].lbads, ns.id.lbaf[i].rp,
		       (ns.id.flbas & 0xf) == i ? " (in use)" : "");
	return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* read / write                                                              */
/* ------------------------------------------------------------------------ */

static int cmd_read_write(struct session *s, const struct cli *cli, bool is_write)
{
	uint64_t nsid, slba, nlb;
	struct vnvme_dma_buf buf;
	struct vnvme_ns ns;
	size_t len;
	ssize_t n;
	int ret, fd = -1, exit_code;

	if (!arg_u64(cli, 0, "NSID", UINT32_MAX, &nsid) ||
	    !arg_u64(cli, 1, "SLBA", UINT64_MAX, &slba) ||
	    !arg_u64(cli, 2, "NLB", 0x10000, &nlb))
		return EXIT_USAGE;
	if (!nlb)
		return usage_error("%s: NLB is a block count, at least 1", cli->command);
	ret = session_enable(s, cli, 1);
	if (!ret)
		ret = session_create_queues(s, cli, 1, 1, 2);
	if (!ret)
		ret = session_ns(s, (uint32_t)nsid, &ns);
	if (ret)
		return ret;
	len = (size_t)nlb * ns.lba_size;
	ret = vnvme_dma_alloc(s->dev, len, &buf);
	if (ret)
		return report(ret, "buffer");

	if (is_write) {
		fd = open(cli->args[3], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "vnvme-vfio: %s: %s\n", cli->args[3], strerror(errno));
			return EXIT_SYSTEM;
		}
		/* Short files are zero padded (the buffer comes zeroed). */
		for (size_t done = 0; done < len; done += (size_t)n) {
			n = read(fd, (uint8_t *)buf.vaddr + done, len - done);
			if (n < 0) {
				fprintf(stderr, "vnvme-vfio: read %s: %s\n", cli->args[3], strerror(errno));
				close(fd);
				return EXIT_SYSTEM;
			}
			if (!n)
				break;
		}
		close(fd);
		ret = vnvme_io_write(&ns, s->io_queues[0], slba, (uint32_t)nlb, &buf);
		return report(ret, "write");
	}

	ret = vnvme_io_read(&ns, s->io_queues[0], slba, (uint32_t)nlb, &buf);
	exit_code = report(ret, "read");
	if (exit_code)
		return exit_code;
	if (cli->nargs < 4) {
		hexdump(buf.vaddr, len);
		return EXIT_OK;
	}
	fd = open(cli->args[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf.vaddr, len) != (ssize_t)len) {
		fprintf(stderr, "vnvme-vfio: write %s: %s\n", cli->args[3], strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_SYSTEM;
	}
	return close(fd) ? EXIT_SYSTEM : EXIT_OK;
}

static int cmd_read(struct session *s, const struct cli *cli)
{
	return cmd_read_write(s, cli, false);
}

static int cmd_write(struct session *s, const struct cli *cli)
{
	return cmd_read_write(s, cli, true);
}

/* ------------------------------------------------------------------------ */
/* raw                                                                       */
/* ------------------------------------------------------------------------ */

static bool parse_hex_sqe(const char *text, struct nvme_sqe *sqe)
{
	uint8_t *bytes = (uint8_t *)sqe;
	size_t n = 0;
	int hi = -1;

	for (; *text; text++) {
		int v;

		if (isspace((unsigned char)*text) || *text == ':' || *text == '-')
			continue;
		if (!isxdigit((unsigned char)*text))
			return false;
		v = isdigit((unsigned char)*text) ? *text - '0' : tolower((unsigned char)*text) - 'a' + 10;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == sizeof(*sqe))
			return false;
		bytes[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return n == sizeof(*sqe) && hi < 0;
}

static int cmd_raw(struct session *s, const struct cli *cli)
{
	struct vnvme_dma_buf data = { 0 }, prp_list = { 0 };
	struct vnvme_queue *q;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	size_t len = 0;
	int ret;

	if (cli->admin == !!cli->qid)
		return usage_error("raw: give exactly one of --admin and --qid Q");
	if (cli->data_in && cli->data_out)
		return usage_error("raw: --data-in and --data-out exclude each other");
	if (!parse_hex_sqe(cli->args[0], &sqe))
		return usage_error("raw: the SQE must be 64 bytes as 128 hex digits");

	ret = session_enable(s, cli, cli->qid);
	if (!ret && cli->qid)
		ret = session_create_queues(s, cli, 1, cli->qid, 64);
	if (ret)
		return ret;
	q = cli->qid ? s->io_queues[0] : &s->ctrl.admin;

	if (cli->data_out) {
		FILE *f = fopen(cli->data_out, "rb");
		long size;

		if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET)) {
			fprintf(stderr, "vnvme-vfio: %s: cannot read (or empty)\n", cli->data_out);
			if (f)
				fclose(f);
			return EXIT_SYSTEM;
		}
		len = (size_t)size;
		ret = vnvme_dma_alloc(s->dev, len, &data);
		if (!ret && fread(data.vaddr, 1, len, f) != len)
			ret = -EIO;
		fclose(f);
		if (ret)
			return report(ret, cli->data_out);
	} else if (cli->data_in) {
		len = (size_t)cli->data_in;
		ret = vnvme_dma_alloc(s->dev, len, &data);
		if (ret)
			return report(ret, "buffer");
	}
	if (len) {
		size_t list_size = vnvme_prp_list_size(data.iova, len);

		ret = list_size ? vnvme_dma_alloc(s->dev, list_size, &prp_list) : 0;
		if (!ret)
			ret = vnvme_set_prps(&sqe, data.iova, len, &prp_list);
		if (ret)
			return report(ret, "PRPs");
	}

	ret = vnvme_exec_raw(q, &sqe, &cqe);
	if (ret < 0)
		return report(ret, "raw command");
	print_cqe(&cqe);
	if (cli->data_in)
		hexdump(data.vaddr, len);
	return ret ? EXIT_NVME : EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Workloads                                                                 */
/* ------------------------------------------------------------------------ */

static void print_result(const struct cli *cli, const char *what,
			 const struct vnvme_bench_opts *opts,
			 const struct vnvme_bench_result *r, int ret)
{
	if (cli->json) {
		printf("{\"test\":\"%s\",\"rw\":\"%s\",\"bs\":%u,\"qd\":%u,\"queues\":%" PRIu64 ","
		       "\"irq\":%s,\"doorbells\":\"%s\",\"shadow_doorbells\":%s,\"status\":%d,\"seconds\":%.6f,\"ios\":%" PRIu64 ",\"bytes\":%" PRIu64 ","
		       "\"iops\":%.1f,\"mbps\":%.3f,"
		       "\"lat_us\":{\"avg\":%.3f,\"min\":%.3f,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
		       "\"cpu\":{\"user_s\":%.6f,\"sys_s\":%.6f,\"us_per_io\":%.3f,"
		       "\"host_s\":%.3f,\"host_us_per_io\":%.3f}}\n",
		       what, vnvme_rw_name(opts->rw), opts->bs, opts->qd, cli->queues,
		       cli->irq ? "true" : "false",
		       cli->mapped_doorbells ? "mapped" : "trapped",
		       cli->shadow_doorbells ? "true" : "false", ret, r->seconds, r->ios, r->bytes,
		       r->iops, r->mbps, r->lat_avg_us, r->lat_min_us, r->lat_p50_us,
		       r->lat_p99_us, r->lat_max_us, r->cpu_user_s, r->cpu_sys_s,
		       r->cpu_us_per_io, r->host_cpu_s, r->host_cpu_us_per_io);
		return;
	}
	printf("%s: %s bs=%u qd=%u queues=%" PRIu64 " %s, %s%s doorbells\n", what,
	       vnvme_rw_name(opts->rw), opts->bs, opts->qd, cli->queues,
	       cli->irq ? "irq" : "polled", cli->mapped_doorbells ? "mapped" : "trapped",
	       cli->shadow_doorbells ? " shadow" : "");
	printf("  ios %" PRIu64 " in %.3f s: %.1f IOPS, %.2f MB/s\n", r->ios, r->seconds,
	       r->iops, r->mbps);
	printf("  latency us: avg %.1f min %.1f p50 %.1f p99 %.1f max %.1f\n", r->lat_avg_us,
	       r->lat_min_us, r->lat_p50_us, r->lat_p99_us, r->lat_max_us);
	printf("  cpu: user %.3f s sys %.3f s (%.2f us/io); host busy %.3f s (%.2f us/io)\n",
	       r->cpu_user_s, r->cpu_sys_s, r->cpu_us_per_io, r->host_cpu_s,
	       r->host_cpu_us_per_io);
}

static int workload_setup(struct session *s, const struct cli *cli, struct vnvme_ns *ns)
{
	uint64_t nsid;
	int ret;

	if (!arg_u64(cli, 0, "NSID", UINT32_MAX, &nsid))
		return EXIT_USAGE;
	ret = session_enable(s, cli, (unsigned int)cli->queues);
	if (!ret)
		ret = session_create_queues(s, cli, (unsigned int)cli->queues, 1,
					    (unsigned int)(cli->qd < 31 ? 32 : cli->qd + 1));
	if (!ret)
		ret = session_ns(s, (uint32_t)nsid, ns);
	return ret;
}

static int cmd_bench(struct session *s, const struct cli *cli)
{
	struct vnvme_bench_opts opts = {
		.rw = cli->rw,
		.bs = (uint32_t)cli->bs,
		.qd = (unsigned int)cli->qd,
		.seconds = cli->seconds,
		.ios = cli->ios,
		.slba = cli->slba,
		.nlb = cli->lba_count,
		.seed = cli->seed,
		.verify = cli->verify,
	};
	struct vnvme_bench_result res;
	struct vnvme_ns ns;
	int ret;

	if (!cli->seconds && !cli->ios)
		return usage_error("bench: give --seconds or --ios");
	ret = workload_setup(s, cli, &ns);
	if (ret)
		return ret;
	ret = vnvme_bench(&ns, s->io_queues, s->nr_io_queues, &opts, &res);
	print_result(cli, "bench", &opts, &res, ret);
	return report(ret, "bench");
}

static int cmd_verify_io(struct session *s, const struct cli *cli)
{
	struct vnvme_bench_opts opts = {
		.rw = VNVME_RW_READ,
		.bs = (uint32_t)cli->bs,
		.qd = (unsigned int)cli->qd,
	};
	struct vnvme_bench_result res;
	struct vnvme_ns ns;
	int ret;

	if (!cli->lba_count)
		return usage_error("verify-io: --lba-count is required");
	ret = workload_setup(s, cli, &ns);
	if (ret)
		return ret;
	ret = vnvme_verify_range(&ns, s->io_queues, s->nr_io_queues, cli->slba,
				 cli->lba_count, (uint32_t)cli->bs, (unsigned int)cli->qd,
				 cli->seed, &res);
	if (cli->json) {
		print_result(cli, "verify-io", &opts, &res, ret);
	} else if (!ret) {
		printf("verify-io: %" PRIu64 " blocks from LBA %" PRIu64 " written and read back "
		       "intact on %u queue(s) at qd %u\n", cli->lba_count, cli->slba,
		       s->nr_io_queues, opts.qd);
	}
	return report(ret, "verify-io");
}

/* ------------------------------------------------------------------------ */
/* fuzz                                                                      */
/* ------------------------------------------------------------------------ */

static int cmd_fuzz(struct session *s, const struct cli *cli)
{
	struct vnvme_fuzz_opts opts = {
		.seed = cli->seed,
		.ops = cli->ops,
		.seconds = cli->seconds,
		.check_every = (unsigned int)cli->check_every,
		.ns_toggle = cli->ns_toggle,
		.chaos_thread = cli->chaos,
		.verbose = cli->verbose,
	};
	struct vnvme_fuzz_result res;
	uint64_t nsid;
	unsigned int k;
	int ret;

	if (!arg_u64(cli, 0, "NSID", UINT32_MAX, &nsid))
		return EXIT_USAGE;
	if (!cli->ops && !cli->seconds)
		return usage_error("fuzz: give --ops or --seconds");
	opts.nsid = (uint32_t)nsid;
	ret = vnvme_fuzz(s->dev, &opts, &res);
	if (cli->json) {
		printf("{\"test\":\"fuzz\",\"seed\":%" PRIu64 ",\"status\":%d,\"seconds\":%.3f,"
		       "\"ops\":%" PRIu64 ",\"by_kind\":{", cli->seed, ret, res.seconds, res.ops);
		for (k = 0; k < VNVME_FUZZ_NR_KINDS; k++)
			printf("%s\"%s\":%" PRIu64, k ? "," : "", vnvme_fuzz_kind_name(k),
			       res.by_kind[k]);
		printf("},\"commands\":%" PRIu64 ",\"completions\":%" PRIu64
		       ",\"error_statuses\":%" PRIu64 ",\"timeouts\":%" PRIu64 ",\"reinits\":%" PRIu64
		       ",\"fatal_seen\":%" PRIu64 ",\"health_checks\":%" PRIu64
		       ",\"verified_ios\":%" PRIu64 ",\"recovered\":%" PRIu64 ",\"chaos_ops\":%" PRIu64
		       ",\"reinit_s\":%.3f,\"failed_op\":%" PRIu64 ",\"failure\":\"",
		       res.commands, res.completions, res.error_statuses, res.timeouts, res.reinits,
		       res.fatal_seen, res.health_checks, res.verified_ios, res.recovered,
		       res.chaos_ops, res.reinit_ns / 1e9, res.failed_op);
		for (const char *c = res.failure; *c; c++)
			printf(*c == '"' || *c == '\\' ? "\\%c" : (unsigned char)*c < 0x20 ? "?" : "%c", *c);
		printf("\"}\n");
	} else {
		printf("fuzz: seed %" PRIu64 ": %" PRIu64 " operations in %.1f s (%.0f/s)\n",
		       cli->seed, res.ops, res.seconds, res.seconds > 0 ? res.ops / res.seconds : 0.0);
		for (k = 0; k < VNVME_FUZZ_NR_KINDS; k++)
			printf("  %-18s %8" PRIu64 "  %7.1f s\n", vnvme_fuzz_kind_name(k),
			       res.by_kind[k], res.ns_by_kind[k] / 1e9);
		printf("  hostile commands %" PRIu64 " (completed %" PRIu64 ", error status %" PRIu64
		       ", timed out %" PRIu64 ")\n", res.commands, res.completions,
		       res.error_statuses, res.timeouts);
		printf("  re-initialisations %" PRIu64 ", fatal status seen %" PRIu64
		       ", health checks %" PRIu64 ", verified I/Os %" PRIu64 " (%" PRIu64
		       " recovered by a re-init), chaos thread operations %" PRIu64 "\n",
		       res.reinits, res.fatal_seen, res.health_checks, res.verified_ios,
		       res.recovered, res.chaos_ops);
		printf("  time re-initialising %.1f s\n", res.reinit_ns / 1e9);
		if (res.failure[0])
			printf("  FAILED at operation %" PRIu64 ": %s\n", res.failed_op, res.failure);
	}
	return report(ret, "fuzz");
}

/* ------------------------------------------------------------------------ */
/* reg / cfg: raw register access                                            */
/* ------------------------------------------------------------------------ */

static int cmd_raw_region(struct session *s, const struct cli *cli, bool config)
{
	uint64_t off, val = 0, size = cli->size ? cli->size : 4;
	bool is_write;
	int ret;

	if (!strcmp(cli->args[0], "read"))
		is_write = false;
	else if (!strcmp(cli->args[0], "write"))
		is_write = true;
	else
		return usage_error("%s: read or write, not '%s'", cli->command, cli->args[0]);
	if (cli->nargs != (is_write ? 3 : 2))
		return usage_error("%s %s: wrong number of arguments", cli->command, cli->args[0]);
	if (config && size == 8)
		return usage_error("cfg: --size 8 is not a config-space access size");
	if (!arg_u64(cli, 1, "OFF", UINT32_MAX, &off) ||
	    (is_write && !arg_u64(cli, 2, "VALUE", size == 8 ? UINT64_MAX :
				   (1ull << (8 * size)) - 1, &val)))
		return EXIT_USAGE;
	if (is_write)
		ret = config ? vnvme_cfg_write(s->dev, off, &val, size) :
			       vnvme_bar_write(s->dev, off, &val, size);
	else
		ret = config ? vnvme_cfg_read(s->dev, off, &val, size) :
			       vnvme_bar_read(s->dev, off, &val, size);
	if (ret) {
		fprintf(stderr, "vnvme-vfio: %s %s at 0x%" PRIx64 " (%" PRIu64 " bytes): %s\n",
			cli->command, cli->args[0], off, size, strerror(-ret));
		return EXIT_SYSTEM;
	}
	if (!is_write)
		printf("0x%0*" PRIx64 "\n", (int)(2 * size), val);
	return EXIT_OK;
}

static int cmd_reg(struct session *s, const struct cli *cli)
{
	return cmd_raw_region(s, cli, false);
}

static int cmd_cfg(struct session *s, const struct cli *cli)
{
	return cmd_raw_region(s, cli, true);
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int min_args, max_args;
		unsigned int opts;	/* OPT_BIT()s allowed besides GLOBAL_OPTS */
		int (*run)(struct session *s, const struct cli *cli);
	} commands[] = {
		{ "info", 0, 0, OPT_BIT(OPT_JSON), cmd_info },
		{ "id-ctrl", 0, 0, 0, cmd_id_ctrl },
		{ "id-ns", 1, 1, 0, cmd_id_ns },
		{ "read", 3, 4, 0, cmd_read },
		{ "write", 4, 4, 0, cmd_write },
		{ "verify-io", 1, 1, WORKLOAD_OPTS, cmd_verify_io },
		{ "raw", 1, 1, OPT_BIT(OPT_ADMIN) | OPT_BIT(OPT_QID) | OPT_BIT(OPT_DATA_IN) |
			       OPT_BIT(OPT_DATA_OUT), cmd_raw },
		{ "bench", 1, 1, WORKLOAD_OPTS | OPT_BIT(OPT_RW) | OPT_BIT(OPT_SECONDS) |
				 OPT_BIT(OPT_IOS) | OPT_BIT(OPT_VERIFY), cmd_bench },
		{ "fuzz", 1, 1, OPT_BIT(OPT_OPS) | OPT_BIT(OPT_SECONDS) | OPT_BIT(OPT_SEED) |
				OPT_BIT(OPT_CHECK_EVERY) | OPT_BIT(OPT_NS_TOGGLE) |
				OPT_BIT(OPT_CHAOS) | OPT_BIT(OPT_VERBOSE) | OPT_BIT(OPT_JSON),
		  cmd_fuzz },
		{ "reg", 2, 3, OPT_BIT(OPT_SIZE), cmd_reg },
		{ "cfg", 2, 3, OPT_BIT(OPT_SIZE), cmd_cfg },
	};
	struct session session;
	struct cli cli;
	size_t i;
	int ret;

	ret = parse_args(argc, argv, &cli);
	if (ret)
		return ret;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cli.command, commands[i].name))
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		return usage_error("unknown command '%s'", cli.command);
	ret = check_command_args(&cli, commands[i].min_args, commands[i].max_args,
				 commands[i].opts);
	if (ret)
		return ret;

	/* The fuzzer unmaps and maps pieces of its DMA memory. */
	if (!strcmp(cli.command, "fuzz") && !cli.open_opts.map_chunk) {
		if (!cli.open_opts.arena_size)
			cli.open_opts.arena_size = 32u << 20;
		cli.open_opts.map_chunk = 256u << 10;
	}
	ret = session_open(&session, &cli);
	if (ret)
		return ret;
	ret = commands[i].run(&session, &cli);
	fflush(stdout);
	session_close(&session);
	return ret;
}
