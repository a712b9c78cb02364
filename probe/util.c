/*
 * probe/util.c: small helpers every check uses (JSON numbers, paths, the install command of
 * this distribution). Nothing here calls a check.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

json_t *json_num(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

const char *sudo_for(const char *path)
{
	char dir[4096];
	struct stat st;
	char *slash;

	if (geteuid() == 0)
		return "";
	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		slash = strrchr(dir, '/');
		if (slash && slash != dir)
			*slash = '\0';
		else
			snprintf(dir, sizeof(dir), slash ? "/" : ".");
	}
	return access(dir, W_OK) == 0 ? "" : "sudo ";
}

void os_ids(char *buf, size_t len)
{
	FILE *f = fopen("/etc/os-release", "r");
	char line[512];
	size_t n = 0;

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && n < len) {
		char *v = NULL;

		if (!strncmp(line, "ID=", 3))
			v = line + 3;
		else if (!strncmp(line, "ID_LIKE=", 8))
			v = line + 8;
		if (!v)
			continue;
		v[strcspn(v, "\n")] = '\0';
		n += (size_t)snprintf(buf + n, len - n, "%s%s ", "", v);
	}
	fclose(f);
	for (char *s = buf; *s; s++)
		if (*s == '"')
			*s = ' ';
}

void install_hint(char *buf, size_t len, const char *deb, const char *rpm, const char *arch)
{
	const char *sudo = geteuid() == 0 ? "" : "sudo ";
	char ids[256];

	os_ids(ids, sizeof(ids));
	if (strstr(ids, "debian") || strstr(ids, "ubuntu"))
		snprintf(buf, len, "%sapt-get install %s", sudo, deb);
	else if (strstr(ids, "fedora") || strstr(ids, "rhel") || strstr(ids, "centos"))
		snprintf(buf, len, "%sdnf install %s", sudo, rpm);
	else if (strstr(ids, "arch"))
		snprintf(buf, len, "%spacman -S %s", sudo, arch);
	else
		snprintf(buf, len, "apt-get install %s (Debian, Ubuntu), dnf install %s (Fedora), "
			 "pacman -S %s (Arch)", deb, rpm, arch);
}

