/* libFuzzer target: the YAML configuration loader on arbitrary files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/omamori-fuzz-cfg-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	om_settings c;
	char err[512];
	om_settings_defaults(&c);
	if (om_settings_load(&c, path, err, sizeof(err)) == 0) {
		om_buf out;
		om_buf_init(&out, 1 << 20);
		om_settings_dump(&c, &out);
		om_buf_free(&out);
	}
	unlink(path);
	return 0;
}
