# SPDX-License-Identifier: GPL-2.0
#
# tscf: kernel module (kmod/), userspace tools (tools/), server (server/).
#
#   make            build everything
#   make demo       run the demo in a VM
#   make check      install what is missing, build, run every test
#   make check-host-asan  the host tests against ASAN+UBSan builds
#   make fuzz       fuzz the protocol decoder and stream framer
#   make bench      veth, WireGuard, OpenVPN and each tscf path: TCP, UDP RR,
#                   RTP-172 pkt/s, CPU per MB; table and chart in build/bench/
#   make bench-voice  one RTP voice call per path under 1% and 3% outer loss:
#                   latency, jitter, loss, playout-late (build/bench/voice.md)
#   make bench-scale  200,000 UDP and 20,000 TCP clear tunnels on one tscfd
#                   (selftests/bench/scale-table.sh; table in build/bench/scale.md)
#   make vm-shell   a shell in the test VM with tscf.ko loaded
#   make sparse     build the module with W=1 and sparse (C=2)
#   make ynl        regenerate uapi/linux/tscf_genl.h and kmod/netlink-gen.[ch]
#                   from docs/netlink/tscf.yaml (Linux 6.12's ynl-gen)
#   make check-debug  the kernel suite on a debug kernel (KASAN, lockdep,
#                   PROVE_RCU, kmemleak), built once into /opt/tscf-cache
#   make check-packages  build the .debs, install and run them in the VM
#   make check-612  the kernel suite on Debian 13's kernel, 6.12 (tscf.ko
#                   built for it in build/kmod-<release>/)
#   make install    programs, units, configs, man pages (DESTDIR, PREFIX)
#   make modules_install  tscf.ko into /lib/modules/KVER (INSTALL_MOD_PATH)
#   make install-dkms     the module's sources into PREFIX/src for dkms
#   make man        man pages from docs/*.md into build/man (pandoc)
#   make deb        Debian packages into build/deb (from a copy of the tree)
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

.PHONY: all kmod tools server clean check demo deps vm-shell fuzz sparse bench bench-scale bench-voice \
	check-host check-kernel check-debug check-host-asan ynl check-612 check-packages \
	man install install-dkms modules_install deb

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
	$(MAKE) build/selftests/tscf_dev

# The kernel tests' netlink poll (selftests/lib.sh has_tunnel, tunnel_stat).
build/selftests/tscf_dev: selftests/lib/tscf_dev.c uapi/linux/tscf_genl.h
	@mkdir -p build/selftests
	$(CC) -O2 -g -Wall -Wextra -Werror -std=gnu11 -Iuapi -o $@ $<

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

check-packages: all
	@TSCF_LANES=packages sh selftests/check.sh

check-612: tools server
	@sh tools/install-deps.sh
	@sh selftests/vm/kver-lane.sh 6.12

demo: deps
	$(MAKE) all
	@sh selftests/vm/vm-run.sh sh tools/demo.sh

# make bench: one VM boot, every path BENCH_ROUNDS times interleaved,
# BENCH_SECONDS per measurement; report in build/bench/ (docs/BENCH.md).
BENCH_SECONDS ?= 4
BENCH_ROUNDS ?= 3
BENCH_SOCKETS ?= 20000
BENCH_ROWS ?=

build/bench/rtp172: selftests/bench/rtp172.c
	@mkdir -p build/bench
	$(CC) -O2 -g -Wall -Wextra -Werror -std=gnu11 -o $@ $<

bench: deps
	$(MAKE) all
	$(MAKE) build/bench/rtp172
	@rm -f build/bench/vm.rc build/bench/vm.log build/bench/bench.md \
		build/bench/results.json build/bench/ratios.png build/bench/commit
	@git describe --always --dirty --abbrev=12 > build/bench/commit 2>/dev/null || true
	@{ VM_TIMEOUT=$${VM_TIMEOUT:-2400} sh selftests/vm/vm-run.sh env \
		BENCH_SECONDS=$(BENCH_SECONDS) BENCH_ROUNDS=$(BENCH_ROUNDS) \
		BENCH_SOCKETS=$(BENCH_SOCKETS) "BENCH_ROWS=$(BENCH_ROWS)" \
		sh selftests/bench/bench.sh; \
		echo $$? > build/bench/vm.rc; } | tee build/bench/vm.log
	@python3 selftests/bench/report.py build/bench
	@echo "bench: build/bench/bench.md, results.json, ratios.png"

# make bench-voice: one voice call per path and outer loss (netem on the
# veth), latency, jitter, loss and playout-late; build/bench/voice.md.
VOICE_SECONDS ?= 20
VOICE_LOSS ?= 1 3
VOICE_ROUNDS ?= 1
VOICE_ROWS ?=

build/bench/rtpvoice: selftests/bench/rtpvoice.c
	@mkdir -p build/bench
	$(CC) -O2 -g -Wall -Wextra -Werror -std=gnu11 -o $@ $<

bench-voice: deps
	$(MAKE) all
	$(MAKE) build/bench/rtpvoice
	@rm -f build/bench/voice-vm.rc build/bench/voice-vm.log build/bench/voice.md \
		build/bench/voice.json build/bench/voice-commit
	@git describe --always --dirty --abbrev=12 > build/bench/voice-commit 2>/dev/null || true
	@{ VM_TIMEOUT=$${VM_TIMEOUT:-1800} sh selftests/vm/vm-run.sh env \
		VOICE_SECONDS=$(VOICE_SECONDS) "VOICE_LOSS=$(VOICE_LOSS)" \
		VOICE_ROUNDS=$(VOICE_ROUNDS) "VOICE_ROWS=$(VOICE_ROWS)" \
		sh selftests/bench/voice.sh; \
		echo $$? > build/bench/voice-vm.rc; } | tee build/bench/voice-vm.log
	@python3 selftests/bench/voice_report.py build/bench
	@echo "bench-voice: build/bench/voice.md, voice.json"

build/bench/tscf-load: selftests/bench/tscf-load.c tools/lib/tscf_proto.h tools
	@mkdir -p build/bench
	$(CC) -O2 -g -Wall -Wextra -Werror -std=gnu11 -Iuapi -Itools/lib -o $@ $< \
		tools/lib/libtscfproto.a

# On the host (tscfd in a namespace); the TCP run goes to the VM if the
# descriptor limit cannot be raised here.
bench-scale: server build/bench/tscf-load
	@sh selftests/bench/scale-table.sh

vm-shell: kmod
	@sh selftests/vm/vm-run.sh --shell

clean:
	-test -d "$(KDIR)" && $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tools clean
	$(MAKE) -C tools/exec clean
	$(MAKE) -C tools/ctl clean
	$(MAKE) -C server clean
	rm -rf build

# --- installing --------------------------------------------------------------
# Paths follow WireGuard's and ocserv's: programs under PREFIX, configuration
# in /etc/tscf whatever PREFIX is.  An existing configuration file is never
# overwritten.  The units name the installed programs' paths.
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' $(CURDIR)/dkms.conf)
PREFIX ?= /usr
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
MAN_PAGES := build/man/tscfctl.8 build/man/tscfd.8 build/man/tscfd.conf.5 \
	build/man/tscf-exec.1

man: $(MAN_PAGES)

# docs/NAME.md starts with "# NAME(SECTION)"; the rest is the page.
define pandoc_man
	@mkdir -p build/man
	sed 1d $< | pandoc -f markdown -t man -s --shift-heading-level-by=-1 -M title=$(shell echo $* | tr a-z A-Z) \
		-M section=$(1) -M header="tscf manual" -M footer="tscf $(VERSION)" -o $@
endef
build/man/%.8: docs/%.md dkms.conf Makefile
	$(call pandoc_man,8)
build/man/%.5: docs/%.md dkms.conf Makefile
	$(call pandoc_man,5)
build/man/%.1: docs/%.md dkms.conf Makefile
	$(call pandoc_man,1)

install: tools server man
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/tscf \
		$(DESTDIR)$(SYSCONFDIR)/tscf $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DATADIR)/bash-completion/completions
	install -m 755 server/tscfd tools/tscfctl $(DESTDIR)$(SBINDIR)/
	# tscf-exec finds the library at ../lib/tscf/ from its own directory.
	install -m 755 tools/exec/tscf-exec $(DESTDIR)$(BINDIR)/tscf-exec
	install -m 644 tools/libtscf-preload.so $(DESTDIR)$(LIBDIR)/tscf/
	install -m 644 build/man/tscf-exec.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 build/man/tscfd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 build/man/tscfctl.8 build/man/tscfd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 dist/bash-completion/tscfctl $(DESTDIR)$(DATADIR)/bash-completion/completions/
	install -m 644 dist/sysusers.d/tscfd.conf $(DESTDIR)$(SYSUSERSDIR)/tscfd.conf
	for u in tscfd.service tscf@.service; do \
		sed -e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/etc/tscf/|$(SYSCONFDIR)/tscf/|g' \
			dist/systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	for c in tscfd.conf tscf0.conf.example; do \
		[ -e $(DESTDIR)$(SYSCONFDIR)/tscf/$$c ] || \
		install -m 644 dist/$$c $(DESTDIR)$(SYSCONFDIR)/tscf/$$c || exit 1; \
	done
	if [ -f tools/wireshark/tscf.lua ]; then \
		install -d $(DESTDIR)$(DATADIR)/tscf/wireshark && \
		install -m 644 tools/wireshark/tscf.lua $(DESTDIR)$(DATADIR)/tscf/wireshark/; \
	fi
	# The server's system user, when installing onto this system.
	if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERSDIR)/tscfd.conf; fi

# The module's dkms source tree: what Kbuild needs, nothing else.
install-dkms:
	install -d $(DESTDIR)$(PREFIX)/src/tscf-$(VERSION)/kmod \
		$(DESTDIR)$(PREFIX)/src/tscf-$(VERSION)/uapi/linux
	install -m 644 dkms.conf Kbuild $(DESTDIR)$(PREFIX)/src/tscf-$(VERSION)/
	install -m 644 kmod/Kbuild $(wildcard kmod/*.c kmod/*.h) \
		$(DESTDIR)$(PREFIX)/src/tscf-$(VERSION)/kmod/
	install -m 644 $(wildcard uapi/linux/*.h) $(DESTDIR)$(PREFIX)/src/tscf-$(VERSION)/uapi/linux/

# INSTALL_MOD_PATH (a staging root) and INSTALL_MOD_DIR (default extra) are
# the kernel's own variables; they reach its make from ours.
modules_install: kmod
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

# dpkg-buildpackage in a copy of the tracked (and new, unignored) files (or,
# outside git, of a cleaned copy of the tree), so
# neither the build nor debian/rules clean touches this tree.
deb:
	@command -v dpkg-buildpackage >/dev/null || { echo "make deb: dpkg-buildpackage missing: run tools/install-deps.sh" >&2; exit 1; }
	rm -rf build/deb && mkdir -p build/deb/src/tscf-$(VERSION)
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard | \
		xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
		tar --null -T - -cf - | tar -xf - -C build/deb/src/tscf-$(VERSION); \
	else \
		tar --exclude=./build --exclude-vcs -cf - . | tar -xf - -C build/deb/src/tscf-$(VERSION) && \
		$(MAKE) -C build/deb/src/tscf-$(VERSION) clean KDIR=/nonexistent >/dev/null; \
	fi
	cd build/deb/src/tscf-$(VERSION) && DEB_BUILD_OPTIONS="$$DEB_BUILD_OPTIONS noautodbgsym" dpkg-buildpackage -us -uc -b > ../build.log 2>&1 || \
		{ tail -n 40 ../build.log; echo "make deb: failed; log in build/deb/src/build.log" >&2; exit 1; }
	mv build/deb/src/*.deb build/deb/
	rm -rf build/deb/src
	@ls -1 build/deb/*.deb
