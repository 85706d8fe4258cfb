// glibc's malloc_trim, which Swift's Glibc module does not carry.
#include <malloc.h>
