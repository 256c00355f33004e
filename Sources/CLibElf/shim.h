/* libelf (libelf-dev) for GtraceSymbols: every ELF read goes through it. */
#include <libelf.h>
#include <gelf.h>
