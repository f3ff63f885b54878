/*
 * cgroup limits, for the defaults of -j (the CPU quota) and -M (the
 * memory limit): in a container or a batch-system task, the host's CPU
 * count and RAM are not what this process may use.
 *
 * Where our group lives: /proc/self/cgroup names it per hierarchy
 * ("0::/path" for v2, "4:memory:/path" for v1), and /proc/self/mountinfo
 * says where each hierarchy is mounted and which of its directories the
 * mount shows (a container without its own cgroup namespace sees
 * "/docker/abc" in the first and has that directory mounted as its
 * /sys/fs/cgroup/memory).  The directory is the mount point plus the
 * part of the path below the mount's root.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"

/* v1 reports "no limit" as the largest page-aligned signed value */
#define CG_UNLIMITED (1ULL << 62)

/* Undo mountinfo's octal escapes ("\040" for a space), in place. */
static void
unescape(char *s)
{
	char *out = s;

	for (; *s; s++, out++)
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else
			*out = *s;
	*out = '\0';
}

/* Does the comma-separated `list` hold `word`? */
static int
has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list;; p++) {
		if (!strncmp(p, word, n) && (p[n] == ',' || p[n] == '\0'))
			return 1;
		if (!(p = strchr(p, ',')))
			return 0;
	}
}

/* Our group's path in the hierarchy of `controller` (v1), or in the
 * unified hierarchy when `controller` is NULL. */
static int
group_path(const char *root, const char *controller, char *path, size_t len)
{
	char file[PATH_MAX], *line = NULL;
	size_t cap = 0;
	int found = -1;
	FILE *f;

	snprintf(file, sizeof(file), "%s/proc/self/cgroup", root);
	if (!(f = fopen(file, "r")))
		return -1;
	while (found && getline(&line, &cap, f) > 0) {
		char *ctrls = strchr(line, ':'), *group;

		if (!ctrls || !(group = strchr(ctrls + 1, ':')))
			continue;
		*ctrls++ = '\0';
		*group++ = '\0';
		group[strcspn(group, "\n")] = '\0';
		if (controller ? has_word(ctrls, controller)
			       : !strcmp(line, "0") && !*ctrls)
			found = snprintf(path, len, "%s", group) < (int)len ? 0 : -1;
	}
	free(line);
	fclose(f);
	return found;
}

/* The directory of our group for `controller` (NULL: v2) into dir; *top
 * is the length of its mount point's part, above which the walk up to
 * the ancestors stops. */
static int
group_dir(const char *root, const char *controller, char *dir, size_t len,
	  size_t *top)
{
	char group[PATH_MAX], file[PATH_MAX], *line = NULL;
	size_t cap = 0;
	int found = -1;
	FILE *f;

	if (group_path(root, controller, group, sizeof(group)))
		return -1;
	snprintf(file, sizeof(file), "%s/proc/self/mountinfo", root);
	if (!(f = fopen(file, "r")))
		return -1;
	while (found && getline(&line, &cap, f) > 0) {
		char *field[64], *save = NULL, *tok;
		int n = 0, dash = -1;

		for (tok = strtok_r(line, " \n", &save); tok && n < 64;
		     tok = strtok_r(NULL, " \n", &save)) {
			if (dash < 0 && !strcmp(tok, "-"))
				dash = n;
			field[n++] = tok;
		}
		/* id parent dev root mountpoint ... - fstype source options */
		if (dash < 5 || dash + 3 >= n)
			continue;
		if (controller ? strcmp(field[dash + 1], "cgroup") ||
				 !has_word(field[dash + 3], controller)
			       : strcmp(field[dash + 1], "cgroup2"))
			continue;

		const char *rel = group;
		size_t rlen;

		unescape(field[3]);	/* the directory the mount shows */
		unescape(field[4]);	/* where it is mounted */
		rlen = strlen(field[3]);
		if (strcmp(field[3], "/"))
			rel = !strncmp(group, field[3], rlen) &&
			      (group[rlen] == '/' || group[rlen] == '\0')
				? group + rlen
				: "";	/* outside what the mount shows */
		if (!strcmp(rel, "/"))
			rel = "";
		*top = (size_t)snprintf(dir, len, "%s%s", root, field[4]);
		if (*top >= len ||
		    (size_t)snprintf(dir, len, "%s%s%s", root, field[4], rel) >= len)
			continue;
		found = 0;
	}
	free(line);
	fclose(f);
	return found;
}

/* The first line of dir/name into buf, without its newline. */
static int
read_line(const char *dir, const char *name, char *buf, size_t len)
{
	char file[PATH_MAX];
	FILE *f;
	int ret = -1;

	if ((size_t)snprintf(file, sizeof(file), "%s/%s", dir, name) >= sizeof(file) ||
	    !(f = fopen(file, "r")))
		return -1;
	if (fgets(buf, (int)len, f)) {
		buf[strcspn(buf, "\n")] = '\0';
		ret = 0;
	}
	fclose(f);
	return ret;
}

/* Go up one level, not above the mount point; 0 if there was one. */
static int
parent(char *dir, size_t top)
{
	char *slash = strrchr(dir, '/');

	if (strlen(dir) <= top || !slash || (size_t)(slash - dir) < top)
		return -1;
	*slash = '\0';
	return 0;
}

uint64_t
cgroup_memory_limit(const char *root)
{
	static const struct {
		const char *controller, *file;
	} tree[] = {
		{ NULL, "memory.max" },
		{ "memory", "memory.limit_in_bytes" },
	};
	uint64_t limit = 0;

	if (!root)
		root = "";
	for (size_t t = 0; t < sizeof(tree) / sizeof(tree[0]); t++) {
		char dir[PATH_MAX], buf[64];
		size_t top;

		if (group_dir(root, tree[t].controller, dir, sizeof(dir), &top))
			continue;
		do {
			unsigned long long v;

			/* "max" (v2) fails the scan: no limit at this level */
			if (read_line(dir, tree[t].file, buf, sizeof(buf)) ||
			    sscanf(buf, "%llu", &v) != 1 || v >= CG_UNLIMITED)
				continue;
			if (!limit || v < limit)
				limit = v;
		} while (!parent(dir, top));
	}
	return limit;
}

/* The quota of one level in CPUs, or 0 when it has none. */
static double
cpu_quota(const char *dir, int v1)
{
	char buf[64];
	long long quota, period;

	if (!v1)
		return !read_line(dir, "cpu.max", buf, sizeof(buf)) &&
		       sscanf(buf, "%lld %lld", &quota, &period) == 2 &&
		       quota > 0 && period > 0 ? (double)quota / period : 0;
	if (read_line(dir, "cpu.cfs_quota_us", buf, sizeof(buf)) ||
	    sscanf(buf, "%lld", &quota) != 1 || quota <= 0 ||
	    read_line(dir, "cpu.cfs_period_us", buf, sizeof(buf)) ||
	    sscanf(buf, "%lld", &period) != 1 || period <= 0)
		return 0;
	return (double)quota / period;
}

int
cgroup_cpu_limit(const char *root)
{
	double limit = 0;

	if (!root)
		root = "";
	for (int v1 = 0; v1 <= 1; v1++) {
		char dir[PATH_MAX];
		size_t top;

		if (group_dir(root, v1 ? "cpu" : NULL, dir, sizeof(dir), &top))
			continue;
		do {
			double q = cpu_quota(dir, v1);

			if (q > 0 && (limit == 0 || q < limit))
				limit = q;
		} while (!parent(dir, top));
	}
	/* a quota of 1.5 CPUs still keeps two threads busy part of the time */
	return (int)limit + (limit > (int)limit);
}

int
oom_count_read(const char *root, struct oom_count *c)
{
	char file[PATH_MAX], *line = NULL;
	size_t cap = 0;
	unsigned long long n = 0;
	int found = 0;
	FILE *f;

	if (!root)
		root = "";
	snprintf(file, sizeof(file), "%s/proc/sys/kernel/random", root);
	if (read_line(file, "boot_id", c->boot, sizeof(c->boot)) || !*c->boot)
		return -1;
	snprintf(file, sizeof(file), "%s/proc/vmstat", root);
	if (!(f = fopen(file, "r")))
		return -1;
	while (!found && getline(&line, &cap, f) > 0)
		found = sscanf(line, "oom_kill %llu", &n) == 1;
	free(line);
	fclose(f);
	c->kills = n;
	return found ? 0 : -1;
}
