#define XTABLES_VERSION "libxtables.so.12"
#define XTABLES_VERSION_CODE 12
