// hiredis 0.14 (Debian 12). Only the synchronous API is used: each connection lives on one
// dedicated thread (see KernelRedis), so the blocking calls never run on the Swift pool.
#ifndef DATAKERNEL_CHIREDIS_SHIM_H
#define DATAKERNEL_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
