// OpenSSL libcrypto (libssl-dev). Function-like macros are not imported into Swift, so the
// few we need are wrapped here as static inline functions with a `dk_` prefix.
#ifndef DATAKERNEL_COPENSSL_SHIM_H
#define DATAKERNEL_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/ecdsa.h>

/// EVP_MD_CTX_create is a macro alias in OpenSSL 3; keep one spelling for Swift.
static inline EVP_MD_CTX *dk_evp_md_ctx_new(void) { return EVP_MD_CTX_new(); }
static inline void dk_evp_md_ctx_free(EVP_MD_CTX *ctx) { EVP_MD_CTX_free(ctx); }
#endif
