# SPDX-License-Identifier: GPL-2.0-or-later
# Tests. `make check` needs no Xen; `make e2e` boots Xen under QEMU.

FUZZ_SECONDS	?= 30
FUZZ_CC		?= clang
SAN_FLAGS	:= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
UNIT_SRCS	:= $(wildcard tests/unit/*.c)

$(O)/unit-tests: $(UNIT_SRCS) $(wildcard tests/unit/*.h) $(LIBDOMUD)
	$(CC) $(CPPFLAGS) $(DOMUD_CFLAGS) $(call pc_cflags,check) -Itests/unit \
		$(CFLAGS) $(LDFLAGS) -o $@ $(UNIT_SRCS) $(LIBDOMUD) \
		$(call pc_libs,check) $(LIBS_CORE)

unit: $(O)/unit-tests $(O)/domuctl
	CK_FORK=yes DOMUCTL=$(O)/domuctl $(O)/unit-tests

golden: $(O)/domud
	tests/config/run.sh $(O)/domud

# the same unit and golden tests under ASan + UBSan
check-asan:
	$(MAKE) O=$(O)/asan CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
		WERROR=$(WERROR) unit golden

# libFuzzer targets for the INI handler and the control decoder
FUZZ_TARGETS	:= fuzz_ini fuzz_control
FUZZ_SRCS	:= src/core/config.c src/core/util.c src/core/log.c src/core/proto.c \
		   src/core/err.c
$(O)/fuzz/%: tests/fuzz/%.c $(FUZZ_SRCS) $(wildcard src/core/*.h)
	@mkdir -p $(O)/fuzz
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined $(DOMUD_CFLAGS) \
		-o $@ $< $(FUZZ_SRCS) $(call pc_libs,$(PKGS_CORE))

fuzz: $(addprefix $(O)/fuzz/,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(O)/fuzz/corpus-$$t; \
		cp tests/fuzz/seeds/$$t/* $(O)/fuzz/corpus-$$t/ 2>/dev/null; \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
		$(O)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
			-print_final_stats=1 $(O)/fuzz/corpus-$$t \
			> $(O)/fuzz/$$t.log 2>&1 || { tail -n 60 $(O)/fuzz/$$t.log; exit 1; }; \
		grep -E 'stat::number_of_executed_units|Done' $(O)/fuzz/$$t.log | tail -n 2; \
		echo "PASS fuzz/$$t"; \
	done

check: all unit golden check-asan fuzz

# ---- on real Xen ------------------------------------------------------------
E2E_ARCH	?= amd64
E2E_SUITES	?= lifecycle static supervise
E2E_BIN		:= $(O)/e2e-bin

$(E2E_BIN): all
	$(MAKE) O=$(O)/static STATIC=1 all
	mkdir -p $@
	cp $(O)/domud $(O)/domuctl $@/
	cp $(O)/static/domud $@/domud-static
	cp $(O)/static/domuctl $@/domuctl-static

e2e: $(E2E_BIN)
	E2E_ARCH=$(E2E_ARCH) E2E_BIN=$(abspath $(E2E_BIN)) \
		E2E_SUITES="$(E2E_SUITES)" tests/e2e/run.sh

bench: $(E2E_BIN)
	E2E_ARCH=$(E2E_ARCH) E2E_BIN=$(abspath $(E2E_BIN)) \
		E2E_SUITES="bench" tests/e2e/run.sh

demo: deps $(E2E_BIN)
	E2E_ARCH=$(E2E_ARCH) E2E_BIN=$(abspath $(E2E_BIN)) \
		E2E_SUITES="demo" tests/e2e/run.sh

deps:
	scripts/deps.sh

# what CI runs: every test, warnings as errors
test: deps
	$(MAKE) WERROR=1 check
	$(MAKE) WERROR=1 e2e

.PHONY: unit golden check-asan fuzz check e2e bench demo deps test $(E2E_BIN)
