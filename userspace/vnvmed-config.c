// SPDX-License-Identifier: GPL-2.0
/*
 * vnvmed-config.c - parser of the vnvmed instance files (vnvme.conf(5)).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnvmed-config.h"

struct parser {
	const char	*path;
	unsigned int	line;
	char		*err;
	size_t		errlen;
	bool		failed;
};

static void __attribute__((format(printf, 2, 3)))
fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return;
	p->failed = true;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->path, p->line);
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen > (size_t)n ? p->errlen - n : 0, fmt, ap);
	va_end(ap);
}

static int parse_bool(const char *v)
{
	if (!strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
	    !strcasecmp(v, "on") || !strcasecmp(v, "y"))
		return 1;
	if (!strcmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "false") ||
	    !strcasecmp(v, "off") || !strcasecmp(v, "n"))
		return 0;
	return -1;
}

/* The NVMe identity fields are printable ASCII; the kernel checks the same. */
static bool printable(const char *v, size_t max)
{
	size_t n = strlen(v);

	if (!n || n > max)
		return false;
	for (; *v; v++)
		if (*v < 0x20 || *v > 0x7e)
			return false;
	return true;
}

static bool type_name_ok(const char *v)
{
	const char *s;

	if (strncmp(v, VN_PARENT "-", strlen(VN_PARENT) + 1) ||
	    strlen(v) >= 64 || !v[strlen(VN_PARENT) + 1])
		return false;
	for (s = v; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_'))
			return false;
	return true;
}

/* Bit per key, to refuse repeated keys. */
struct seen {
	bool		uuid, type, start, serial, model, firmware, mdts;
	bool		path[VN_MAX_NS + 1], ro[VN_MAX_NS + 1], en[VN_MAX_NS + 1];
};

static bool once(struct parser *p, bool *flag, const char *key)
{
	if (*flag) {
		fail(p, "'%s' is given twice", key);
		return false;
	}
	*flag = true;
	return true;
}

/* An identity string: its buffer (of size bytes) bounds it as the NVMe field does. */
static void parse_ident(struct parser *p, bool *seen, const char *key,
			const char *val, char *out, size_t size, bool *has)
{
	if (!once(p, seen, key))
		return;
	if (!printable(val, size - 1)) {
		fail(p, "%s must be 1-%zu printable ASCII characters", key, size - 1);
		return;
	}
	*has = true;
	snprintf(out, size, "%s", val);
}

static void parse_pair(struct parser *p, struct seen *seen,
		       struct vnc_instance *in, const char *key,
		       const char *val)
{
	const char *name;
	int nsid, b;
	char *end;
	long v;

	if (!strcmp(key, "uuid")) {
		if (!once(p, &seen->uuid, key))
			return;
		if (!vn_uuid_valid(val)) {
			fail(p, "'%s' is not a UUID", val);
			return;
		}
		snprintf(in->uuid, sizeof(in->uuid), "%s", val);
		for (end = in->uuid; *end; end++)
			if (*end >= 'A' && *end <= 'F')
				*end = (char)(*end - 'A' + 'a');
		in->uuid_line = p->line;
	} else if (!strcmp(key, "type") || !strcmp(key, "mdev_type")) {
		if (!once(p, &seen->type, "type"))
			return;
		if (!type_name_ok(val)) {
			fail(p, "'%s' is not a vnvme type (vnvme-small, vnvme-medium, vnvme-large)",
			     val);
			return;
		}
		snprintf(in->type, sizeof(in->type), "%s", val);
	} else if (!strcmp(key, "start")) {
		if (!once(p, &seen->start, key))
			return;
		if (!strcmp(val, "auto"))
			in->manual = false;
		else if (!strcmp(val, "manual"))
			in->manual = true;
		else
			fail(p, "start is 'auto' or 'manual', not '%s'", val);
	} else if (!strcmp(key, "vnvme/serial")) {
		parse_ident(p, &seen->serial, key, val, in->serial, sizeof(in->serial),
			    &in->has_serial);
	} else if (!strcmp(key, "vnvme/model")) {
		parse_ident(p, &seen->model, key, val, in->model, sizeof(in->model),
			    &in->has_model);
	} else if (!strcmp(key, "vnvme/firmware")) {
		parse_ident(p, &seen->firmware, key, val, in->firmware,
			    sizeof(in->firmware), &in->has_firmware);
	} else if (!strcmp(key, "vnvme/mdts")) {
		if (!once(p, &seen->mdts, key))
			return;
		v = strtol(val, &end, 0);
		if (!*val || *end || v < 1 || v > 8) {
			fail(p, "vnvme/mdts must be 1-8, not '%s'", val);
			return;
		}
		in->mdts = (int)v;
	} else if (!strncmp(key, "vnvme/", 6)) {
		fail(p, "'%s' cannot be set (settable: vnvme/serial, vnvme/model, vnvme/firmware, vnvme/mdts)",
		     key);
	} else if (!strncmp(key, "ns", 2) && (nsid = vn_ns_attr_split(key, &name)) > 0) {
		struct vnc_ns *ns = &in->ns[nsid];

		ns->used = true;
		if (!strcmp(name, "device_path")) {
			if (!once(p, &seen->path[nsid], key))
				return;
			if (val[0] != '/') {
				fail(p, "%s must be an absolute path, not '%s'", key, val);
				return;
			}
			if (strlen(val) >= sizeof(ns->device_path)) {
				fail(p, "%s is too long", key);
				return;
			}
			ns->has_path = true;
			snprintf(ns->device_path, sizeof(ns->device_path), "%s", val);
		} else if (!strcmp(name, "readonly") || !strcmp(name, "enable")) {
			bool ro = name[0] == 'r';

			if (!once(p, ro ? &seen->ro[nsid] : &seen->en[nsid], key))
				return;
			b = parse_bool(val);
			if (b < 0) {
				fail(p, "%s takes 0 or 1, not '%s'", key, val);
				return;
			}
			if (ro) {
				ns->readonly = b;
			} else {
				ns->enable = b;
				ns->enable_line = p->line;
			}
		} else {
			fail(p, "unknown namespace attribute '%s' (known: device_path, readonly, enable)",
			     key);
		}
	} else if (!strncmp(key, "ns", 2) && strchr(key, '/')) {
		fail(p, "'%s': namespaces are ns1 to ns%d", key, VN_MAX_NS);
	} else {
		fail(p, "unknown key '%s'", key);
	}
}

/* Splits "key = value"; values may be double-quoted to keep blanks. */
static int split_line(struct parser *p, char *line, char **key, char **val)
{
	char *eq = strchr(line, '=');
	size_t n;

	if (!eq) {
		fail(p, "expected 'key = value'");
		return -1;
	}
	*eq = '\0';
	*key = vn_rtrim(vn_ltrim(line));
	*val = vn_rtrim(vn_ltrim(eq + 1));
	if (!**key) {
		fail(p, "missing key before '='");
		return -1;
	}
	n = strlen(*val);
	if (n && (*val)[0] == '"') {
		if (n < 2 || (*val)[n - 1] != '"') {
			fail(p, "unterminated quoted value");
			return -1;
		}
		(*val)[n - 1] = '\0';
		(*val)++;
	}
	if (!**val) {
		fail(p, "'%s' has an empty value", *key);
		return -1;
	}
	return 0;
}

int vnc_parse_file(const char *path, struct vnc_instance *out, char *err,
		   size_t errlen)
{
	struct parser p = { .path = path, .err = err, .errlen = errlen };
	struct seen seen = { 0 };
	char *line = NULL, *key, *val, *s;
	size_t cap = 0;
	unsigned int n;
	ssize_t len;
	FILE *f;

	memset(out, 0, sizeof(*out));
	snprintf(out->file, sizeof(out->file), "%s", path);
	out->mdts = -1;
	for (n = 0; n <= VN_MAX_NS; n++) {
		out->ns[n].readonly = -1;
		out->ns[n].enable = -1;
	}
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	while (!p.failed && (len = getline(&line, &cap, f)) >= 0) {
		p.line++;
		if ((size_t)len != strlen(line)) {
			fail(&p, "NUL byte in line");
			break;
		}
		s = vn_rtrim(vn_ltrim(line));
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (split_line(&p, s, &key, &val))
			break;
		parse_pair(&p, &seen, out, key, val);
	}
	free(line);
	fclose(f);
	if (p.failed)
		return -1;
	/* Whole-file rules are reported at the end of the file. */
	p.line++;
	if (!seen.uuid)
		fail(&p, "missing 'uuid = ...'");
	else if (!seen.type)
		fail(&p, "missing 'type = ...' (vnvme-small, vnvme-medium, vnvme-large)");
	for (n = 1; n <= VN_MAX_NS && !p.failed; n++) {
		if (out->ns[n].enable == 1 && !out->ns[n].has_path) {
			p.line = out->ns[n].enable_line;
			fail(&p, "ns%u/enable = 1 needs ns%u/device_path", n, n);
		}
	}
	return p.failed ? -1 : 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && name[0] != '.' && !strcmp(name + n - 5, ".conf");
}

int vnc_load_dir(const char *dir, struct vnc_instance **out, size_t *nr,
		 char (**bad)[PATH_MAX], size_t *nbad, vnc_report_fn report,
		 void *arg)
{
	struct vnc_instance *v = NULL, *t;
	char (*b)[PATH_MAX] = NULL, (*tb)[PATH_MAX];
	char **names = NULL, **tn, path[PATH_MAX], msg[PATH_MAX * 2 + 128];
	size_t n = 0, nb = 0, nn = 0, i, k;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*nr = 0;
	*bad = NULL;
	*nbad = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!is_conf(de->d_name))
			continue;
		tn = realloc(names, (nn + 1) * sizeof(*names));
		if (!tn)
			goto nomem;
		names = tn;
		names[nn] = strdup(de->d_name);
		if (!names[nn])
			goto nomem;
		nn++;
	}
	closedir(d);
	d = NULL;
	if (nn)
		qsort(names, nn, sizeof(*names), cmp_name);

	for (i = 0; i < nn; i++) {
		struct vnc_instance in;
		bool dup = false;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (vnc_parse_file(path, &in, msg, sizeof(msg)) == 0) {
			for (k = 0; k < n; k++) {
				if (strcmp(v[k].uuid, in.uuid))
					continue;
				snprintf(msg, sizeof(msg), "%s:%u: uuid %s is already defined in %s",
					 path, in.uuid_line, in.uuid, v[k].file);
				dup = true;
				break;
			}
			if (!dup) {
				t = realloc(v, (n + 1) * sizeof(*v));
				if (!t)
					goto nomem;
				v = t;
				v[n++] = in;
				continue;
			}
		}
		if (report)
			report(msg, arg);
		tb = realloc(b, (nb + 1) * sizeof(*b));
		if (!tb)
			goto nomem;
		b = tb;
		snprintf(b[nb++], PATH_MAX, "%s", path);
	}
	for (i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	*out = v;
	*nr = n;
	*bad = b;
	*nbad = nb;
	return 0;

nomem:
	if (d)
		closedir(d);
	for (i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	free(v);
	free(b);
	return -ENOMEM;
}

bool vnc_ns_equal(const struct vnc_ns *a, const struct vnc_ns *b)
{
	if (a->used != b->used || a->has_path != b->has_path ||
	    vnc_ns_enabled(a) != vnc_ns_enabled(b) ||
	    (a->readonly == 1) != (b->readonly == 1))
		return false;
	return !a->has_path || !strcmp(a->device_path, b->device_path);
}

bool vnc_ident_equal(const struct vnc_instance *a, const struct vnc_instance *b)
{
	return !strcmp(a->type, b->type) && a->manual == b->manual &&
	       a->has_serial == b->has_serial && !strcmp(a->serial, b->serial) &&
	       a->has_model == b->has_model && !strcmp(a->model, b->model) &&
	       a->has_firmware == b->has_firmware &&
	       !strcmp(a->firmware, b->firmware) && a->mdts == b->mdts;
}
