#ifndef MAILAUDIT_TLS_PEER_H
#define MAILAUDIT_TLS_PEER_H
#include <curl/curl.h>

/* What the evidence says of a server's own certificate, as printable text. */
typedef struct mailaudit_tls_peer {
    char subject[1024];
    char issuer[1024];
    char not_before[64];
    char not_after[64];
} mailaudit_tls_peer;

/* Reads the leaf certificate of the TLS connection `handle` is using now, straight from its
   OpenSSL session. Only while the transfer runs (from a header callback): once curl says it
   is done the handle holds no connection, not even a CURLOPT_CONNECT_ONLY one. Returns 1 when read; 0 when curl has no OpenSSL session for
   the handle, the peer sent no certificate, or memory ran out (`out` is then all empty). */
int mailaudit_tls_peer_read(CURL *handle, mailaudit_tls_peer *out);
#endif
