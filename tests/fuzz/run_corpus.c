/*
 * Runs a fuzz target without libFuzzer, for make check (usage: NAME [RUNS
 * [CORPUS_DIR]], all optional): every file of its
 * seed corpus directory (if any), then many seeded random inputs, biased
 * towards the shapes the target parses (mutations of the seeds).  Prints
 * one TAP line.  A crash or an abort() in the target is the failure.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 4096
#define FUZZ_MAX_SEEDS 64

static uint8_t seeds[FUZZ_MAX_SEEDS][FUZZ_MAX_INPUT];
static size_t seed_len[FUZZ_MAX_SEEDS];
static size_t nseeds;

static void
load_seeds(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[1024];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && nseeds < FUZZ_MAX_SEEDS) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		seed_len[nseeds] = fread(seeds[nseeds], 1, FUZZ_MAX_INPUT, f);
		fclose(f);
		LLVMFuzzerTestOneInput(seeds[nseeds], seed_len[nseeds]);
		nseeds++;
	}
	closedir(d);
}

int
main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : FUZZ_NAME;
	long runs = argc > 2 ? atol(argv[2]) : 100000;
	static uint8_t buf[FUZZ_MAX_INPUT];

	load_seeds(argc > 3 ? argv[3] : CORPUS_DIR "/" FUZZ_NAME);
	srand(12345);
	for (long r = 0; r < runs; r++) {
		size_t n;

		if (nseeds > 0 && r % 2 == 0) {	/* mutate a seed: flip, cut, splice */
			size_t s = (size_t)rand() % nseeds;
			n = seed_len[s];
			memcpy(buf, seeds[s], n);
			for (int k = rand() % 4; k >= 0 && n > 0; k--)
				buf[(size_t)rand() % n] = (uint8_t)rand();
			if (rand() % 4 == 0 && n > 0)
				n = (size_t)rand() % n;
		} else {
			n = (size_t)rand() % 300;
			for (size_t i = 0; i < n; i++)
				buf[i] = (uint8_t)(rand() % 4 ? ' ' + rand() % 95 : rand());
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("1..1\nok 1 - %s: %ld inputs, %zu seeds, no crash\n", name, runs, nseeds);
	return 0;
}
