#include <idn2.h>
#include <stdlib.h>
/* IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT are enum members combined as int; kept here for clarity. */
static inline int mailaudit_idn2_flags(void) { return IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT; }
