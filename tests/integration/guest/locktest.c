/*
 * locktest.c - POSIX (fcntl) and BSD (flock) locks between two processes
 * of the qemu test guest, on a file of an NFS mount.  Built static by
 * guest-build.sh (the guest has busybox, which has no flock applet).
 *
 * Usage: locktest FILE [FILE2]
 *
 * FILE2, when given, is the same file seen through a second mount with
 * nosharecache: the Linux client settles conflicts between its own
 * processes locally when they lock through one inode, so only a request
 * through the other mount's inode is decided by the server (its LOCK or
 * LOCKT is answered NFS4ERR_DENIED).
 *
 * Prints one "RESULT lock_<case> pass|fail <detail>" line per case (the
 * harness's console protocol, see init.sh) and exits 0 when every case
 * passed.  The two processes talk through pipes; a blocked lock request is
 * recognised by its not completing within BLOCK_PROBE_MS while the
 * conflicting lock is held, and must then complete within WAIT_DEADLINE_S
 * once it is released.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * How long a request that must block is watched before we call it blocked:
 * long enough for a LOCK round trip to the server under TCG (a few ms) to
 * have come back granted if it wrongly were, short enough to keep the run
 * brief.
 */
#define BLOCK_PROBE_MS		1500
/*
 * How long a blocked request may take to be granted after the conflicting
 * lock went away.  The Linux client polls a server that cannot call back
 * (NFSv4.1 CB_NOTIFY_LOCK is optional) at up to 30 s intervals.
 */
#define WAIT_DEADLINE_S		45

static const char *path;
static const char *path2;
static int failures;

static void
result(const char *name, int ok, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	printf("RESULT lock_%s %s %s\n", name, ok ? "pass" : "fail", detail);
	fflush(stdout);
	if (!ok)
		failures++;
}

static int
set_lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = start;
	fl.l_len = len;
	return fcntl(fd, cmd, &fl);
}

/* Wait up to ms for one byte on fd; returns the byte, or -1 on timeout/EOF. */
static int
read_byte(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	unsigned char c;

	if (poll(&p, 1, ms) <= 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		return -1;
	return c;
}

static void
send_byte(int fd, unsigned char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(3);
}

static int
open_path(const char *p)
{
	int fd = open(p, O_RDWR | O_CREAT, 0644);

	if (fd < 0) {
		printf("locktest: open %s: %s\n", p, strerror(errno));
		exit(2);
	}
	return fd;
}

static int
open_file(void)
{
	return open_path(path);
}

/*
 * A child that opens the file itself (its own open owner and lock owner)
 * and runs fn(fd, to_parent, from_parent).
 */
static pid_t
spawn(void (*fn)(int, int, int), int *to_child, int *from_child)
{
	int down[2], up[2];
	pid_t pid;

	if (pipe(down) || pipe(up))
		exit(2);
	pid = fork();
	if (pid < 0)
		exit(2);
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		fn(open_file(), up[1], down[0]);
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	*to_child = down[1];
	*from_child = up[0];
	return pid;
}

static void
reap(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* Child on the second mount: the server decides these. */
static void
child_server_conflict(int fd, int up, int down)
{
	struct flock fl;

	close(fd);
	fd = open_path(path2);
	send_byte(up, set_lock(fd, F_SETLK, F_WRLCK, 50, 10) == 0 ? 'g' :
		  (errno == EAGAIN || errno == EACCES) ? 'd' : 'e');
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_start = 0;
	fl.l_len = 1;
	if (fcntl(fd, F_GETLK, &fl) < 0)
		send_byte(up, 'e');
	else
		send_byte(up, fl.l_type == F_WRLCK ? 'w' : 'u');
	send_byte(up, flock(fd, LOCK_EX | LOCK_NB) == 0 ? 'g' :
		  errno == EWOULDBLOCK ? 'd' : 'e');
	send_byte(up, 's');
	send_byte(up, set_lock(fd, F_SETLKW, F_WRLCK, 0, 10) == 0 ? 'g' : 'e');
	(void)read_byte(down, WAIT_DEADLINE_S * 1000);
}

/* Child: try a conflicting and a disjoint write lock, report both. */
static void
child_trylocks(int fd, int up, int down)
{
	struct flock fl;

	(void)down;
	send_byte(up, set_lock(fd, F_SETLK, F_WRLCK, 50, 10) == 0 ? 'g' :
		  (errno == EAGAIN || errno == EACCES) ? 'd' : 'e');
	send_byte(up, set_lock(fd, F_SETLK, F_WRLCK, 200, 100) == 0 ? 'g' : 'e');
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_start = 0;
	fl.l_len = 1;
	if (fcntl(fd, F_GETLK, &fl) < 0)
		send_byte(up, 'e');
	else
		send_byte(up, fl.l_type == F_WRLCK ? 'w' : 'u');
}

/* Child: a blocking write lock on [0, 10); reports 's' before, 'g' after. */
static void
child_blocking(int fd, int up, int down)
{
	(void)down;
	send_byte(up, 's');
	send_byte(up, set_lock(fd, F_SETLKW, F_WRLCK, 0, 10) == 0 ? 'g' : 'e');
	/* Hold it until the parent has seen the grant. */
	(void)read_byte(down, WAIT_DEADLINE_S * 1000);
}

/* Child: a shared read lock on the range the parent read-locked. */
static void
child_readlock(int fd, int up, int down)
{
	(void)down;
	send_byte(up, set_lock(fd, F_SETLK, F_RDLCK, 0, 100) == 0 ? 'g' : 'e');
	send_byte(up, set_lock(fd, F_SETLK, F_WRLCK, 0, 100) == 0 ? 'g' :
		  (errno == EAGAIN || errno == EACCES) ? 'd' : 'e');
}

/* Child: flock LOCK_EX|LOCK_NB, then LOCK_EX blocking. */
static void
child_flock(int fd, int up, int down)
{
	send_byte(up, flock(fd, LOCK_EX | LOCK_NB) == 0 ? 'g' :
		  errno == EWOULDBLOCK ? 'd' : 'e');
	(void)read_byte(down, WAIT_DEADLINE_S * 1000);
	send_byte(up, flock(fd, LOCK_EX) == 0 ? 'g' : 'e');
}

/* Child: take a write lock and exit holding it (the close releases it). */
static void
child_exit_holding(int fd, int up, int down)
{
	(void)down;
	send_byte(up, set_lock(fd, F_SETLK, F_WRLCK, 0, 0) == 0 ? 'g' : 'e');
	(void)read_byte(down, WAIT_DEADLINE_S * 1000);
	_exit(0);
}

int
main(int argc, char **argv)
{
	int fd, to, from, a, b, c;
	pid_t pid;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: locktest FILE [FILE2]\n");
		return 2;
	}
	path = argv[1];
	path2 = argc == 3 ? argv[2] : NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = open_file();

	/* 1. A held range refuses a conflicting lock, not a disjoint one. */
	if (set_lock(fd, F_SETLK, F_WRLCK, 0, 100) < 0) {
		result("fcntl_conflict", 0, "parent F_SETLK: %s", strerror(errno));
	} else {
		pid = spawn(child_trylocks, &to, &from);
		a = read_byte(from, WAIT_DEADLINE_S * 1000);
		b = read_byte(from, WAIT_DEADLINE_S * 1000);
		c = read_byte(from, WAIT_DEADLINE_S * 1000);
		reap(pid);
		result("fcntl_conflict", a == 'd', "overlapping F_SETLK: %c", a);
		result("fcntl_disjoint", b == 'g', "disjoint F_SETLK: %c", b);
		result("fcntl_getlk", c == 'w', "F_GETLK sees the write lock: %c", c);
		close(to);
		close(from);
	}

	/* 2. F_SETLKW blocks while the range is held and is granted after. */
	pid = spawn(child_blocking, &to, &from);
	a = read_byte(from, WAIT_DEADLINE_S * 1000);
	b = read_byte(from, BLOCK_PROBE_MS);
	if (set_lock(fd, F_SETLK, F_UNLCK, 0, 100) < 0)
		result("fcntl_unlock", 0, "F_UNLCK: %s", strerror(errno));
	c = (b == -1) ? read_byte(from, WAIT_DEADLINE_S * 1000) : -1;
	send_byte(to, 'x');
	reap(pid);
	result("fcntl_blocks", a == 's' && b == -1,
	       "F_SETLKW waited while held: %s", b == -1 ? "yes" : "no");
	result("fcntl_wakeup", c == 'g', "granted after unlock: %c", c);
	close(to);
	close(from);

	/* 3. Read locks are shared; a write lock conflicts with them. */
	if (set_lock(fd, F_SETLK, F_RDLCK, 0, 100) < 0) {
		result("fcntl_shared", 0, "parent F_RDLCK: %s", strerror(errno));
	} else {
		pid = spawn(child_readlock, &to, &from);
		a = read_byte(from, WAIT_DEADLINE_S * 1000);
		b = read_byte(from, WAIT_DEADLINE_S * 1000);
		reap(pid);
		result("fcntl_shared", a == 'g', "second F_RDLCK: %c", a);
		result("fcntl_rd_wr", b == 'd', "F_WRLCK over two read locks: %c", b);
		close(to);
		close(from);
		if (set_lock(fd, F_SETLK, F_UNLCK, 0, 0) < 0)
			result("fcntl_unlock", 0, "F_UNLCK: %s", strerror(errno));
	}

	/* 4. flock (whole-file locks, POSIX locks on the wire for NFS). */
	if (flock(fd, LOCK_EX) < 0) {
		result("flock", 0, "parent LOCK_EX: %s", strerror(errno));
	} else {
		pid = spawn(child_flock, &to, &from);
		a = read_byte(from, WAIT_DEADLINE_S * 1000);
		if (flock(fd, LOCK_UN) < 0)
			result("flock_unlock", 0, "LOCK_UN: %s", strerror(errno));
		send_byte(to, 'x');
		b = read_byte(from, WAIT_DEADLINE_S * 1000);
		reap(pid);
		result("flock_conflict", a == 'd', "LOCK_EX|LOCK_NB while held: %c", a);
		result("flock_after_unlock", b == 'g', "LOCK_EX after LOCK_UN: %c", b);
		close(to);
		close(from);
	}

	/* 5. A process that exits releases its locks. */
	pid = spawn(child_exit_holding, &to, &from);
	a = read_byte(from, WAIT_DEADLINE_S * 1000);
	b = set_lock(fd, F_SETLK, F_WRLCK, 0, 0) == 0 ? 'g' : 'd';
	send_byte(to, 'x');
	waitpid(pid, NULL, 0);
	c = set_lock(fd, F_SETLKW, F_WRLCK, 0, 0) == 0 ? 'g' : 'e';
	result("exit_releases", a == 'g' && b == 'd' && c == 'g',
	       "child held %c, parent refused %c, granted after exit %c", a, b, c);
	(void)set_lock(fd, F_SETLK, F_UNLCK, 0, 0);
	close(to);
	close(from);

	/* 6. Through the second mount the server decides the conflicts. */
	if (path2) {
		int d;

		if (set_lock(fd, F_SETLK, F_WRLCK, 0, 100) < 0) {
			result("server_conflict", 0, "parent F_SETLK: %s",
			       strerror(errno));
		} else {
			pid = spawn(child_server_conflict, &to, &from);
			a = read_byte(from, WAIT_DEADLINE_S * 1000);
			b = read_byte(from, WAIT_DEADLINE_S * 1000);
			c = read_byte(from, WAIT_DEADLINE_S * 1000);
			d = read_byte(from, WAIT_DEADLINE_S * 1000);
			result("server_conflict", a == 'd',
			       "overlapping F_SETLK via mount 2: %c", a);
			result("server_getlk", b == 'w',
			       "F_GETLK via mount 2 sees the lock: %c", b);
			result("server_flock", c == 'd',
			       "flock via mount 2 while held: %c", c);
			a = read_byte(from, BLOCK_PROBE_MS);
			if (set_lock(fd, F_SETLK, F_UNLCK, 0, 0) < 0)
				result("fcntl_unlock", 0, "F_UNLCK: %s",
				       strerror(errno));
			b = (d == 's' && a == -1) ?
			    read_byte(from, WAIT_DEADLINE_S * 1000) : -1;
			send_byte(to, 'x');
			reap(pid);
			result("server_blocks", d == 's' && a == -1,
			       "F_SETLKW via mount 2 waited while held: %s",
			       a == -1 ? "yes" : "no");
			result("server_wakeup", b == 'g',
			       "granted via mount 2 after unlock: %c", b);
			close(to);
			close(from);
		}
	}

	close(fd);
	return failures ? 1 : 0;
}
