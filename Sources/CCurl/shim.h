#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call; these
// wrappers fix one argument type each.

static inline CURLcode reconcile_curl_setopt_long(CURL *handle, CURLoption option, long value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode reconcile_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode reconcile_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode reconcile_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode reconcile_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
  return curl_easy_setopt(handle, option, value);
}

/// For CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION.
static inline CURLcode reconcile_curl_setopt_write_function(CURL *handle, CURLoption option, curl_write_callback value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode reconcile_curl_setopt_xferinfo_function(CURL *handle, curl_xferinfo_callback value) {
  return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, value);
}

static inline CURLcode reconcile_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
  return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode reconcile_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
  return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode reconcile_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
  return curl_easy_getinfo(handle, info, value);
}

// Not curl, but C that Swift's Glibc module leaves out because it needs _GNU_SOURCE: direct
// I/O and early writeback for HashingFileWriter. Defining _GNU_SOURCE here would change system
// structs (fd_set) against the other modules' view of them, so the values are spelled out.
#if defined(__linux__)

/// O_DIRECT, whose value differs between architectures (see asm/fcntl.h).
static inline int reconcile_o_direct(void) {
#if defined(__x86_64__) || defined(__i386__)
  return 040000;
#elif defined(__aarch64__) || defined(__arm__)
  return 0200000;
#else
  return 0;
#endif
}

extern int sync_file_range(int fd, long long offset, long long nbytes, unsigned int flags);

/// Starts writeback of a file range without waiting for it (sync_file_range with
/// SYNC_FILE_RANGE_WRITE, which is 2).
static inline int reconcile_start_writeback(int fd, long long offset, long long count) {
  return sync_file_range(fd, offset, count, 2);
}
#else
static inline int reconcile_o_direct(void) { return 0; }
static inline int reconcile_start_writeback(int fd, long long offset, long long count) { return 0; }
#endif
