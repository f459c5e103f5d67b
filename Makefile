# IPC Labs: the one build (non-recursive). `make help` lists the targets.
#
# Every product goes under build/. Your own flags go in CFLAGS and LDFLAGS;
# the project's own are kept apart in IPC_CFLAGS so that they always apply.

.DELETE_ON_ERROR:
.SUFFIXES:
.DEFAULT_GOAL := all

CC      ?= cc
CFLAGS  ?= -O2 -g
B       := build

IPC_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -pthread -MMD -MP -Icommon
IPC_LIBS   := -pthread -lrt -lm
CHECK_CFLAGS  := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS    := $(shell pkg-config --libs check 2>/dev/null)
CURSES_CFLAGS := $(shell pkg-config --cflags ncursesw 2>/dev/null)
CURSES_LIBS   := $(shell pkg-config --libs ncursesw 2>/dev/null)

# Debian packages the toolkit needs; README.md and .ci/run name the same list.
DEBS := gcc make pkg-config check libncurses-dev libopenmpi-dev openmpi-bin tmux gdb \
	libxml2-utils python3-jsonschema

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

LABS := $(notdir $(patsubst %/,%,$(wildcard labs/[0-9][0-9]-*/)))

# Labs with the catalogue option mpi (lab 22) compile with Open MPI's headers
# and link with its library: LAB_CFLAGS and LAB_LIBS, set for their files
# only (see mpi_rules). Without Open MPI their programs are left out of the
# build, and the grader reports their tests as skipped.
MPI_LABS    := $(shell awk -F'\t' '$$3 ~ /(^|,)mpi(,|$$)/ {print $$1}' grader/catalogue)
MPI_CFLAGS  := $(shell pkg-config --cflags ompi-c 2>/dev/null)
MPI_LIBS    := $(shell pkg-config --libs ompi-c 2>/dev/null)
MPI_MISSING := Open MPI is not installed: apt-get install libopenmpi-dev openmpi-bin

# ==== libipclab ====

COMMON_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard common/*.c))

$(B)/libipclab.a: $(COMMON_OBJS)
	$(call say,AR,$@)ar rcs $@ $^

$(B)/common/%.o: common/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(IPC_CFLAGS) $(CFLAGS) -c $< -o $@

# ==== The grader ====

GRADER_SRCS := $(filter-out grader/runner.c grader/fault.c grader/xray.c,$(wildcard grader/*.c))
GRADER_OBJS := $(patsubst %.c,$(B)/%.o,$(GRADER_SRCS))

$(B)/ipcgrade: $(GRADER_OBJS) $(B)/libipclab.a
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(CURSES_LIBS) $(IPC_LIBS)

# The grader builds test binaries itself: it is told how to link with Check.
$(B)/grader/%.o: grader/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(IPC_CFLAGS) $(CHECK_CFLAGS) $(CURSES_CFLAGS) $(CFLAGS) \
		-DIPC_CHECK_CFLAGS='"$(CHECK_CFLAGS)"' -DIPC_CHECK_LIBS='"$(CHECK_LIBS)"' -c $< -o $@

# ==== Lab and solution demos ====

$(B)/labs/%.o: labs/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(IPC_CFLAGS) -I$(<D) $(LAB_CFLAGS) $(CFLAGS) -c $< -o $@

$(B)/solutions/%.o: solutions/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(IPC_CFLAGS) -I$(patsubst solutions/%,labs/%,$(<D)) $(LAB_CFLAGS) \
		$(CFLAGS) -c $< -o $@

$(B)/grader/suites/%.o: grader/suites/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(IPC_CFLAGS) -Igrader -Ilabs/$* $(CHECK_CFLAGS) $(LAB_CFLAGS) \
		$(CFLAGS) -c $< -o $@

# As the grader does: the student's calls that fault.c wraps are renamed to it.
SUITE_RUNTIME := $(B)/grader/runner.o $(B)/grader/fault.o $(B)/grader/xray.o $(B)/libipclab.a

# A lab's demo is its main.c with the student's file; a solution's demo is
# the same main.c with the reference file.
define lab_rules
$(B)/labs/$(1)/demo: $(patsubst %.c,$(B)/%.o,$(wildcard labs/$(1)/*.c)) $(B)/libipclab.a
$(B)/solutions/$(1)/demo: $(patsubst %.c,$(B)/%.o,$(wildcard solutions/$(1)/*.c)) \
	$(B)/labs/$(1)/main.o $(B)/libipclab.a
DEMOS += $(B)/labs/$(1)/demo $(B)/solutions/$(1)/demo
# For maintainers: the suite linked with the reference and with the skeleton,
# outside the sandbox (`make suite LAB=04`). The grader builds its own.
$(B)/suite/$(1)/solution-tests: $(filter-out %/main.o,$(patsubst %.c,$(B)/%.o,$(wildcard \
	solutions/$(1)/*.c))) $(B)/grader/suites/$(1).o $(SUITE_RUNTIME)
$(B)/suite/$(1)/skeleton-tests: $(filter-out %/main.o,$(patsubst %.c,$(B)/%.o,$(wildcard \
	labs/$(1)/*.c))) $(B)/grader/suites/$(1).o $(SUITE_RUNTIME)
endef
$(foreach l,$(LABS),$(eval $(call lab_rules,$(l))))

# An MPI lab's objects, demos and suite binaries get Open MPI's flags
# (private: not passed on to prerequisites such as libipclab).
define mpi_rules
$(B)/labs/$(1)/%: private LAB_CFLAGS := $(MPI_CFLAGS)
$(B)/labs/$(1)/%: private LAB_LIBS := $(MPI_LIBS)
$(B)/solutions/$(1)/%: private LAB_CFLAGS := $(MPI_CFLAGS)
$(B)/solutions/$(1)/%: private LAB_LIBS := $(MPI_LIBS)
$(B)/grader/suites/$(1).o: private LAB_CFLAGS := $(MPI_CFLAGS)
$(B)/suite/$(1)/%: private LAB_LIBS := $(MPI_LIBS)
endef
$(foreach l,$(filter $(MPI_LABS),$(LABS)),$(eval $(call mpi_rules,$(l))))
ifeq ($(MPI_LIBS),)
DEMOS := $(filter-out $(foreach l,$(MPI_LABS),$(B)/labs/$(l)/% $(B)/solutions/$(l)/%),$(DEMOS))
endif

%/demo:
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LAB_LIBS) $(IPC_LIBS)

%-tests:
	@mkdir -p $(@D)
	$(call say,LD,$@)ld -r -o $@.o $(filter-out $(B)/grader/% $(B)/libipclab.a,$^) && \
		objcopy --redefine-syms=grader/fault.syms $@.o && \
		$(CC) $(LDFLAGS) -o $@ $@.o $(filter $(B)/grader/% $(B)/libipclab.a,$^) \
		$(CHECK_LIBS) $(LAB_LIBS) $(IPC_LIBS)

# ==== Benchmarks ====
#
# bench/NN-name.c measures lab NN's reference solution, linked in; every
# figure it prints is a ratio measured in the same run, never a pass/fail.
# bench/ipcbench.c measures every mechanism the labs teach, side by side.

BENCH_LABS := $(filter $(LABS),$(basename $(notdir $(wildcard bench/[0-9][0-9]-*.c))))
BENCH_BINS := $(patsubst %,$(B)/bench/%,$(BENCH_LABS))

$(B)/bench/%.o: bench/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(IPC_CFLAGS) -Ilabs/$* $(CFLAGS) -c $< -o $@

define bench_rules
$(B)/bench/$(1): $(B)/bench/$(1).o $(filter-out %/main.o,$(patsubst %.c,$(B)/%.o,$(wildcard \
	solutions/$(1)/*.c))) $(B)/libipclab.a
	$$(call say,LD,$$@)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(IPC_LIBS)
endef
$(foreach l,$(BENCH_LABS),$(eval $(call bench_rules,$(l))))

# ipcbench stands alone: it links libipclab only (make bench-ipc).
$(B)/bench/ipcbench: $(B)/bench/ipcbench.o $(B)/libipclab.a
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(IPC_LIBS)

# ==== The project's own tests ====

UNIT_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard tests/common/*.c))

$(B)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(IPC_CFLAGS) $(CHECK_CFLAGS) $(CFLAGS) -c $< -o $@

$(B)/tests/common-tests: $(UNIT_OBJS) $(B)/libipclab.a
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(IPC_LIBS)

# ==== Targets ====

LAB_DIR = $(firstword $(notdir $(wildcard labs/$(LAB) labs/$(LAB)-* labs/0$(LAB)-*)))

# An MPI lab needs Open MPI to build, and its demo runs as NP ranks (4 by default) under mpirun.
NEEDS_MPI = $(if $(filter $(LAB_DIR),$(MPI_LABS)),$(if $(MPI_LIBS),,no))
RUN_MPI = $(if $(filter $(LAB_DIR),$(MPI_LABS)),mpirun -n $(or $(NP),4) --oversubscribe \
	$(if $(filter 0,$(shell id -u)),--allow-run-as-root))

# The skeletons as they came, kept the first time the toolkit is built, for
# ipcgrade --reset (a file already here is never replaced).
PRISTINE := $(patsubst labs/%,$(B)/pristine/%,$(filter-out %/main.c,$(wildcard labs/*/*.c)))

$(B)/pristine/%:
	@mkdir -p $(@D)
	@git show HEAD:labs/$* >$@ 2>/dev/null || cp labs/$* $@

all: $(B)/libipclab.a $(B)/ipcgrade $(DEMOS) $(PRISTINE)

test: all $(B)/tests/common-tests
	@tests/run

mutants: all
	@LAB=$(LAB) tests/grading.py mutants

bench: all $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done
	@echo "== bench/class.sh"; bench/class.sh

bench-ipc: $(B)/bench/ipcbench
	$(B)/bench/ipcbench -o $(B)/bench/ipcbench.png

grade: all
	$(B)/ipcgrade $(if $(SUBMISSION),-s $(SUBMISSION)) $(LAB)

run: all
	@test -n "$(LAB_DIR)" || { echo "usage: make run LAB=04 [ARGS='...']" >&2; exit 2; }
	@test -z "$(NEEDS_MPI)" || { echo "lab $(LAB_DIR): $(MPI_MISSING)" >&2; exit 2; }
	$(RUN_MPI) $(B)/labs/$(LAB_DIR)/demo $(ARGS)

suite: $(B)/libipclab.a
	@test -n "$(LAB_DIR)" || { echo "usage: make suite LAB=04" >&2; exit 2; }
	@test -z "$(NEEDS_MPI)" || { echo "lab $(LAB_DIR): $(MPI_MISSING)" >&2; exit 2; }
	$(MAKE) --no-print-directory $(B)/suite/$(LAB_DIR)/solution-tests $(B)/suite/$(LAB_DIR)/skeleton-tests
	@echo '== the reference solution (every test should pass)'
	-$(B)/suite/$(LAB_DIR)/solution-tests --all
	@echo '== the untouched skeleton (every test should fail)'
	-$(B)/suite/$(LAB_DIR)/skeleton-tests --all

setup:
	$(if $(filter 0,$(shell id -u)),,sudo )apt-get install -y $(DEBS)
	$(MAKE) all

format:
	clang-format -i $(wildcard common/*.[ch] grader/*.[ch] grader/suites/*.c \
		labs/*/*.[ch] solutions/*/*.c tests/*/*.c tests/hostile/*/*/*.c)

clean:
	rm -rf $(B)

help:
	@echo 'make              build the grader, the library and every demo'
	@echo 'make grade        grade labs/ (LAB=04 for one lab, SUBMISSION=dir for another folder)'
	@echo 'make run LAB=04   run a lab'"'"'s demo (ARGS="..." passes arguments; NP=4 ranks for MPI)'
	@echo 'make test         run the project'"'"'s own tests'
	@echo 'make mutants      grade every mutant (planted mistake) and print the kill rate (LAB=04: one lab)'
	@echo 'make bench        measure the labs'"'"' reference code: ratios, in one run'
	@echo 'make bench-ipc    measure every IPC mechanism side by side (chart with gnuplot)'
	@echo 'make suite LAB=04 run a hidden suite on the solution and the skeleton, unsandboxed'
	@echo 'make setup        install the Debian packages, then build'
	@echo 'make clean        remove build/'

.PHONY: all test mutants bench bench-ipc grade run suite setup format clean help

-include $(shell find $(B) -name '*.d' 2>/dev/null)
