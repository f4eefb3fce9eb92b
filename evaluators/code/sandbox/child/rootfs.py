"""Namespace mode's root file system: a fresh tmpfs with read-only system directories, then ``pivot_root``.

``enter_new_root`` runs once in the supervisor (root of its private mount namespace) before any worker starts. The
new root holds read-only binds of ``/usr``, ``/bin``, ``/sbin``, ``/lib*``, ``/etc`` and the interpreter's prefix,
the device nodes ``null``, ``zero``, ``full``, ``random`` and ``urandom``, a private ``/tmp`` and the work directory
``protocol.WORKDIR_IN_NS``; nothing else of the host (not the project, its data or the expected answers). Detaching
the old root afterwards leaves no path back to it.
"""

from __future__ import annotations

import ctypes
import os
import sys

from .protocol import WORKDIR_IN_NS

_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_MS_NOATIME, _MS_NODIRATIME, _MS_RELATIME = 1024, 2048, 1 << 21
_ST_TO_MS = (
    (2, _MS_NOSUID),
    (4, _MS_NODEV),
    (8, _MS_NOEXEC),
    (1024, _MS_NOATIME),
    (2048, _MS_NODIRATIME),
    (4096, _MS_RELATIME),
)  # # statvfs f_flag bit -> mount flag
_MNT_DETACH = 2
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
NEW_ROOT = "/tmp"  # mount point of the new root inside the private mount namespace
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
DEVICES = ("null", "zero", "full", "random", "urandom")


class _Mounter:
    """``mount(2)`` through libc, with errors as OSError naming source and target."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.mount.argtypes = [
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_ulong,
            ctypes.c_char_p,
        ]

    def mount(self, src, target, fstype, flags, data=None) -> None:
        def enc(s):
            return None if s is None else s.encode()

        if self.libc.mount(enc(src), enc(target), enc(fstype), flags, enc(data)) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"mount {src} -> {target}: {os.strerror(err)}")

    def bind_readonly(self, src, dst, dev=False) -> None:
        """Bind ``src`` on ``dst``, read-only and nodev unless ``dev`` (a device node must stay usable)."""
        self.mount(src, dst, None, _MS_BIND | _MS_REC)
        st = os.statvfs(src).f_flag  # keep the flags a user namespace locks (nosuid, nodev, noexec, atime)
        keep = 0
        for st_bit, ms_bit in _ST_TO_MS:
            if st & st_bit:
                keep |= ms_bit
        flags = _MS_REMOUNT | _MS_BIND | _MS_NOSUID | keep | (0 if dev else _MS_RDONLY | _MS_NODEV)
        try:
            self.mount(None, dst, None, flags)
        except OSError:
            if not dev:
                raise


def _bind_system(m: _Mounter, root: str) -> None:
    """System directories (merged-/usr symlinks are recreated as symlinks) and the interpreter's prefix."""
    for top in SYSTEM_DIRS:
        if os.path.islink(top):
            os.symlink(os.readlink(top), root + top)
        elif os.path.isdir(top):
            os.makedirs(root + top)
            m.bind_readonly(top, root + top)
    bound = tuple(d + "/" for d in SYSTEM_DIRS)
    for prefix in sorted({os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)}):
        if not (prefix + "/").startswith(bound):
            os.makedirs(root + prefix, exist_ok=True)
            m.bind_readonly(prefix, root + prefix)


def _make_devices_and_dirs(m: _Mounter, root: str, uid: int | None) -> None:
    """``/dev`` (a few device nodes and ``fd``), a world-writable sticky ``/tmp`` and the private work directory."""
    os.makedirs(root + "/dev")
    for dev in DEVICES:
        if os.path.exists("/dev/" + dev):
            open(root + "/dev/" + dev, "wb").close()
            m.bind_readonly("/dev/" + dev, root + "/dev/" + dev, dev=True)
    os.symlink("/proc/self/fd", root + "/dev/fd")
    os.makedirs(root + "/tmp")
    os.chmod(root + "/tmp", 0o1777)
    os.makedirs(root + WORKDIR_IN_NS)
    if uid is not None:
        os.chown(root + WORKDIR_IN_NS, uid, uid)
    os.chmod(root + WORKDIR_IN_NS, 0o700)
    os.chmod(root, 0o755)


def _switch_root(m: _Mounter, root: str) -> None:
    """pivot_root(".", ".") stacks the old root on the new one; detaching it leaves no path back."""
    nr = _SYS_PIVOT_ROOT.get(os.uname().machine)
    os.chdir(root)
    if nr is not None:
        if m.libc.syscall(nr, b".", b".") != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"pivot_root: {os.strerror(err)}")
        if m.libc.umount2(b".", _MNT_DETACH) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"umount2: {os.strerror(err)}")
    else:  # unknown architecture: chroot (safe only because the worker drops root)
        os.chroot(".")
    os.chdir("/")


def enter_new_root(tmpfs_mb: int, uid: int | None) -> None:
    """Build the sandbox's root (a ``tmpfs_mb`` MiB tmpfs; the work directory owned by ``uid``) and switch to it."""
    m = _Mounter()
    m.mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    root = NEW_ROOT
    m.mount("tmpfs", root, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={int(tmpfs_mb)}m,mode=755")
    _bind_system(m, root)
    _make_devices_and_dirs(m, root, uid)
    _switch_root(m, root)
