# PMEMNFS_CHECK_LIB(VAR, pkg-config-module, debian-package)
# One probe per dependency: pkg-config, and a message naming the Debian
# package when the module is missing.
AC_DEFUN([PMEMNFS_CHECK_LIB], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found (pkg-config module '$2'): install the Debian package $3])])
])

# AX_PTHREAD_SIMPLE: glibc has pthreads in libc; still pass -pthread so the
# compiler defines _REENTRANT and links correctly on older toolchains.
AC_DEFUN([AX_PTHREAD_SIMPLE], [
  PTHREAD_CFLAGS="-pthread"
  PTHREAD_LIBS="-pthread"
  AC_SUBST([PTHREAD_CFLAGS])
  AC_SUBST([PTHREAD_LIBS])
])
