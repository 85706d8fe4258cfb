/* The server certificate of a curl transfer, read from its OpenSSL session.
   CURLOPT_CERTINFO would give the same four fields, but curl then prints every certificate of
   the chain in full, every extension included: for a host whose certificate names a thousand
   sites that costs more than the TLS handshake itself. Here only the leaf's names and dates
   are printed, with the functions and flags curl uses, so the text is the same. */
#include "tls_peer.h"
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

/* Moves what the memory BIO holds into `buffer` (cut to fit, NUL-terminated) and empties it. */
static void take_text(BIO *bio, char *buffer, size_t size) {
    char *data = NULL;
    long length = BIO_get_mem_data(bio, &data);
    size_t count = length > 0 ? (size_t)length : 0;
    if (count > size - 1) count = size - 1;
    if (count > 0 && data != NULL) memcpy(buffer, data, count);
    buffer[count] = '\0';
    (void)BIO_reset(bio);
}

int mailaudit_tls_peer_read(CURL *handle, mailaudit_tls_peer *out) {
    memset(out, 0, sizeof *out);
    struct curl_tlssessioninfo *session = NULL;
    if (curl_easy_getinfo(handle, CURLINFO_TLS_SSL_PTR, &session) != CURLE_OK || session == NULL) return 0;
    if (session->backend != CURLSSLBACKEND_OPENSSL || session->internals == NULL) return 0;
    /* get0: the session keeps its reference; nothing to free here. */
    X509 *leaf = SSL_get0_peer_certificate((const SSL *)session->internals);
    if (leaf == NULL) return 0;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) return 0;
    X509_NAME_print_ex(bio, X509_get_subject_name(leaf), 0, XN_FLAG_ONELINE);
    take_text(bio, out->subject, sizeof out->subject);
    X509_NAME_print_ex(bio, X509_get_issuer_name(leaf), 0, XN_FLAG_ONELINE);
    take_text(bio, out->issuer, sizeof out->issuer);
    ASN1_TIME_print(bio, X509_get0_notBefore(leaf));
    take_text(bio, out->not_before, sizeof out->not_before);
    ASN1_TIME_print(bio, X509_get0_notAfter(leaf));
    take_text(bio, out->not_after, sizeof out->not_after);
    BIO_free(bio);
    return 1;
}
