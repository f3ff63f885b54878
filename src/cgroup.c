/*
 * cgroup v2 limits, for the defaults of -j (cpu.max) and -M
 * (memory.max): in a container, the host's CPU count and RAM are not
 * what this process may use.
 */
#include <stdio.h>
#include <string.h>

#include "cgroup.h"

int
cgroup_read(const char *file, char *buf, size_t len)
{
	char path[1024], line[512];
	int found = 0;
	FILE *f;

	/* "0::/some/group" names our cgroup v2 */
	if (!(f = fopen("/proc/self/cgroup", "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/%s",
				 strcmp(line + 3, "/") ? line + 3 : "", file);
			found = 1;
		}
	fclose(f);
	if (!found || !(f = fopen(path, "r")))
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}
