#!/bin/sh
# What dh_installsystemd adds to containerd's postinst (Debian bookworm containerd 1.6.20~ds1-1+deb12u3).
set -e
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	deb-systemd-helper unmask 'containerd.service' >/dev/null || true
	if deb-systemd-helper --quiet was-enabled 'containerd.service'; then
		deb-systemd-helper enable 'containerd.service' >/dev/null || true
	else
		deb-systemd-helper update-state 'containerd.service' >/dev/null || true
	fi
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		if [ -n "$2" ]; then
			_dh_action=restart
		else
			_dh_action=start
		fi
		deb-systemd-invoke $_dh_action 'containerd.service' >/dev/null || true
	fi
fi
