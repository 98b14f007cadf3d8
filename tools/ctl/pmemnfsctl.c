/*
 * pmemnfsctl - administer a running pmemnfsd through its control socket.
 *
 *   pmemnfsctl [-s SOCKET | -v VOLUME] COMMAND
 *
 * The socket is VOLUME.ctl unless the server was configured otherwise
 * (server.control_socket).  The answer is printed without its leading
 * "ok" line; an "error ..." answer goes to stderr and the exit status is 1.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_DEFAULT_VOLUME	"pmemnfs.vol"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: pmemnfsctl [-s SOCKET | -v VOLUME] COMMAND\n"
"  -s SOCKET   the server's control socket\n"
"  -v VOLUME   the server's volume (socket VOLUME.ctl; default %s)\n"
"commands: status, clients, fs, rpc, refs, checkpoint, help\n",
		CTL_DEFAULT_VOLUME);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	const char *sock = NULL, *volume = CTL_DEFAULT_VOLUME;
	char path[sizeof(sun.sun_path)];
	char buf[4096];
	size_t have = 0;
	int opt, fd, status = 1;
	FILE *in;

	while ((opt = getopt(argc, argv, "s:v:h")) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'v': volume = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (!sock) {
		if ((size_t)snprintf(path, sizeof(path), "%s.ctl", volume) >=
		    sizeof(path)) {
			fprintf(stderr, "pmemnfsctl: %s.ctl: path too long\n", volume);
			return 2;
		}
		sock = path;
	}
	if (strlen(sock) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "pmemnfsctl: %s: path too long\n", sock);
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("pmemnfsctl: socket");
		return 1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "pmemnfsctl: %s: cannot connect: %s (is pmemnfsd running?)\n",
			sock, strerror(errno));
		close(fd);
		return 1;
	}
	dprintf(fd, "%s\n", argv[optind]);
	shutdown(fd, SHUT_WR);
	in = fdopen(fd, "r");
	if (!in) {
		close(fd);
		return 1;
	}
	if (!fgets(buf, sizeof(buf), in)) {
		fprintf(stderr, "pmemnfsctl: %s: no answer\n", sock);
		goto out;
	}
	if (strncmp(buf, "ok", 2) != 0) {
		fprintf(stderr, "pmemnfsctl: %s", buf);
		goto out;
	}
	status = 0;
	while ((have = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, have, stdout);
out:
	fclose(in);
	return status;
}
