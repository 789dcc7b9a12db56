// SPDX-License-Identifier: BSD-2-Clause
/* Framing of control messages; see control.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int control_send(int fd, enum control_type type, const void *payload, size_t len)
{
	struct control_header h = {
		.magic = CONTROL_MAGIC,
		.version = CONTROL_VERSION,
		.type = (__u16)type,
		.len = (__u32)len,
	};
	int err;

	if (len > CONTROL_MAX_PAYLOAD)
		return -EMSGSIZE;
	err = write_all(fd, &h, sizeof(h));
	if (!err && len)
		err = write_all(fd, payload, len);
	return err;
}

int control_recv(int fd, struct control_header *hdr, char **payload, size_t *len)
{
	char *buf;
	int err;

	*payload = NULL;
	*len = 0;
	err = read_all(fd, hdr, sizeof(*hdr));
	if (err)
		return err;
	if (hdr->magic != CONTROL_MAGIC || hdr->version != CONTROL_VERSION ||
	    hdr->len > CONTROL_MAX_PAYLOAD)
		return -EPROTO;
	buf = malloc((size_t)hdr->len + 1);
	if (!buf)
		return -ENOMEM;
	err = hdr->len ? read_all(fd, buf, hdr->len) : 0;
	if (err) {
		free(buf);
		return err;
	}
	buf[hdr->len] = '\0';
	*payload = buf;
	*len = hdr->len;
	return 0;
}

int control_end(int fd, int status, const char *msg)
{
	size_t mlen = msg ? strlen(msg) : 0;
	char buf[4 + 1024];
	__u32 st = (__u32)status;

	if (mlen > sizeof(buf) - 4)
		mlen = sizeof(buf) - 4;
	memcpy(buf, &st, 4);
	if (mlen)
		memcpy(buf + 4, msg, mlen);
	return control_send(fd, CONTROL_END, buf, 4 + mlen);
}

int control_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	size_t len = strlen(path);

	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}
