# SPDX-License-Identifier: GPL-2.0-or-later
# Tests. `make check` needs no Xen; `make e2e` boots Xen under QEMU.
# pkg-config is asked through the lazy variables of the Makefile only.

FUZZ_SECONDS	?= 30
FUZZ_CC		?= clang
SAN_FLAGS	:= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
UNIT_SRCS	:= $(wildcard tests/unit/*.c)
UNIT_OBJS	:= $(patsubst tests/unit/%.c,$(O)/tests/unit/%.o,$(UNIT_SRCS))
CHECK_CFLAGS_	= $(call pc_cflags,check)
CHECK_CFLAGS	= $(call memo,CHECK_CFLAGS)
CHECK_LIBS_	= $(call pc_libs,check)
CHECK_LIBS	= $(call memo,CHECK_LIBS)

# the include layering of src/ (cheap: first)
layers: $(LIBDOMUD)
	$(Q)O=$(O) tests/layers.sh
	$(Q)tests/sizes.sh

$(O)/tests/unit/%.o: tests/unit/%.c $(FLAGS_STAMP)
	$(call say,CC,tests/unit/$*.o)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(DOMUD_CFLAGS) $(CHECK_CFLAGS) -Itests/unit \
		$(CFLAGS) $(DEP_FLAGS) -c $< -o $@

$(O)/unit-tests: $(UNIT_OBJS) $(LIBDOMUD)
	$(call say,LD,$(@F))
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(LIBDOMUD) \
		$(CHECK_LIBS) $(LIBS_NET) $(LIBS_CORE)

unit: $(O)/unit-tests $(O)/domuctl $(O)/domud
	$(Q)CK_FORK=yes DOMUCTL=$(O)/domuctl DOMUD=$(O)/domud $(O)/unit-tests

golden: $(O)/domud
	$(Q)tests/config/run.sh $(O)/domud

# the same unit and golden tests under ASan + UBSan
# (built two at a time, then run one after the other)
ASAN_MAKE	= $(MAKE) O=$(O)/asan CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
		  WERROR=$(WERROR)
check-asan:
	$(ASAN_MAKE) -j2 $(addprefix $(O)/asan/,unit-tests domud domuctl domud-agent nettool chantest)
	$(ASAN_MAKE) unit golden netcheck chancheck

# libFuzzer targets: fuzz_ini (the INI handler), fuzz_control (the control
# request decoder), fuzz_frame (the memres channel's frame parser), fuzz_chan
# (domud's side of the channel, vxn's markers too), fuzz_agent (the agent's
# request handling), fuzz_slot (an update's manifest and signify files),
# fuzz_kimage (a kernel image: its payload found and undone, bounded),
# fuzz_gio (the messages between domud and its guest I/O process, both ways)
FUZZ_TARGETS	:= fuzz_ini fuzz_control fuzz_frame fuzz_chan fuzz_agent fuzz_slot \
		   fuzz_kimage fuzz_gio
FUZZ_SRCS	:= $(wildcard src/conf/*.c) src/base/util.c src/base/log.c src/proto/proto.c \
		   src/base/err.c src/base/json.c src/base/sanitize.c \
		   src/chan/frame.c src/chan/channel.c src/agent/request.c src/boot/slot.c \
		   src/boot/kcache.c src/boot/kextract.c src/base/fileio.c \
		   src/base/sandbox.c src/chan/giomsg.c src/chan/gio.c src/chan/gio_child.c
FUZZ_LIBS_	= $(call pc_libs,$(PKGS_CORE))
FUZZ_LIBS	= $(call memo,FUZZ_LIBS)
# one clang command per target: its headers are listed, not -MMD'd
$(O)/fuzz/%: tests/fuzz/%.c $(FUZZ_SRCS) $(wildcard src/*/*.h) $(FLAGS_STAMP)
	$(call say,CCLD,fuzz/$*)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined $(DOMUD_CFLAGS) -Isrc/chan \
		-o $@ $< $(FUZZ_SRCS) $(FUZZ_LIBS)

fuzz: $(addprefix $(O)/fuzz/,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(O)/fuzz/corpus-$$t; \
		cp tests/fuzz/seeds/$$t/* $(O)/fuzz/corpus-$$t/ 2>/dev/null; \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
		$(O)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
			$(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS)) \
			-artifact_prefix=$(O)/fuzz/$$t- \
			-print_final_stats=1 $(O)/fuzz/corpus-$$t \
			> $(O)/fuzz/$$t.log 2>&1 || { tail -n 60 $(O)/fuzz/$$t.log; exit 1; }; \
		grep -E 'stat::number_of_executed_units|Done' $(O)/fuzz/$$t.log | tail -n 2; \
		echo "PASS fuzz/$$t"; \
	done

# the long run: each target for FUZZ_SECONDS (10 minutes unless given), or
# until FUZZ_RUNS executions when that comes first
fuzz-long:
	$(MAKE) fuzz FUZZ_SECONDS=$(if $(filter command line environment,$(origin \
		FUZZ_SECONDS)),$(FUZZ_SECONDS),600)

# static analysis: cppcheck, then clang-tidy with .clang-tidy (both clean;
# a suppression is an inline comment with its reason)
LINT_SRCS	= $(wildcard src/*/*.c)
# (in a sh -c '...' below: the define's quotes are escaped, not quoted)
LINT_DEFS	= -std=gnu11 -D_GNU_SOURCE -Isrc -Isrc/chan \
		  -DDOMUD_VERSION=\"lint\" -DDOMUD_SYSCONFDIR=\"/etc\"
lint:
	@echo "  LINT  cppcheck"
	$(Q)cppcheck -q --enable=warning,portability,performance --std=c11 \
		-D_GNU_SOURCE -Isrc --inline-suppr --error-exitcode=1 \
		src tests/unit tests/net tests/chan tests/e2e/tools
	@echo "  LINT  clang-tidy"
	$(Q)mkdir -p $(O); printf '%s\n' $(LINT_SRCS) | xargs -P 2 -n 4 sh -c \
		'clang-tidy -quiet "$$@" -- $(LINT_DEFS) \
		$(call pc_cflags,$(PKGS_CORE) $(PKGS_NET))' lint \
		> $(O)/lint.log 2>&1 || { grep -E 'error|warning' $(O)/lint.log; exit 1; }
	@echo "PASS lint"

installcheck: all
	$(Q)tests/install/run.sh $(O)

# the Prometheus exposition of a unit test's supervisor, through promtool
metricscheck: $(O)/unit-tests $(O)/domuctl
	$(Q)rm -f $(O)/metrics.sample; DOMUD_METRICS_SAMPLE=$(abspath $(O))/metrics.sample \
		CK_RUN_CASE=lifecycle CK_FORK=yes DOMUCTL=$(O)/domuctl $(O)/unit-tests \
		> $(O)/metrics.log 2>&1 || { tail -n 20 $(O)/metrics.log; exit 1; }
	$(Q)test -s $(O)/metrics.sample && "$$(scripts/promtool.sh)" check metrics < $(O)/metrics.sample
	@echo "PASS metrics/promtool ($$(grep -c '^domud_' $(O)/metrics.sample) series)"

# make check's parts, in order; make test runs each as a phase of its own
CHECK_PARTS	:= layers lint all unit golden installcheck metricscheck netcheck \
		   chancheck xencheck check-asan fuzz
check: $(CHECK_PARTS)
print-check-parts:
	@echo $(CHECK_PARTS)

# ---- on real Xen ------------------------------------------------------------
# E2E_ARCH=arm64 cross-builds against the sysroot that the harness unpacks
# from Debian's arm64 -dev packages (run.sh fetch).
E2E_ARCH	?= amd64
# (systemd, "# e2e-init: systemd", runs last in the boot, under systemd as PID 1)
E2E_SUITES	?= smoke lifecycle init static supervise observe net memres memtools fault abuse resilience crash update updpower systemd
# suites that need a bigger machine (their "# e2e-cpus:"), in a boot of their own:
# the others' timings stay those of the 2-CPU machine
E2E_PART_SUITES	?= part iommu xljson
E2E_WORK	?= /var/tmp/domud-e2e
# every suite in one boot takes about 42 minutes under TCG with the other
# arch's boot beside it; run.sh lowers this to the boot's suites' own limits
E2E_TIMEOUT	?= 3300
export E2E_TIMEOUT
E2E_BIN		:= $(O)/e2e-bin-$(E2E_ARCH)
ifeq ($(E2E_ARCH),arm64)
E2E_CROSS	:= CROSS_COMPILE=aarch64-linux-gnu- SYSROOT=$(E2E_WORK)/arm64/sysroot
endif
export E2E_WORK

$(E2E_BIN):
	$(if $(E2E_CROSS),E2E_ARCH=$(E2E_ARCH) tests/e2e/run.sh fetch)
	$(MAKE) O=$(O)/$(E2E_ARCH) $(E2E_CROSS) all
	$(MAKE) O=$(O)/$(E2E_ARCH)-static $(E2E_CROSS) STATIC=1 all
	mkdir -p $@
	cp $(O)/$(E2E_ARCH)/domud $(O)/$(E2E_ARCH)/domuctl $(O)/$(E2E_ARCH)/domud-agent $@/
	cp $(O)/$(E2E_ARCH)-static/domud $@/domud-static
	cp $(O)/$(E2E_ARCH)-static/domuctl $@/domuctl-static
	$(if $(E2E_CROSS),aarch64-linux-gnu-gcc,$(CC)) -O2 -Wall -static \
		-o $@/ctlabuse tests/e2e/tools/ctlabuse.c
	sed -e 's|@SBINDIR@|/usr/sbin|g' -e 's|@BINDIR@|/usr/sbin|g' \
		-e 's|@SYSCONFDIR@|/etc|g' rootfs-overlay/etc/init.d/domud > $@/domud.init
	chmod 0755 $@/domud.init

e2e: $(E2E_BIN)
	E2E_ARCH=$(E2E_ARCH) E2E_BIN=$(abspath $(E2E_BIN)) \
		E2E_SUITES="$(E2E_SUITES)" tests/e2e/run.sh

# make test's steps of the same: the binaries; the images (target debs and
# the dom0 and guest images); one boot of E2E_SUITES with the binaries as built
e2e-bin: $(E2E_BIN)
e2e-images:
	E2E_ARCH=$(E2E_ARCH) tests/e2e/run.sh build
e2e-run:
	E2E_ARCH=$(E2E_ARCH) E2E_BIN=$(abspath $(E2E_BIN)) \
		E2E_SUITES="$(E2E_SUITES)" tests/e2e/run.sh run

# one boot: the suites that print a figure beside its peer
BENCH_SUITES	?= bench memres memtools iosplit
bench: $(E2E_BIN) bench-host
	$(if $(E2E_CROSS),$(MAKE) --no-print-directory O=$(O)/$(E2E_ARCH)-sizes \
		$(E2E_CROSS) bench-sizes)
	E2E_ARCH=$(E2E_ARCH) E2E_BIN=$(abspath $(E2E_BIN)) \
		E2E_SUITES="$(BENCH_SUITES)" tests/e2e/run.sh

demo: deps $(E2E_BIN)
	E2E_ARCH=$(E2E_ARCH) E2E_BIN=$(abspath $(E2E_BIN)) \
		E2E_SUITES="demo" tests/e2e/run.sh
# deps first, also under -j: the sub-makes of $(E2E_BIN) need what it installs
ifneq ($(filter demo,$(MAKECMDGOALS)),)
$(E2E_BIN): deps
endif

# the architectures `make test` boots, one e2e run each
E2E_ARCHES	?= amd64 arm64

deps:
	E2E_ARCH=$(if $(filter arm64,$(E2E_ARCH) $(if $(filter test,$(MAKECMDGOALS)),$(E2E_ARCHES))),arm64,amd64) \
		scripts/deps.sh

# what CI runs: every test, warnings as errors, in phases that tests/pipeline.sh
# times (the host checks beside the two arches' boots; E2E_LANES=serial runs
# them one after the other) and a table of them at the end. Every phase runs
# even when one fails: CI shows all there is to see.
E2E_LANES	?= parallel
test:
	O=$(O) MAKE="$(MAKE)" E2E_ARCHES="$(E2E_ARCHES)" E2E_SUITES="$(E2E_SUITES)" \
		E2E_PART_SUITES="$(E2E_PART_SUITES)" E2E_LANES=$(E2E_LANES) tests/pipeline.sh

# the scenarios that no CI run needs (tests/e2e/README.md says why), one boot
# per arch
E2E_LONG_SUITES	?= guest
test-long: deps
	@rc=0; for a in $(E2E_ARCHES); do \
		$(MAKE) WERROR=1 E2E_ARCH=$$a E2E_SUITES="$(E2E_LONG_SUITES)" e2e || rc=1; \
	done; exit $$rc

.PHONY: layers lint fuzz-long unit golden installcheck metricscheck check-asan fuzz check e2e bench demo deps test xencheck $(E2E_BIN) \
	e2e-bin e2e-images e2e-run print-check-parts test-long

# ---- network module, inside network namespaces of the test's own -------------
$(O)/nettool: tests/net/nettool.c $(LIBDOMUD) $(FLAGS_STAMP)
	$(call say,CCLD,$(@F))
	$(Q)$(CC) $(CPPFLAGS) $(DOMUD_CFLAGS) $(CFLAGS) $(LDFLAGS) $(DEP_FLAGS) -MF $@.d \
		-o $@ $< $(LIBDOMUD) $(LIBS_XEN) $(LIBS_NET) $(LIBS_CORE)

netcheck: $(O)/nettool
	$(Q)tests/net/run.sh $(O)/nettool

# ---- the libxl configuration domud builds, against xl's for the same guest ----
$(O)/libxljson: tests/xen/libxljson.c $(LIBDOMUD) $(FLAGS_STAMP)
	$(call say,CCLD,$(@F))
	$(Q)$(CC) $(CPPFLAGS) $(DOMUD_CFLAGS) $(CFLAGS) $(LDFLAGS) $(DEP_FLAGS) -MF $@.d \
		-o $@ $< $(LIBDOMUD) $(LIBS_XEN) $(LIBS_NET) $(LIBS_CORE)

xencheck: $(O)/libxljson
	$(Q)rc=0; for x in tests/xen/*.xl.json; do \
		$(O)/libxljson $${x%.xl.json}.ini $$x || rc=1; \
	done; exit $$rc

# ---- the memres channel against the real agent over a PTY -------------------
# (-Isrc/chan: the agent's headers, which it includes as the agent does)
$(O)/chantest: tests/chan/chantest.c $(LIBDOMUD) $(FLAGS_STAMP)
	$(call say,CCLD,$(@F))
	$(Q)$(CC) $(CPPFLAGS) $(DOMUD_CFLAGS) -Isrc/chan $(CFLAGS) $(LDFLAGS) $(DEP_FLAGS) -MF $@.d \
		-o $@ $< $(LIBDOMUD)

chancheck: $(O)/chantest $(O)/domud-agent
	$(Q)$(O)/chantest $(O)/domud-agent tests/e2e/guest/vxn-init

# ---- the frame parser's cost per MiB, on the host: a hostile guest's worst
# case (fake headers claiming 4096 bytes, bad CRCs) and ordinary traffic
$(O)/parsebench: tests/chan/parsebench.c src/chan/frame.c src/chan/frame.h $(FLAGS_STAMP)
	$(call say,CCLD,$(@F))
	$(Q)$(CC) $(CPPFLAGS) $(STD_CFLAGS) $(INC) $(CFLAGS) $(LDFLAGS) \
		-o $@ tests/chan/parsebench.c src/chan/frame.c

# the supervisor at 1, 100 and 1000 services on the fake backend
$(O)/scalebench: tests/bench/scale.c $(O)/tests/unit/fake_backend.o $(LIBDOMUD) $(FLAGS_STAMP)
	$(call say,CCLD,$(@F))
	$(Q)$(CC) $(CPPFLAGS) $(DOMUD_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(O)/tests/unit/fake_backend.o $(LIBDOMUD) $(LIBS_NET) $(LIBS_CORE)

bench-host: $(O)/parsebench $(O)/scalebench
	$(Q)$(O)/parsebench
	$(Q)$(O)/scalebench 2> /dev/null
	$(Q)$(MAKE) --no-print-directory bench-sizes

# ---- sizes (P5, P6): the static domud beside a static program that only
# creates a domain through libxl, linked the same way; the agent against
# glibc and against musl
$(O)/xlmin: tests/bench/xlmin.c $(XS_DEP) $(FLAGS_STAMP)
	$(call say,CCLD,$(@F))
	$(Q)$(CC) $(CPPFLAGS) $(DOMUD_CFLAGS) $(CFLAGS) $(LDFLAGS) $(STATIC_LDFLAGS) \
		$(SYSROOT_LDFLAGS) -o $@ $< $(LIBS_XEN) $(LIBS_CORE) 2> $@.ldwarn || \
		{ cat $@.ldwarn; exit 1; }

$(O)/agent-glibc: $(AGENT_SRCS) $(FLAGS_STAMP)
	$(Q)$(CC) $(CPPFLAGS) $(AGENT_CFLAGS) $(CFLAGS) $(LDFLAGS) -static -o $@ \
		$(AGENT_SRCS)

bench-sizes:
	$(Q)$(MAKE) --no-print-directory O=$(O)/sizes STATIC=1 $(O)/sizes/domud \
		$(O)/sizes/xlmin $(O)/sizes/domud-agent $(O)/sizes/agent-glibc
	$(Q)sz() { wc -c < "$$1" | tr -d ' '; }; \
	st() { $(CROSS_COMPILE)strip -o "$$1.stripped" "$$1" && sz "$$1.stripped"; }; \
	d=$(O)/sizes; \
	echo "bench: static_size domud=$$(sz $$d/domud) domud_stripped=$$(st $$d/domud)" \
	    "libxl_create_only=$$(sz $$d/xlmin) libxl_create_only_stripped=$$(st $$d/xlmin)" \
	    "ratio_stripped=$$(awk -v a=$$(sz $$d/domud.stripped) -v b=$$(sz $$d/xlmin.stripped) \
	    'BEGIN{printf "%.2f", a/b}')"; \
	echo "bench: agent_size built=$$(sz $$d/domud-agent) built_stripped=$$(st $$d/domud-agent)" \
	    "compiler=$(notdir $(firstword $(AGENT_CC))) glibc=$$(sz $$d/agent-glibc)" \
	    "glibc_stripped=$$(st $$d/agent-glibc)"

.PHONY: netcheck chancheck bench-host bench-sizes
