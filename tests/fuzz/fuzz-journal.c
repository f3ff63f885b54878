/*
 * manifest_load after a killed run: a fixed manifest, and the input as
 * the journal beside it, one JSON source record per line, possibly cut
 * short.  See fuzz-prev.h for what is checked; besides, the run is
 * marked as resumed and the manifest itself is never reported.
 */
#include "fuzz-prev.h"

static const char manifest[] =
	"{\n"
	"  \"imgbake\": \"0.1.0\",\n"
	"  \"sources\": [\n"
	"    {\"path\": \"a.jpg\", \"type\": \"image/jpeg\", \"bytes\": 100,\n"
	"     \"mtime_ns\": 1, \"inode\": 2, \"width\": 64, \"height\": 48,\n"
	"     \"hash\": \"xxh128:00000000000000000000000000000000\",\n"
	"     \"status\": \"converted\",\n"
	"     \"outputs\": [{\"path\": \"a-32.webp\", \"format\": \"webp\", \"width\": 32,\n"
	"                  \"height\": 24, \"bytes\": 10, \"recipe\": \"0123456789abcdef\"}]},\n"
	"    {\"path\": \"b.png\", \"type\": \"image/png\", \"bytes\": 7, \"width\": 1,\n"
	"     \"height\": 1, \"hash\": \"xxh128:11111111111111111111111111111111\",\n"
	"     \"status\": \"up-to-date\", \"outputs\": []},\n"
	"    {\"path\": \"c.gif\", \"status\": \"failed\", \"reason\": \"corrupt\"}\n"
	"  ],\n"
	"  \"stale\": [{\"path\": \"old/x.webp\", \"bytes\": 5}]\n"
	"}\n";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	prev_setup();
	prev_write(prev_manifest, manifest, strlen(manifest));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct options o;
	struct prev_manifest pm;
	static struct records r;
	char warn[512];

	memset(&o, 0, sizeof(o));
	o.manifest_path = prev_manifest;
	o.output_dir = prev_dir;
	prev_write(prev_journal, data, size);

	CHECK(records_from_manifest(&r, prev_manifest));
	records_from_journal(&r, (const char *)data, size);
	memset(warn, 'x', sizeof(warn));
	CHECK(manifest_load(&o, &pm, warn, sizeof(warn)) == 0);
	CHECK(warn[0] == '\0');
	/* an empty journal is the one the run holding it made */
	CHECK(pm.resumed == (size > 0));
	check_prev(&pm, &r);

	manifest_prev_release(&pm);
	records_release(&r);
	return 0;
}
