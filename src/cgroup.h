/*
 * The limits this process runs under, from its cgroup (v2).
 */
#ifndef IMGBAKE_CGROUP_H
#define IMGBAKE_CGROUP_H

#include <stddef.h>

/* Read the first word of `file` (e.g. "memory.max") in this process's
 * cgroup v2 directory into buf.  Returns 0, or -1 when there is no such
 * cgroup or file. */
int cgroup_read(const char *file, char *buf, size_t len);

#endif
