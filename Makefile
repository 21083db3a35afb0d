# Thin wrapper around Meson. See README.md.
#   make                  optimised build with debug info (-O2 -g) in build/;
#                         the binary is build/src/cli/omamori
#   make install          copies it to $(DESTDIR)$(PREFIX)/bin (PREFIX=/usr/local)
BUILD      ?= build
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
ASAN_BUILD ?= build-sanitize
FUZZ_BUILD ?= build-fuzz
BENCH_BUILD ?= build-release
FUZZ_SECONDS ?= 60
MESON_SETUP = meson setup --wipe

.PHONY: all build deps test unit sanitize demo bench fuzz lint format clean install uninstall peer compare

all: build

deps:
	@bash scripts/install-deps

# debugoptimized is also the project's default; said here so that the build
# a user runs never depends on how meson's default is set
$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The binary is all there is to install: the message catalogues are built
# into it and the state directory is made on first use.
install: build
	install -d "$(DESTDIR)$(BINDIR)"
	install -m 0755 $(BUILD)/src/cli/omamori "$(DESTDIR)$(BINDIR)/omamori"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/omamori"

unit: build
	meson test -C $(BUILD) --print-errorlogs

test: deps
	$(MAKE) build
	meson test -C $(BUILD) --print-errorlogs
	$(MAKE) sanitize

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

sanitize: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN_BUILD) --print-errorlogs --timeout-multiplier 3

demo: deps
	$(MAKE) build
	bash scripts/demo $(BUILD)

$(BENCH_BUILD)/build.ninja:
	meson setup $(BENCH_BUILD) --buildtype=release -Dtests=false

bench: deps peer $(BENCH_BUILD)/build.ninja
	ninja -C $(BENCH_BUILD)
	OMAMORI=$(BENCH_BUILD)/src/cli/omamori bash bench/run
	bash bench/store-cost $(BENCH_BUILD)/src/cli/omamori
	OMAMORI=$(BENCH_BUILD)/src/cli/omamori bash bench/app-layer
	OMAMORI=$(BENCH_BUILD)/src/cli/omamori bash bench/rules
	OMAMORI=$(BENCH_BUILD)/src/cli/omamori bash bench/guards
	OMAMORI=$(BENCH_BUILD)/src/cli/omamori bash bench/intel
	OMAMORI=$(BENCH_BUILD)/src/cli/omamori bash bench/gateway
	OMAMORI=$(BENCH_BUILD)/src/cli/omamori nice -n 10 bash bench/store-pg
	OMAMORI=$(BENCH_BUILD)/src/cli/omamori bash bench/spam
	OMAMORI=$(BENCH_BUILD)/src/cli/omamori bash bench/report-pdf
	OMAMORI=$(BENCH_BUILD)/src/cli/omamori bash bench/av
	OMAMORI=$(BENCH_BUILD)/src/cli/omamori bash bench/drill
	OMAMORI=$(BENCH_BUILD)/src/cli/omamori bash bench/console
	OMAMORI=$(BENCH_BUILD)/src/cli/omamori nice -n 10 bash bench/desk

# Suricata 7, the peer of `make compare` and `make bench` (not needed by `make test`)
peer:
	@bash scripts/install-deps --peer

# Differential run against Suricata 7 over tests/pcap/data, the crafted pcap
# test captures and CAPTURES (files or directories). The report goes to
# docs/compare-output.txt, or to $(BUILD)/compare.txt when CAPTURES is given;
# STRICT=1 fails on a disagreement docs/net.md does not explain. Then the
# app-layer records (http, dns, tls, quic, smtp, ftp, fileinfo) of both,
# field by field, into docs/compare-app-output.txt (scripts/compare-app).
COMPARE_OUT ?= $(if $(CAPTURES),$(BUILD)/compare.txt,docs/compare-output.txt)
COMPARE_APP_OUT ?= $(if $(CAPTURES),$(BUILD)/compare-app.txt,docs/compare-app-output.txt)
# the rule engine: tests/detect's corpus over its crafted captures (and, with
# CAPTURES, every ET Open file over them too) against Suricata 7
COMPARE_RULES_OUT ?= $(if $(CAPTURES),$(BUILD)/compare-rules.txt,docs/compare-rules-output.txt)
# and ET Open over a capture with rule matches planted (bench/plant-rules.py)
COMPARE_PLANTED_OUT ?= $(if $(CAPTURES),$(BUILD)/compare-rules-planted.txt,docs/compare-rules-planted.txt)
compare: deps peer build
	python3 scripts/compare --omamori $(BUILD)/src/cli/omamori --out $(COMPARE_OUT) \
	  $(if $(STRICT),--strict) $(CAPTURES)
	python3 scripts/compare-app --omamori $(BUILD)/src/cli/omamori --out $(COMPARE_APP_OUT) \
	  $(CAPTURES)
	python3 scripts/compare-rules --omamori $(BUILD)/src/cli/omamori --out $(COMPARE_RULES_OUT) \
	  $(if $(CAPTURES),--et-open $(CAPTURES))
	python3 bench/plant-rules.py --compare $(BUILD)/src/cli/omamori $(COMPARE_PLANTED_OUT)

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link

fuzz: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	bash tests/fuzz/run $(FUZZ_BUILD) $(FUZZ_SECONDS)

lint:
	python3 scripts/check-includes
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --suppress=missingIncludeSystem -Isrc src
	@clang-format --dry-run --Werror $$(git ls-files 'src/*.c' 'src/*.h') || \
	  { echo "lint: formatting differs from .clang-format; run 'make format'"; exit 1; }

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(BENCH_BUILD)
