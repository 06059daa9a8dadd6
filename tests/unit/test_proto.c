// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "proto/proto.h"
#include "base/util.h"

static enum proto_errcode
dec(const char *s, struct request *r, char *msg)
{
	return proto_decode_request(s, strlen(s), r, msg, 256);
}

START_TEST(decode_valid)
{
	struct request r;
	char msg[256];

	ck_assert_int_eq(dec("{\"v\":1,\"id\":9,\"cmd\":\"logs\","
	    "\"service\":\"gw\",\"lines\":20,\"raw\":true}", &r, msg), PE_OK);
	ck_assert_str_eq(r.cmd, "logs");
	ck_assert_str_eq(r.service, "gw");
	ck_assert_int_eq(r.id, 9);
	ck_assert_int_eq(r.lines, 20);
	ck_assert_int_eq(r.raw, 1);
	ck_assert_int_eq(dec("{\"v\":1,\"cmd\":\"list\"}", &r, msg), PE_OK);
	ck_assert_int_eq(r.has_id, 0);
}
END_TEST

START_TEST(decode_errors)
{
	static const struct {
		const char *in;
		enum proto_errcode code;
		const char *msg;
	} cases[] = {
		{ "", PE_BAD_REQUEST, "not valid JSON" },
		{ "{", PE_BAD_REQUEST, "not valid JSON" },
		{ "[1,2]", PE_BAD_REQUEST, "must be a JSON object" },
		{ "{\"cmd\":\"list\"}", PE_BAD_REQUEST, "missing field 'v'" },
		{ "{\"v\":2,\"cmd\":\"list\"}", PE_VERSION, "version 1" },
		{ "{\"v\":\"1\",\"cmd\":\"list\"}", PE_BAD_REQUEST, "'v' must be" },
		{ "{\"v\":1}", PE_BAD_REQUEST, "missing field 'cmd'" },
		{ "{\"v\":1,\"cmd\":\"format-disk\"}", PE_UNKNOWN_COMMAND,
		    "unknown command 'format-disk'" },
		{ "{\"v\":1,\"cmd\":\"stop\"}", PE_BAD_REQUEST, "needs a service" },
		{ "{\"v\":1,\"cmd\":\"list\",\"service\":\"a\"}", PE_BAD_REQUEST,
		    "takes no service" },
		{ "{\"v\":1,\"cmd\":\"stop\",\"service\":\"../etc\"}",
		    PE_BAD_REQUEST, "valid service name" },
		{ "{\"v\":1,\"cmd\":\"logs\",\"service\":\"a\",\"lines\":-1}",
		    PE_BAD_REQUEST, "'lines'" },
		{ "{\"v\":1,\"cmd\":\"list\",\"evil\":1}", PE_BAD_REQUEST,
		    "unknown field 'evil'" },
		{ "{\"v\":1,\"cmd\":123}", PE_BAD_REQUEST, "'cmd' must be" },
		{ "{\"v\":1,\"cmd\":\"\xff\xfe\"}", PE_BAD_REQUEST, "not valid JSON" },
	};
	struct request r;
	char msg[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(dec(cases[i].in, &r, msg) == cases[i].code,
		    "case %zu: %s -> %s", i, cases[i].in, msg);
		ck_assert_msg(strstr(msg, cases[i].msg) != NULL,
		    "case %zu: message '%s'", i, msg);
	}
}
END_TEST

START_TEST(decode_oversized_and_nul)
{
	char *big = malloc(PROTO_REQ_MAX + 2);
	struct request r;
	char msg[256];

	memset(big, ' ', PROTO_REQ_MAX + 1);
	big[PROTO_REQ_MAX + 1] = '\0';
	ck_assert_int_eq(proto_decode_request(big, PROTO_REQ_MAX + 1, &r, msg,
	    sizeof(msg)), PE_TOO_LARGE);
	ck_assert_int_eq(proto_decode_request("{\"v\":1,\0}", 9, &r, msg,
	    sizeof(msg)), PE_BAD_REQUEST);
	free(big);
}
END_TEST

START_TEST(encode_roundtrip)
{
	struct request r, back;
	char msg[256], *line;

	memset(&r, 0, sizeof(r));
	strcpy(r.cmd, "logs");
	strcpy(r.service, "web-1");
	r.has_service = 1;
	r.has_id = 1;
	r.id = 77;
	r.lines = 5;
	line = proto_encode_request(&r);
	ck_assert_ptr_nonnull(strchr(line, '\n'));
	ck_assert_int_eq(proto_decode_request(line, strlen(line) - 1, &back,
	    msg, sizeof(msg)), PE_OK);
	ck_assert_str_eq(back.service, "web-1");
	ck_assert_int_eq(back.id, 77);
	ck_assert_int_eq(back.lines, 5);
	free(line);
}
END_TEST

START_TEST(error_reply_shape)
{
	struct request r;
	size_t len;
	char *out;

	memset(&r, 0, sizeof(r));
	r.has_id = 1;
	r.id = 3;
	out = proto_error_reply(&r, PE_DENIED, "nope \"quoted\"", &len);
	ck_assert_str_eq(out, "{\"v\":1,\"id\":3,\"ok\":false,\"error\":"
	    "{\"code\":\"denied\",\"message\":\"nope \\\"quoted\\\"\"}}\n");
	ck_assert_uint_eq(len, strlen(out));
	free(out);
}
END_TEST

START_TEST(invalid_utf8_stays_json)
{
	struct request r;
	size_t len;
	char *out;

	memset(&r, 0, sizeof(r));
	/* a field name cut in the middle of a character, say */
	out = proto_error_reply(&r, PE_BAD_REQUEST, "unknown field '\xc3'", &len);
	ck_assert_str_eq(out, "{\"v\":1,\"ok\":false,\"error\":{\"code\":"
	    "\"bad-request\",\"message\":\"unknown field '?'\"}}\n");
	free(out);
}
END_TEST

START_TEST(exec_request_and_base64)
{
	const char *line = "{\"v\":1,\"cmd\":\"exec\",\"service\":\"m\","
	    "\"argv\":[\"sh\",\"-c\",\"x\"],\"timeout_ms\":5000,\"shell\":true}";
	uint8_t bin[256], back[300];
	char msg[256], b64[400];
	struct request req;
	size_t i, n;

	ck_assert_int_eq(proto_decode_request(line, strlen(line), &req, msg,
	    sizeof(msg)), PE_OK);
	ck_assert_int_eq(req.argc, 3);
	ck_assert_mem_eq(req.args, "sh\0-c\0x\0", 8);
	ck_assert_int_eq(req.timeout_ms, 5000);
	ck_assert_int_eq(req.shell, 1);
	line = "{\"v\":1,\"cmd\":\"exec\",\"argv\":[1]}";
	ck_assert_int_eq(proto_decode_request(line, strlen(line), &req, msg,
	    sizeof(msg)), PE_BAD_REQUEST);
	line = "{\"v\":1,\"cmd\":\"exec\",\"argv\":[]}";
	ck_assert_int_eq(proto_decode_request(line, strlen(line), &req, msg,
	    sizeof(msg)), PE_BAD_REQUEST);
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 7);
	for (n = 0; n <= 5; n++) {
		base64_encode(bin, sizeof(bin) - n, b64);
		ck_assert_int_eq(base64_decode(b64, back, sizeof(back)), (long)(sizeof(bin) - n));
		ck_assert_mem_eq(back, bin, sizeof(bin) - n);
	}
	{
		/* the biggest stdin request still fits a request line */
		struct request r;
		char *enc;

		memset(&r, 0, sizeof(r));
		strcpy(r.cmd, "stdin");
		r.data_len = PROTO_STDIN_MAX;
		memset(r.data, 0xab, r.data_len);
		enc = proto_encode_request(&r);
		ck_assert_uint_lt(strlen(enc), PROTO_REQ_MAX);
		ck_assert_int_eq(proto_decode_request(enc, strlen(enc) - 1, &req,
		    msg, sizeof(msg)), PE_OK);
		ck_assert_uint_eq(req.data_len, PROTO_STDIN_MAX);
		ck_assert_mem_eq(req.data, r.data, PROTO_STDIN_MAX);
		free(enc);
	}
	base64_encode((const uint8_t *)"hi!?", 4, b64);
	ck_assert_str_eq(b64, "aGkhPw==");
	ck_assert_int_eq(base64_decode("a$==", back, sizeof(back)), -1);
	/* review finding 8: nothing after the padding, and padding only
	 * where it completes a group */
	ck_assert_int_eq(base64_decode("QQ==", back, sizeof(back)), 1);
	ck_assert_int_eq(back[0], 'A');
	ck_assert_int_eq(base64_decode("QQ", back, sizeof(back)), 1);
	ck_assert_int_eq(base64_decode("QQ==!!!", back, sizeof(back)), -1);
	ck_assert_int_eq(base64_decode("QQ==QQ==", back, sizeof(back)), -1);
	ck_assert_int_eq(base64_decode("QQ=", back, sizeof(back)), -1);
	ck_assert_int_eq(base64_decode("QUJD=", back, sizeof(back)), -1);
	ck_assert_int_eq(base64_decode("QUJDR", back, sizeof(back)), -1);
}
END_TEST

/* finding: 2732 unpadded base64 characters decode to 2049 bytes; a field
 * given twice ({"cmd":"ping","cmd":"stop"}) must not pick the last */
START_TEST(decode_bounds_and_duplicates)
{
	char line[PROTO_REQ_MAX], msg[256];
	struct request req;
	int n;

	n = snprintf(line, sizeof(line), "{\"v\":1,\"cmd\":\"stdin\","
	    "\"data\":\"");
	memset(line + n, 'A', 2732);
	n += 2732;
	n += snprintf(line + n, sizeof(line) - (size_t)n, "\"}");
	ck_assert_int_eq(proto_decode_request(line, (size_t)n, &req, msg,
	    sizeof(msg)), PE_BAD_REQUEST);
	ck_assert_ptr_nonnull(strstr(msg, "at most 2048 bytes"));
	/* 2048 bytes exactly (2731 characters, unpadded) still go */
	n = snprintf(line, sizeof(line), "{\"v\":1,\"cmd\":\"stdin\","
	    "\"data\":\"");
	memset(line + n, 'A', 2731);
	n += 2731;
	n += snprintf(line + n, sizeof(line) - (size_t)n, "\"}");
	ck_assert_int_eq(proto_decode_request(line, (size_t)n, &req, msg,
	    sizeof(msg)), PE_OK);
	ck_assert_uint_eq(req.data_len, 2048);
	n = snprintf(line, sizeof(line), "{\"v\":1,\"cmd\":\"ping\","
	    "\"cmd\":\"stop\",\"service\":\"gw\"}");
	ck_assert_int_eq(proto_decode_request(line, (size_t)n, &req, msg,
	    sizeof(msg)), PE_BAD_REQUEST);
	ck_assert_ptr_nonnull(strstr(msg, "'cmd' given twice"));
}
END_TEST

Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, decode_valid);
	tcase_add_test(tc, decode_errors);
	tcase_add_test(tc, decode_oversized_and_nul);
	tcase_add_test(tc, encode_roundtrip);
	tcase_add_test(tc, error_reply_shape);
	tcase_add_test(tc, invalid_utf8_stays_json);
	tcase_add_test(tc, exec_request_and_base64);
	tcase_add_test(tc, decode_bounds_and_duplicates);
	suite_add_tcase(s, tc);
	return s;
}
