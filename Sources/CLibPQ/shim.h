// libpq from libpq-dev. The header lives in /usr/include/postgresql (pkg-config libpq).
#ifndef DATAKERNEL_CLIBPQ_SHIM_H
#define DATAKERNEL_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
