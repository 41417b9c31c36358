/*
 * test/integration/musl.test.ts: Debian ships no libstdc++ built against musl (Alpine's is), so the musl root uses
 * Debian's glibc-built libstdc++.so.6 and libgcc_s.so.1. They need these glibc-only symbols, which musl 1.2.3 lacks;
 * this library provides them, under the name ld-linux-x86-64.so.2 that libstdc++ lists as NEEDED. musl's loader maps
 * libc.so.6 and libm.so.6 to itself.
 */
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

char __libc_single_threaded = 0;

uint32_t arc4random(void) {
  uint32_t v = 0;
  while (getrandom(&v, sizeof v, 0) != sizeof v) {}
  return v;
}

size_t __strftime_l(char *s, size_t n, const char *f, const struct tm *tm, locale_t l) { return strftime_l(s, n, f, tm, l); }

/* No _dl_find_object: the unwinder falls back to dl_iterate_phdr, as on Alpine. */
int _dl_find_object(void *pc, void *result) { (void)pc; (void)result; return -1; }

struct cpu_model { unsigned int vendor, type, subtype; unsigned int features[1]; };
struct cpu_model __cpu_model;
int __cpu_indicator_init(void) { return 0; }

/* thread_local destructors: run when the thread exits (pthread key destructor), in reverse order. */
struct dtor { void (*fn)(void *); void *obj; struct dtor *next; };
static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static void run_dtors(void *head) {
  for (struct dtor *d = head, *next; d; d = next) { next = d->next; d->fn(d->obj); free(d); }
}
static void make_key(void) { pthread_key_create(&key, run_dtors); }
int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso) {
  (void)dso;
  pthread_once(&once, make_key);
  struct dtor *d = malloc(sizeof *d);
  if (!d) return -1;
  d->fn = fn; d->obj = obj; d->next = pthread_getspecific(key);
  pthread_setspecific(key, d);
  return 0;
}
