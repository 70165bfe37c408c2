# SPDX-License-Identifier: GPL-2.0
#
# tscf: kernel module (kmod/), userspace tools (tools/), server (server/).
#
#   make            build everything
#   make demo       run the demo in a VM
#   make check      install what is missing, build, run every test
#   make check-host-asan  the host tests against ASAN+UBSan builds
#   make fuzz       fuzz the protocol decoder and stream framer
#   make bench      iperf3 through veth, WireGuard and each tscf path (table)
#   make vm-shell   a shell in the test VM with tscf.ko loaded
#   make sparse     build the module with W=1 and sparse (C=2)
#   make ynl        regenerate uapi/linux/tscf_genl.h and kmod/netlink-gen.[ch]
#                   from docs/netlink/tscf.yaml (Linux 6.12's ynl-gen)
#   make check-debug  the kernel suite on a debug kernel (KASAN, lockdep,
#                   PROVE_RCU, kmemleak), built once into /opt/tscf-cache
#   make check-612  the kernel suite on Debian 13's kernel, 6.12 (tscf.ko
#                   built for it in build/kmod-<release>/)
#
# Kernel build variables: KVER (kernel version to build for and boot in the
# VM) and KDIR (its build tree).  Default: the running kernel when its
# headers are installed, else Debian's default kernel (the one
# linux-headers-amd64 depends on: 6.1 on Debian 12, even with 6.12 installed
# for its own lane, `make check-612`), else the newest kernel with headers in
# /lib/modules (the debug lane's own kernel, *-tscfdbg, is never the default).

KVER ?= $(shell v=$$(uname -r); \
	d=$$(dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | \
		sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p'); \
	if [ -d /lib/modules/$$v/build ]; then echo $$v; \
	elif [ -n "$$d" ] && [ -d /lib/modules/$$d/build ]; then echo $$d; else \
	ls -1 /lib/modules 2>/dev/null | grep -v -- -tscfdbg | sort -rV | while read k; do \
	[ -d /lib/modules/$$k/build ] && { echo $$k; break; }; done; fi)
KDIR ?= /lib/modules/$(KVER)/build
export KVER

.PHONY: all kmod tools server clean check demo deps vm-shell fuzz sparse bench \
	check-host check-kernel check-debug check-host-asan ynl check-612

all: kmod tools server

kmod:
	@test -d "$(KDIR)" || { echo "no kernel build tree at '$(KDIR)': run tools/install-deps.sh or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=2 modules

ynl:
	@sh tools/ynl-fetch.sh
	@sh tools/ynl-gen.sh

tools:
	$(MAKE) -C tools
	$(MAKE) -C tools/exec
	$(MAKE) -C tools/ctl

server: tools
	$(MAKE) -C server

fuzz:
	$(MAKE) -C tools fuzz

deps:
	@sh tools/install-deps.sh

check: deps
	$(MAKE) all
	@sh selftests/check.sh

check-host: all
	@sh selftests/run-tests.sh selftests/host

# The host suite against tscfd, tscfctl and the protocol library built with
# -fsanitize=address,undefined (server/Makefile "asan"); fails on any
# sanitizer report, kept in build/asan/logs.
check-host-asan: tools
	$(MAKE) -C server asan
	@rm -f build/asan/logs/*
	@TSCF_FLOOD_RATE=$${TSCF_FLOOD_RATE:-3000} \
	sh build/asan/tree/selftests/run-tests.sh build/asan/tree/selftests/host; rc=$$?; \
	if ls build/asan/logs/* >/dev/null 2>&1; then \
		cat build/asan/logs/*; echo "FAIL: sanitizer reports in build/asan/logs"; exit 1; \
	fi; exit $$rc

check-kernel: all
	@sh selftests/vm/vm-run.sh sh selftests/run-tests.sh selftests/kernel

check-debug: all
	@sh selftests/vm/debug-lane.sh

check-612: tools server
	@sh tools/install-deps.sh --with-612
	@sh selftests/vm/kver-lane.sh 6.12

demo: deps
	$(MAKE) all
	@sh selftests/vm/vm-run.sh sh tools/demo.sh

bench: deps
	$(MAKE) all
	@mkdir -p build
	@sh selftests/vm/vm-run.sh sh selftests/bench/bench.sh | tee build/bench.md

vm-shell: kmod
	@sh selftests/vm/vm-run.sh --shell

clean:
	-test -d "$(KDIR)" && $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tools clean
	$(MAKE) -C tools/exec clean
	$(MAKE) -C tools/ctl clean
	$(MAKE) -C server clean
	rm -rf build
