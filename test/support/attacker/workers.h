/* What snoop.c and forge.c share: finding oauth-sync's `__as-owner` processes of one's own uid, and the loop that
 * visits each of them until time is up or a stop file appears.
 *   PROGRAM SECONDS [STOPFILE [MATCH]]   (ends early once STOPFILE exists; with MATCH, only processes whose command
 *                                         line holds it: the test's own binary, not another test run's on the machine) */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int own_worker(pid_t pid, uid_t me, const char *match) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int uid_ok = 0;
  while (fgets(buf, sizeof buf, f)) {
    unsigned r, e;
    if (sscanf(buf, "Uid:\t%u\t%u", &r, &e) == 2) uid_ok = (r == me && e == me);
  }
  fclose(f);
  if (!uid_ok) return 0;
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  for (ssize_t i = 0; i < n; i++) if (buf[i] == 0) buf[i] = ' ';
  buf[n] = 0;
  return strstr(buf, "__as-owner") != NULL && (match == NULL || strstr(buf, match) != NULL);
}

/* Calls visit(pid) for each own worker found, over and over, for argv[1] seconds or until argv[2] exists. */
static void visit_workers(int argc, char **argv, void (*visit)(pid_t)) {
  double seconds = argc > 1 ? atof(argv[1]) : 10;
  const char *stop = argc > 2 ? argv[2] : NULL;
  const char *match = argc > 3 ? argv[3] : NULL;
  uid_t me = getuid();
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 > seconds) break;
    if (stop && access(stop, F_OK) == 0) break;
    DIR *proc = opendir("/proc");
    struct dirent *e;
    while ((e = readdir(proc))) {
      pid_t pid = atoi(e->d_name);
      if (pid > 0 && own_worker(pid, me, match)) visit(pid);
    }
    closedir(proc);
  }
}
