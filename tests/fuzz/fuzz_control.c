// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: any bytes as a control request line; the error reply for it
 * must still be one line of valid JSON. */
#include <stdlib.h>
#include <string.h>

#include <yajl_tree.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request req;
	char msg[256] = "";
	enum proto_errcode rc;
	size_t len;
	char *out;
	yajl_val v;

	rc = proto_decode_request((const char *)data, size, &req, msg,
	    sizeof(msg));
	out = proto_error_reply(&req, rc == PE_OK ? PE_FAILED : rc, msg, &len);
	if (out == NULL || memchr(out, '\n', len) != out + len - 1)
		abort();
	out[len - 1] = '\0';
	if ((v = yajl_tree_parse(out, NULL, 0)) == NULL)
		abort();
	yajl_tree_free(v);
	free(out);
	return 0;
}
