/*
 * errmap.c - the one place where an errno from the engine (or any other
 * internal function) becomes an NFS status.  Handlers never write their
 * own switch: what an errno means to a client is decided once, here, so
 * that the same engine failure always reaches the client as the same
 * NFS4ERR.
 */
#include "config.h"

#include <errno.h>

#include "fsvc.h"

/*
 * See fsvc.h.  err is 0 or a negative errno (a positive one is accepted
 * too).  Unknown errors become NFS4ERR_SERVERFAULT, never NFS4_OK.
 * No locks.
 */
nfsstat4
nfs4_errno_to_status(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return NFS4_OK;
	case EPERM:
		return NFS4ERR_PERM;
	case ENOENT:
		return NFS4ERR_NOENT;
	case EIO:
		return NFS4ERR_IO;
	case ENXIO:
		return NFS4ERR_NXIO;
	case EACCES:
		return NFS4ERR_ACCESS;
	case EEXIST:
		return NFS4ERR_EXIST;
	case EXDEV:
		return NFS4ERR_XDEV;
	case ENOTDIR:
		return NFS4ERR_NOTDIR;
	case EISDIR:
		return NFS4ERR_ISDIR;
	case EINVAL:
		return NFS4ERR_INVAL;
	case EFBIG:
		return NFS4ERR_FBIG;
	case ENOSPC:
		return NFS4ERR_NOSPC;
	case EROFS:
		return NFS4ERR_ROFS;
	case EMLINK:
		return NFS4ERR_MLINK;
	case ENAMETOOLONG:
		return NFS4ERR_NAMETOOLONG;
	case ENOTEMPTY:
		return NFS4ERR_NOTEMPTY;
	case EDQUOT:
		return NFS4ERR_DQUOT;
	case ESTALE:
		return NFS4ERR_STALE;
	case EBADF:
		return NFS4ERR_BADHANDLE;
	case EBADE:
		/* fs_readdir: a cookie verifier not handed out (§18.23.3). */
		return NFS4ERR_NOT_SAME;
	case EBADR:
		/* fs_readdir: a cookie never handed out. */
		return NFS4ERR_BAD_COOKIE;
	case ENOTSUP:
		return NFS4ERR_NOTSUPP;
	case ERANGE:
		return NFS4ERR_TOOSMALL;
	case EAGAIN:
	case EBUSY:
	case EINTR:
		/*
		 * A bounded wait passed (fs_set_break_wait(), DESIGN.md
		 * rule 5) or the object is busy: the client retries.
		 */
		return NFS4ERR_DELAY;
	case ENODATA:
		return NFS4ERR_NOXATTR;
	case E2BIG:
		return NFS4ERR_XATTR2BIG;
	case ELOOP:
		return NFS4ERR_SYMLINK;
	case ENOMEM:
	case ENOBUFS:
		/* Short of memory for now: worth a retry (knfsd does the same). */
		return NFS4ERR_DELAY;
	case EFAULT:
	default:
		return NFS4ERR_SERVERFAULT;
	}
}
