/*
 * The HTML report.  A first version: the summary only.
 */
#include <stdio.h>

#include "htmlreport.h"

int
html_report_write(const struct options *o, const struct plan *p,
	const struct result *results, const unsigned char *include,
	const struct summary *sum, double seconds, char *err, size_t errlen)
{
	FILE *f = fopen(o->report_path, "w");

	(void)p;
	(void)results;
	(void)include;
	if (!f) {
		snprintf(err, errlen, "cannot write '%s'", o->report_path);
		return -1;
	}
	fprintf(f, "<!doctype html><title>imgbake report</title>"
		"<p>%llu converted, %llu failed in %.1f s</p>\n",
		(unsigned long long)sum->converted, (unsigned long long)sum->failed, seconds);
	return fclose(f) ? -1 : 0;
}
