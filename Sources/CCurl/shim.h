#ifndef MAILAUDIT_CCURL_SHIM_H
#define MAILAUDIT_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt / curl_easy_getinfo / curl_multi_setopt are variadic and do not
   import into Swift: one typed wrapper per argument kind. */
static inline CURLcode mailaudit_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mailaudit_curl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mailaudit_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mailaudit_curl_setopt_write(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f);
}
static inline CURLcode mailaudit_curl_setopt_header(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f);
}
static inline CURLcode mailaudit_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mailaudit_curl_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mailaudit_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mailaudit_curl_getinfo_ptr(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mailaudit_curl_getinfo_certinfo(CURL *h, struct curl_certinfo **v) { return curl_easy_getinfo(h, CURLINFO_CERTINFO, v); }
static inline CURLMcode mailaudit_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

/* CURLMsg.data is a union; Swift cannot reach its members directly. */
static inline CURLcode mailaudit_curl_msg_result(const CURLMsg *m) { return m->data.result; }

/* Values that are macros (not importable) in curl.h */
static inline long mailaudit_curl_http_version_2tls(void) { return CURL_HTTP_VERSION_2TLS; }
static inline long mailaudit_curl_sslversion_tlsv1_2(void) { return CURL_SSLVERSION_TLSv1_2; }
static inline long mailaudit_curl_pipe_multiplex(void) { return CURLPIPE_MULTIPLEX; }
static inline long mailaudit_curl_global_default(void) { return CURL_GLOBAL_DEFAULT; }
static inline const curl_version_info_data *mailaudit_curl_version_info(void) { return curl_version_info(CURLVERSION_NOW); }
#endif
