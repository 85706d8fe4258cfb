#ifndef MAILAUDIT_CLDAP_SHIM_H
#define MAILAUDIT_CLDAP_SHIM_H
#include <ldap.h>
#include <lber.h>
#include <stdlib.h>
#include <sys/time.h>

/* Options whose values are ints, timevals or the LDAP_OPT_ON/OFF pointers, which Swift cannot
   spell: one helper per kind. */
static inline int mailaudit_ldap_set_int(LDAP *ld, int option, int value) {
    return ldap_set_option(ld, option, &value);
}
static inline int mailaudit_ldap_set_string(LDAP *ld, int option, const char *value) {
    return ldap_set_option(ld, option, value);
}
static inline int mailaudit_ldap_set_timeout(LDAP *ld, int option, long seconds) {
    struct timeval tv = { seconds, 0 };
    return ldap_set_option(ld, option, &tv);
}
static inline int mailaudit_ldap_set_referrals_off(LDAP *ld) {
    return ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
}
static inline int mailaudit_ldap_tls_protocol_1_2(void) { return LDAP_OPT_X_TLS_PROTOCOL_TLS1_2; }
/* The server's diagnostic message for the last operation, or NULL; free with ldap_memfree. */
static inline char *mailaudit_ldap_diagnostic(LDAP *ld) {
    char *message = NULL;
    ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &message);
    return message;
}
static inline int mailaudit_ldap_simple_bind(LDAP *ld, const char *dn, const char *password, size_t length) {
    struct berval credentials;
    credentials.bv_val = (char *)password;
    credentials.bv_len = length;
    return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &credentials, NULL, NULL, NULL);
}
#endif
