# voxbench: `make run` (set-up, build, the default benchmark, a report) and `make test`.
# BUILD=dir puts every output elsewhere; CC=clang builds with clang.

BUILD   ?= build
# make predefines CC as cc: only an explicit CC=... replaces gcc
ifeq ($(origin CC),default)
CC = gcc
endif
PYTHON  ?= /usr/bin/python3
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -Wno-missing-field-initializers -fopenmp -I/usr/include
LDLIBS  += -ljansson -lexpat -lxxhash -ltiff -lcrypto -ldl -lm
LDFLAGS += -fopenmp

# Debian packages voxbench needs to build, run and test; `setup` installs the missing ones.
DEB_PACKAGES = ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd libxxhash-dev \
	libjansson-dev libexpat1-dev libtiff-dev libssl-dev gnuplot-nox python3-scipy python3-numpy python3-skimage \
	python3-pil clang libclang-rt-14-dev

# The CUDA backend builds where the toolkit's headers are (CUDA_HOME), unless CUDA=0. Only the
# headers: libcuda and NVRTC are opened at run time. -idirafter keeps /usr/include's CL/ first.
CUDA_HOME ?= /usr/local/cuda
ifneq ($(CUDA),0)
ifneq ($(wildcard $(CUDA_HOME)/include/cuda.h),)
HAVE_CUDA = 1
CFLAGS  += -DVB_HAVE_CUDA -idirafter $(CUDA_HOME)/include
endif
endif

TEST_DEB_PACKAGES = chromium python3-venv zsh

# The users' own Python libraries, for the tests that check them (pyclesperanto on PoCL): PyPI
# packages in a virtual environment of the build, which also sees Debian's numpy and scipy.
VENV = $(BUILD)/venv
PY_TEST_PACKAGES = pyclesperanto==0.25.1 pyclesperanto-opencl==0.25.1

LIB_DIRS = common stacks ops reference_cpu reports probe python bench
LIB_SRCS = $(wildcard $(addsuffix /*.c,$(LIB_DIRS)))
CLI_SRCS = $(wildcard cli/*.c)
KERNELS  = $(sort $(wildcard kernels/*.cl))
PY_SCRIPTS = $(sort $(wildcard python/*.py))
HEADERS  = $(wildcard */*.h) $(wildcard ops/*.def)

LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/kernels_embedded.o \
	$(BUILD)/obj/python_embedded.o
ifdef HAVE_CUDA
LIB_OBJS += $(BUILD)/obj/cuda_preamble.o
endif
CLI_OBJS = $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS = $(wildcard tests/*.c)
TEST_BINS = $(patsubst tests/%.c,$(BUILD)/tests/%,$(filter-out tests/fuzz_%.c,$(TEST_SRCS)))
# benchmarks of the project itself (tools/*.c), not tests
TOOL_BINS = $(patsubst tools/%.c,$(BUILD)/tools/%,$(wildcard tools/*.c))

# `make install PREFIX=/usr/local DESTDIR=...`: the binary, voxbench(1) and the bash and zsh
# completions, the last three written by the binary from its own tables at build time.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
BASH_COMPLETION_DIR ?= $(PREFIX)/share/bash-completion/completions
ZSH_COMPLETION_DIR  ?= $(PREFIX)/share/zsh/site-functions
DOCDIR  ?= $(PREFIX)/share/doc/voxbench
DOCS = $(BUILD)/doc/voxbench.1 $(BUILD)/doc/voxbench.bash $(BUILD)/doc/_voxbench

.PHONY: all setup setup-test setup-venv run test fuzz clean install uninstall
all: $(BUILD)/voxbench $(TEST_BINS) $(TOOL_BINS) $(DOCS)

# install_missing PACKAGES: apt-get install those not installed yet (root, or through sudo).
# SETUP=0 skips it: on Fedora or Arch install the packages the README names, then make SETUP=0.
ifeq ($(SETUP),0)
define install_missing
	@echo "setup: skipped (SETUP=0)"
endef
else
define install_missing
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "setup: installing $$missing"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef
endif

setup:
	$(call install_missing,$(DEB_PACKAGES))

# Only the tests need these: the report page is loaded in a headless browser, zsh parses its
# completion file.
setup-test:
	$(call install_missing,$(TEST_DEB_PACKAGES))

setup-venv: $(VENV)/.installed
$(VENV)/.installed: Makefile
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check $(PY_TEST_PACKAGES)
	touch $@

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# Kernel sources become C strings, so the installed binary needs no data files.
$(BUILD)/gen/kernels_embedded.c: $(KERNELS) kernels/embed.sh
	@mkdir -p $(dir $@)
	sh kernels/embed.sh $(KERNELS) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/kernels_embedded.o: $(BUILD)/gen/kernels_embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iops -c $< -o $@

# The Python scripts run in the user's interpreters (probe, peers) become C strings too.
$(BUILD)/gen/python_embedded.c: $(PY_SCRIPTS) python/embed.sh
	@mkdir -p $(dir $@)
	sh python/embed.sh $(PY_SCRIPTS) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/python_embedded.o: $(BUILD)/gen/python_embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The CUDA preamble (prepended to every kernel before NVRTC) becomes the string cuda_preamble.
$(BUILD)/gen/cuda_preamble.c: kernels/cuda_preamble.h
	@mkdir -p $(dir $@)
	{ echo '/* generated from kernels/cuda_preamble.h: do not edit */'; \
	  echo 'const char cuda_preamble[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/cuda_preamble.o: $(BUILD)/gen/cuda_preamble.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libvoxbench.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/voxbench: $(CLI_OBJS) $(BUILD)/libvoxbench.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The man page and completions from the tables they describe (voxbench help --man, ...).
$(BUILD)/doc/voxbench.1: $(BUILD)/voxbench
	@mkdir -p $(dir $@)
	$(BUILD)/voxbench help --man > $@.tmp && mv $@.tmp $@
$(BUILD)/doc/voxbench.bash: $(BUILD)/voxbench
	@mkdir -p $(dir $@)
	$(BUILD)/voxbench help --completion > $@.tmp && mv $@.tmp $@
$(BUILD)/doc/_voxbench: $(BUILD)/voxbench
	@mkdir -p $(dir $@)
	$(BUILD)/voxbench help --completion=zsh > $@.tmp && mv $@.tmp $@

install: $(BUILD)/voxbench $(DOCS)
	install -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(MANDIR)/man1' \
		'$(DESTDIR)$(BASH_COMPLETION_DIR)' '$(DESTDIR)$(ZSH_COMPLETION_DIR)' '$(DESTDIR)$(DOCDIR)'
	install -m 755 $(BUILD)/voxbench '$(DESTDIR)$(BINDIR)/voxbench'
	install -m 644 $(BUILD)/doc/voxbench.1 '$(DESTDIR)$(MANDIR)/man1/voxbench.1'
	install -m 644 $(BUILD)/doc/voxbench.bash '$(DESTDIR)$(BASH_COMPLETION_DIR)/voxbench'
	install -m 644 $(BUILD)/doc/_voxbench '$(DESTDIR)$(ZSH_COMPLETION_DIR)/_voxbench'
	install -m 644 LICENSE '$(DESTDIR)$(DOCDIR)/LICENSE'

uninstall:
	rm -f '$(DESTDIR)$(BINDIR)/voxbench' '$(DESTDIR)$(MANDIR)/man1/voxbench.1' \
		'$(DESTDIR)$(BASH_COMPLETION_DIR)/voxbench' '$(DESTDIR)$(ZSH_COMPLETION_DIR)/_voxbench' \
		'$(DESTDIR)$(DOCDIR)/LICENSE'
	-rmdir '$(DESTDIR)$(DOCDIR)' 2>/dev/null

# The sub-commands without main(), for the tests that call one in-process (cmd_info).
$(BUILD)/libvoxbench_cli.a: $(filter-out $(BUILD)/obj/cli/main.o,$(CLI_OBJS))
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/%: tests/%.c $(BUILD)/libvoxbench_cli.a $(BUILD)/libvoxbench.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libvoxbench_cli.a $(BUILD)/libvoxbench.a $(LDLIBS)

$(BUILD)/tools/%: tools/%.c $(BUILD)/libvoxbench.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libvoxbench.a $(LDLIBS)

# The run's report, then its page: report/index.html, whose path is printed last.
run: setup all
	@status=0; echo "$(BUILD)/voxbench run --cpu-runs 1 --out report.json"; \
	$(BUILD)/voxbench run --cpu-runs 1 --out report.json || status=$$?; \
	if [ $$status -le 1 ] && [ -s report.json ]; then \
		$(BUILD)/voxbench report report.json --html report || status=$$?; \
	fi; exit $$status

test: setup setup-test setup-venv all
	VOXBENCH=$(abspath $(BUILD))/voxbench BUILD=$(abspath $(BUILD)) PYTHON=$(PYTHON) \
		VENV_PYTHON=$(abspath $(VENV))/bin/python V=$(V) \
		bash tests/run.sh $(T)

# libFuzzer over the TIFF reader (clang); a crashing input is left in $(BUILD)/fuzz/.
FUZZ_SECONDS ?= 300
fuzz: setup
	mkdir -p $(BUILD)/fuzz && FUZZ_SECONDS=$(FUZZ_SECONDS) TEST_TMP=$(abspath $(BUILD))/fuzz \
		bash tests/test_tiff_fuzz.sh

clean:
	rm -rf $(BUILD)
