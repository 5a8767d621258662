// A slow disk for benchmarks: an LD_PRELOAD shim that delays pread64 and fdatasync/fsync on the
// files whose path contains $SLOWIO_MATCH, while the file $SLOWIO_FLAG exists (so that set-up
// runs at full speed). SQLite reads pages with pread64 and syncs with fdatasync.
//   SLOWIO_READ_US  delay per read (default 0)   SLOWIO_SYNC_US  delay per sync (default 0)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static const char* match;
static const char* flag;
static long read_us, sync_us;
static ssize_t (*real_pread64)(int, void*, size_t, off_t);
static int (*real_fdatasync)(int);
static int (*real_fsync)(int);

__attribute__((constructor)) static void init(void) {
  match = getenv("SLOWIO_MATCH");
  flag = getenv("SLOWIO_FLAG");
  read_us = getenv("SLOWIO_READ_US") ? atol(getenv("SLOWIO_READ_US")) : 0;
  sync_us = getenv("SLOWIO_SYNC_US") ? atol(getenv("SLOWIO_SYNC_US")) : 0;
  real_pread64 = (ssize_t(*)(int, void*, size_t, off_t))dlsym(RTLD_NEXT, "pread64");
  real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
}

static int slow_file(int fd) {
  if (!match || !*match || (flag && access(flag, F_OK) != 0)) return 0;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  return strstr(path, match) != NULL;
}

static void pause_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

ssize_t pread64(int fd, void* buf, size_t n, off_t offset) {
  if (read_us > 0 && slow_file(fd)) pause_us(read_us);
  return real_pread64(fd, buf, n, offset);
}

int fdatasync(int fd) {
  if (sync_us > 0 && slow_file(fd)) pause_us(sync_us);
  return real_fdatasync(fd);
}

int fsync(int fd) {
  if (sync_us > 0 && slow_file(fd)) pause_us(sync_us);
  return real_fsync(fd);
}
