#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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

// Not curl, but C that Swift's Glibc module leaves out (it needs _GNU_SOURCE): direct I/O and
// early writeback for HashingFileWriter.
#if defined(__linux__)
#include <fcntl.h>
#include <unistd.h>

/// O_DIRECT, whose value differs between architectures.
static inline int reconcile_o_direct(void) {
#ifdef O_DIRECT
  return O_DIRECT;
#else
  return 0;
#endif
}

/// Starts writeback of a file range without waiting for it (sync_file_range SYNC_FILE_RANGE_WRITE).
static inline int reconcile_start_writeback(int fd, long long offset, long long count) {
#ifdef SYNC_FILE_RANGE_WRITE
  return sync_file_range(fd, offset, count, SYNC_FILE_RANGE_WRITE);
#else
  return 0;
#endif
}
#else
static inline int reconcile_o_direct(void) { return 0; }
static inline int reconcile_start_writeback(int fd, long long offset, long long count) { return 0; }
#endif
