/*
 * manifest_load on a manifest left by an earlier run (no journal):
 * the input is the whole imgbake-manifest.json.  See fuzz-prev.h for
 * what is checked; besides, a manifest that cannot be used is reported
 * in `warn` and contributes nothing, and a file that is not one imgbake
 * wrote is refused.
 */
#include "fuzz-prev.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	prev_setup();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct options o;
	struct prev_manifest pm;
	static struct records r;
	char warn[512];
	int accepted;

	memset(&o, 0, sizeof(o));
	o.manifest_path = prev_manifest;
	o.output_dir = prev_dir;
	prev_write(prev_manifest, data, size);

	accepted = records_from_manifest(&r, prev_manifest);
	memset(warn, 'x', sizeof(warn));
	CHECK(manifest_load(&o, &pm, warn, sizeof(warn)) == (accepted < 0 ? -2 : 0));
	CHECK(memchr(warn, '\0', sizeof(warn)));
	CHECK((warn[0] == '\0') == (accepted == 1));
	CHECK(!pm.resumed);
	check_prev(&pm, &r);

	manifest_prev_release(&pm);
	records_release(&r);
	return 0;
}
