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
// KernelSSH: EC and RSA public keys are built from their SSH wire parameters with OSSL_PARAM
// (OpenSSL 3's non-deprecated way); the selection constant is a composite macro Swift cannot import.
#include <openssl/param_build.h>
#include <openssl/core_names.h>
static inline int dk_evp_pkey_public_key_selection(void) { return EVP_PKEY_PUBLIC_KEY; }
/// OSSL_PARAM_BLD keeps the *key name* pointer until OSSL_PARAM_BLD_to_param: it must be a static
/// string, which a Swift String bridged to `const char *` is not.
static inline const char *dk_ossl_pkey_param_group_name(void) { return OSSL_PKEY_PARAM_GROUP_NAME; }
static inline const char *dk_ossl_pkey_param_pub_key(void) { return OSSL_PKEY_PARAM_PUB_KEY; }
static inline const char *dk_ossl_pkey_param_rsa_n(void) { return OSSL_PKEY_PARAM_RSA_N; }
static inline const char *dk_ossl_pkey_param_rsa_e(void) { return OSSL_PKEY_PARAM_RSA_E; }
#endif
