# agentkpi: the only build file. `make` builds ./agentkpi; `make run` and
# `make test` are the two commands a newcomer needs (see README.md).

CC      ?= cc
FUZZ_CC ?= clang
OPT     ?= -O2
PKGS    := libmicrohttpd libpq jansson uuid libcrypto
WARN    := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
           -Wshadow -Wpointer-arith -Wcast-qual -Wsign-compare -fno-common
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) -MMD -MP \
           -Iserver -Iapi $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

# FUZZ=1: clang objects instrumented for libFuzzer (make fuzz sets it)
ifeq ($(FUZZ),1)
CC      := $(FUZZ_CC)
BUILD   ?= build-fuzz
CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined \
           -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else ifeq ($(SANITIZE),1)
BUILD   ?= build-san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else
BUILD   ?= build
endif
ifeq ($(DEBUG),1)
OPT     := -O0
endif

SERVER_SRCS := server/util.c server/err.c server/log.c server/config.c \
               server/validate.c server/event.c server/facts.c \
               server/stats.c server/db.c server/store.c server/derive.c \
               server/worker.c server/kpi.c server/kpi_agg.c \
               server/rollup.c \
               server/migrate.c \
               server/keys.c server/keycache.c server/http.c server/cli.c
API_SRCS    := api/routes.c api/auth.c api/health.c api/events.c \
               api/conversations.c api/kpis.c api/grafana.c \
               api/grafana_query.c
LIB_SRCS    := $(SERVER_SRCS) $(API_SRCS)
LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB         := $(BUILD)/libagentkpi.a

UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
INTEG_SRCS  := $(wildcard tests/integration/test_*.c)
SUPPORT_SRCS:= $(wildcard tests/support/*.c)
UNIT_BINS   := $(UNIT_SRCS:%.c=$(BUILD)/%)
INTEG_BINS  := $(INTEG_SRCS:%.c=$(BUILD)/%)
SUPPORT_OBJS:= $(SUPPORT_SRCS:%.c=$(BUILD)/%.o)
TEST_LIBS   := $(shell pkg-config --libs criterion libcurl 2>/dev/null)
FAULT_CLIENT:= $(BUILD)/tests/fault/client
TEST_CFLAGS := -Itests/support $(shell pkg-config --cflags criterion 2>/dev/null)

# libFuzzer harnesses (tests/fuzz/fuzz_NAME.c), run by scripts/fuzz.sh
FUZZ_NAMES  := event ndjson query grafana
FUZZ_BINS   := $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz/fuzz_%)
FUZZ_SECONDS ?= 300

BIN := agentkpi
ifeq ($(SANITIZE),1)
BIN := $(BUILD)/agentkpi
endif

# keep test objects: they are not throwaway intermediates
.SECONDARY:

.PHONY: all run test check-tests check format format-check clean demo bench \
        fault soak fuzz fuzz-bins

all: $(BIN)

$(BIN): $(BUILD)/server/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(SUPPORT_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LDLIBS)

$(BUILD)/tests/integration/%: $(BUILD)/tests/integration/%.o $(SUPPORT_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LDLIBS)

# the load client of the fault test and the soak run (libcurl, jansson)
$(FAULT_CLIENT): $(BUILD)/tests/fault/client.o
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libcurl jansson) \
		-lpthread

$(BUILD)/tests/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(LIB)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# Installs what is missing, builds, starts a local PostgreSQL under var/
# when DATABASE_URL is unset, migrates, and serves with a demo key.
run:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/run.sh

# Every test on a throwaway PostgreSQL: normal build, then ASan+UBSan.
test:
	@scripts/deps.sh
	+@scripts/test.sh

# Builds the libFuzzer harnesses with clang (build-fuzz/) and runs each for
# FUZZ_SECONDS on a copy of its seed corpus; fails on a crash, leak,
# undefined behaviour or broken invariant (docs/fuzzing.md).
fuzz:
	@scripts/deps.sh
	+@$(MAKE) --no-print-directory FUZZ=1 fuzz-bins
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_NAMES)

fuzz-bins: $(FUZZ_BINS)

# Loads the public tau2-bench demo data into the service `make run` started.
demo:
	@scripts/demo.sh

# The benchmark of issue 5 (ingest and KPI latency against raw PostgreSQL)
# on a throwaway cluster and server; knobs at the top of bench/run.sh.
# Rewrites docs/benchmarks.md except its History section.
bench: all
	@scripts/deps.sh
	@bench/run.sh

# PostgreSQL restarts and crashes, SIGKILL and SIGTERM of the server under
# ingest load, then a reconciliation of what was acknowledged with what is
# stored (also a phase of `make test`); sizes in tests/fault/run.sh.
fault:
	@scripts/deps.sh
	@SANITIZE=$(SANITIZE) tests/fault/run.sh

# Ten minutes (SOAK_SECONDS) of mixed load at half capacity: latency and
# RSS over time, written to docs/soak.md; not part of `make test`.
soak:
	@scripts/deps.sh
	@SOAK_SANITIZE=$${SOAK_SANITIZE:-$(SANITIZE)} tests/soak/run.sh

# Builds and runs every Criterion binary against DATABASE_URL.
check-tests: $(BIN) $(UNIT_BINS) $(INTEG_BINS)
	@test -n "$$DATABASE_URL" || { echo "check-tests needs DATABASE_URL (use make test)"; exit 2; }
	@./$(BIN) migrate >/dev/null
	@set -e; for t in $(UNIT_BINS) $(INTEG_BINS); do \
		echo "== $$t"; \
		AGENTKPI_BIN=./$(BIN) $$t --jobs 2 --short-filename > $$t.log 2>&1 || { cat $$t.log; exit 1; }; \
		cat $$t.log; \
		if grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' $$t.log; then \
			echo "$$t: sanitizer report above (a leak or undefined behaviour)"; exit 1; \
		fi; \
	done

check: format-check
	@scripts/check-docs.sh

format:
	clang-format -i server/*.[ch] api/*.[ch] tests/*/*.[ch]

format-check:
	clang-format --dry-run --Werror server/*.[ch] api/*.[ch] tests/*/*.[ch]

clean:
	rm -rf build build-san build-fuzz agentkpi

# every object's header dependencies, tests included (a stale test object
# would run with another build's query numbering)
-include $(LIB_OBJS:.o=.d) $(BUILD)/server/main.d \
         $(UNIT_BINS:=.d) $(INTEG_BINS:=.d) $(SUPPORT_OBJS:.o=.d) \
         $(FAULT_CLIENT).d $(FUZZ_BINS:=.d)
