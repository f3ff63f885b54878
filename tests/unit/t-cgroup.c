/* Unit tests: cgroup limits are found in v2, v1 and hybrid layouts, with
 * and without a cgroup namespace, and an ancestor's tighter limit binds.
 * Each case is a fake tree: its proc/self files and the mounted
 * hierarchies under a temporary directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup.h"
#include "tap.h"

static char base[] = "/tmp/imgbake-t-cgroup.XXXXXX";
static char root[4096];
static int n_case;

/* mkdir -p of the directory part of path */
static void
mkdirs(const char *path)
{
	char buf[8192];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) && errno != EEXIST)
				perror(buf);
			*p = '/';
		}
}

/* Write text to root/rel. */
static void
put(const char *rel, const char *text)
{
	char path[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkdirs(path);
	if (!(f = fopen(path, "w"))) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

/* A fresh, empty tree. */
static void
tree(void)
{
	snprintf(root, sizeof(root), "%s/%d", base, ++n_case);
	if (mkdir(root, 0755))
		perror(root);
}

#define V2_MOUNT "30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
#define V1_MOUNTS \
	"31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n" \
	"34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"

int
main(void)
{
	if (!mkdtemp(base)) {
		perror(base);
		return 1;
	}

	/* nothing readable: no limits, no crash */
	tree();
	is_int(cgroup_memory_limit(root), 0, "no /proc files: no memory limit");
	is_int(cgroup_cpu_limit(root), 0, "no /proc files: no CPU limit");

	/* v2, a systemd service: limits in our own group */
	tree();
	put("proc/self/cgroup", "0::/system.slice/bake.service\n");
	put("proc/self/mountinfo",
	    "22 1 0:21 / /proc rw - proc proc rw\n" V2_MOUNT);
	put("sys/fs/cgroup/system.slice/bake.service/memory.max", "536870912\n");
	put("sys/fs/cgroup/system.slice/bake.service/cpu.max", "150000 100000\n");
	put("sys/fs/cgroup/system.slice/memory.max", "max\n");
	is_int(cgroup_memory_limit(root), 536870912, "v2: memory.max of our group");
	is_int(cgroup_cpu_limit(root), 2, "v2: 1.5 CPUs round up to 2");

	/* v2: the parent's limit is tighter */
	put("sys/fs/cgroup/system.slice/memory.max", "268435456\n");
	put("sys/fs/cgroup/system.slice/cpu.max", "100000 100000\n");
	is_int(cgroup_memory_limit(root), 268435456, "v2: a parent's tighter memory.max binds");
	is_int(cgroup_cpu_limit(root), 1, "v2: a parent's tighter cpu.max binds");

	/* v2: "max" everywhere */
	put("sys/fs/cgroup/system.slice/memory.max", "max\n");
	put("sys/fs/cgroup/system.slice/bake.service/memory.max", "max\n");
	put("sys/fs/cgroup/system.slice/cpu.max", "max 100000\n");
	put("sys/fs/cgroup/system.slice/bake.service/cpu.max", "max 100000\n");
	is_int(cgroup_memory_limit(root), 0, "v2: max is no memory limit");
	is_int(cgroup_cpu_limit(root), 0, "v2: max is no CPU limit");

	/* v2 in a container with its own cgroup namespace: "/" is the
	 * container's group, mounted at /sys/fs/cgroup */
	tree();
	put("proc/self/cgroup", "0::/\n");
	put("proc/self/mountinfo", V2_MOUNT);
	put("sys/fs/cgroup/memory.max", "1073741824\n");
	put("sys/fs/cgroup/cpu.max", "400000 100000\n");
	is_int(cgroup_memory_limit(root), 1073741824, "v2, namespaced: the mount's own limit");
	is_int(cgroup_cpu_limit(root), 4, "v2, namespaced: 4 CPUs");

	/* v1 on the host: per-controller mounts, the cpu one shared with
	 * cpuacct; an "unlimited" ancestor does not count */
	tree();
	put("proc/self/cgroup",
	    "12:pids:/slurm/uid_1000/job_42\n"
	    "4:memory:/slurm/uid_1000/job_42\n"
	    "2:cpu,cpuacct:/slurm/uid_1000/job_42\n"
	    "1:name=systemd:/user.slice\n");
	put("proc/self/mountinfo",
	    "30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n" V1_MOUNTS);
	put("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
	put("sys/fs/cgroup/memory/slurm/uid_1000/job_42/memory.limit_in_bytes",
	    "2147483648\n");
	put("sys/fs/cgroup/cpu,cpuacct/slurm/uid_1000/job_42/cpu.cfs_quota_us", "-1\n");
	put("sys/fs/cgroup/cpu,cpuacct/slurm/uid_1000/job_42/cpu.cfs_period_us", "100000\n");
	put("sys/fs/cgroup/cpu,cpuacct/slurm/cpu.cfs_quota_us", "300000\n");
	put("sys/fs/cgroup/cpu,cpuacct/slurm/cpu.cfs_period_us", "100000\n");
	is_int(cgroup_memory_limit(root), 2147483648LL, "v1: memory.limit_in_bytes of our group");
	is_int(cgroup_cpu_limit(root), 3, "v1: an ancestor's CFS quota binds, -1 is none");

	/* v1 in a container without a cgroup namespace: /proc names the
	 * host's path, the mount shows that directory itself */
	tree();
	put("proc/self/cgroup", "9:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n");
	put("proc/self/mountinfo",
	    "601 600 0:31 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n"
	    "602 600 0:28 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n");
	put("sys/fs/cgroup/memory/memory.limit_in_bytes", "805306368\n");
	put("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "50000\n");
	put("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
	is_int(cgroup_memory_limit(root), 805306368, "v1, container: the mount's root is our group");
	is_int(cgroup_cpu_limit(root), 1, "v1, container: half a CPU is one");

	/* hybrid: v2 mounted beside v1 without controllers; a memory
	 * controller that is not mounted (cpuacct alone) is not confused
	 * with one that is */
	tree();
	put("proc/self/cgroup", "4:memory:/grp\n2:cpuacct:/grp\n0::/\n");
	put("proc/self/mountinfo",
	    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n"
	    "34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
	    "40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
	put("sys/fs/cgroup/memory/grp/memory.limit_in_bytes", "104857600\n");
	put("sys/fs/cgroup/cpuacct/grp/cpu.cfs_quota_us", "100000\n");
	put("sys/fs/cgroup/cpuacct/grp/cpu.cfs_period_us", "100000\n");
	is_int(cgroup_memory_limit(root), 104857600, "hybrid: the v1 memory limit");
	is_int(cgroup_cpu_limit(root), 0, "hybrid: cpuacct is not cpu");

	/* a mount point with a space, escaped in mountinfo */
	tree();
	put("proc/self/cgroup", "0::/a b\n");
	put("proc/self/mountinfo", "30 22 0:26 / /cg\\0402 rw - cgroup2 cgroup2 rw\n");
	put("cg 2/a b/memory.max", "12345678\n");
	is_int(cgroup_memory_limit(root), 12345678, "escaped mount point");

	/* this machine: whatever it says, the answer is sane */
	ok(cgroup_cpu_limit(NULL) >= 0, "this machine: CPU limit %d", cgroup_cpu_limit(NULL));
	ok(cgroup_memory_limit(NULL) < (1ULL << 62), "this machine: memory limit %llu",
	   (unsigned long long)cgroup_memory_limit(NULL));

	{
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", base);
	}
	return done_testing();
}
