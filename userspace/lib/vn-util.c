// SPDX-License-Identifier: GPL-2.0
/*
 * vn-util.c - exit codes, UUIDs, NVMe status names, JSON writer.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include "vn-util.h"

int vn_exit_code(int err)
{
	switch (err) {
	case 0:
		return VN_EXIT_OK;
	case ENOENT:
	case ENODEV:
	case ENXIO:
	case ENOTBLK:
		return VN_EXIT_NOTFOUND;
	case EPERM:
	case EACCES:
		return VN_EXIT_PERM;
	case EBUSY:
		return VN_EXIT_BUSY;
	default:
		return VN_EXIT_FAIL;
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int vn_uuid_parse(const char *s, uint8_t out[VN_UUID_LEN])
{
	unsigned int i, n = 0;

	if (strlen(s) != 36)
		return -EINVAL;
	for (i = 0; i < 36; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return n == VN_UUID_LEN ? 0 : -EINVAL;
}

bool vn_uuid_valid(const char *s)
{
	uint8_t u[VN_UUID_LEN];

	return vn_uuid_parse(s, u) == 0;
}

void vn_uuid_unparse(const uint8_t u[VN_UUID_LEN], char out[VN_UUID_STRLEN])
{
	snprintf(out, VN_UUID_STRLEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

int vn_uuid_generate(char out[VN_UUID_STRLEN])
{
	uint8_t u[VN_UUID_LEN];

	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u))
		return -errno;
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	vn_uuid_unparse(u, out);
	return 0;
}

static const struct {
	uint16_t status;
	const char *name;
} vn_status_names[] = {
	{ 0x000, "Other" },
	{ 0x001, "Invalid Command Opcode" },
	{ 0x002, "Invalid Field in Command" },
	{ 0x003, "Command ID Conflict" },
	{ 0x004, "Data Transfer Error" },
	{ 0x006, "Internal Error" },
	{ 0x007, "Command Abort Requested" },
	{ 0x008, "Command Aborted due to SQ Deletion" },
	{ 0x00b, "Invalid Namespace or Format" },
	{ 0x00c, "Command Sequence Error" },
	{ 0x00e, "Invalid Number of SGL Descriptors" },
	{ 0x00f, "Data SGL Length Invalid" },
	{ 0x011, "SGL Descriptor Type Invalid" },
	{ 0x013, "PRP Offset Invalid" },
	{ 0x016, "SGL Offset Invalid" },
	{ 0x020, "Namespace is Write Protected" },
	{ 0x080, "LBA Out of Range" },
	{ 0x081, "Capacity Exceeded" },
	{ 0x082, "Namespace Not Ready" },
	{ 0x100, "Completion Queue Invalid" },
	{ 0x101, "Invalid Queue Identifier" },
	{ 0x102, "Invalid Queue Size" },
	{ 0x103, "Abort Command Limit Exceeded" },
	{ 0x105, "Asynchronous Event Request Limit Exceeded" },
	{ 0x108, "Invalid Interrupt Vector" },
	{ 0x109, "Invalid Log Page" },
	{ 0x10c, "Invalid Queue Deletion" },
	{ 0x10d, "Feature Identifier Not Saveable" },
	{ 0x10e, "Feature Not Changeable" },
	{ 0x182, "Attempted Write to Read Only Range" },
	{ 0x280, "Write Fault" },
	{ 0x281, "Unrecovered Read Error" },
	{ 0x285, "Compare Failure" },
	{ 0x286, "Access Denied" },
};

const char *vn_nvme_status_name(uint16_t status)
{
	size_t i;

	status &= 0x7ff;
	for (i = 0; i < sizeof(vn_status_names) / sizeof(vn_status_names[0]); i++)
		if (vn_status_names[i].status == status)
			return vn_status_names[i].name;
	return "Unknown Status";
}

void vn_fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

static void fmt_us(uint64_t us, char *buf, size_t len)
{
	if (us < 1000)
		snprintf(buf, len, "%lluus", (unsigned long long)us);
	else if (us < 1000000)
		snprintf(buf, len, "%.3gms", us / 1000.0);
	else
		snprintf(buf, len, "%.3gs", us / 1000000.0);
}

void vn_fmt_lat_bucket(unsigned int i, unsigned int nr, char *buf, size_t len)
{
	char lo[16], hi[16];

	if (i == 0) {
		snprintf(buf, len, "<1us");
		return;
	}
	fmt_us(1ULL << (i - 1), lo, sizeof(lo));
	if (i + 1 >= nr) {
		snprintf(buf, len, ">=%s", lo);
		return;
	}
	fmt_us(1ULL << i, hi, sizeof(hi));
	snprintf(buf, len, "%s-%s", lo, hi);
}

char *vn_rtrim(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

char *vn_ltrim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* ---- JSON --------------------------------------------------------------- */

void vn_json_init(struct vn_json *j, FILE *out, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->pretty = pretty;
}

static void json_indent(struct vn_json *j)
{
	int i;

	if (!j->pretty)
		return;
	fputc('\n', j->out);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

static void json_escape(FILE *out, const char *s)
{
	/* The characters with a short escape, and the letter after the backslash. */
	static const char special[] = "\"\\\n\t\r", letter[] = "\"\\ntr";
	const char *e;

	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		e = strchr(special, c);
		if (e)
			fprintf(out, "\\%c", letter[e - special]);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_key(struct vn_json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	j->need_comma[j->depth] = true;
	if (j->depth)
		json_indent(j);
	if (key) {
		json_escape(j->out, key);
		fputs(j->pretty ? ": " : ":", j->out);
	}
}

static void json_open(struct vn_json *j, const char *key, char c)
{
	json_key(j, key);
	fputc(c, j->out);
	if (j->depth < 31)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void json_close(struct vn_json *j, char c)
{
	bool had = j->need_comma[j->depth];

	if (j->depth)
		j->depth--;
	if (had)
		json_indent(j);
	fputc(c, j->out);
}

void vn_json_obj_open(struct vn_json *j, const char *key)
{
	json_open(j, key, '{');
}

void vn_json_obj_close(struct vn_json *j)
{
	json_close(j, '}');
}

void vn_json_arr_open(struct vn_json *j, const char *key)
{
	json_open(j, key, '[');
}

void vn_json_arr_close(struct vn_json *j)
{
	json_close(j, ']');
}

void vn_json_str(struct vn_json *j, const char *key, const char *val)
{
	json_key(j, key);
	if (val)
		json_escape(j->out, val);
	else
		fputs("null", j->out);
}

void vn_json_u64(struct vn_json *j, const char *key, uint64_t val)
{
	json_key(j, key);
	fprintf(j->out, "%llu", (unsigned long long)val);
}

void vn_json_double(struct vn_json *j, const char *key, double val)
{
	json_key(j, key);
	fprintf(j->out, "%.3f", val);
}

void vn_json_bool(struct vn_json *j, const char *key, bool val)
{
	json_key(j, key);
	fputs(val ? "true" : "false", j->out);
}

void vn_json_null(struct vn_json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->out);
}

void vn_json_end(struct vn_json *j)
{
	fputc('\n', j->out);
	fflush(j->out);
	j->depth = 0;
	j->need_comma[0] = false;
}
