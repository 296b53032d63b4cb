// SwiftPM needs one source file per C target. The ABI is header-only; these assertions pin the
// layout facts docs/plugins.md promises, so an accidental reordering fails the build.
#include "kernel_plugin.h"
#include <stddef.h>

_Static_assert(offsetof(kp_plugin_descriptor, abi_major) == 0, "abi_major must be first");
_Static_assert(offsetof(kp_plugin_descriptor, abi_minor) == 4, "abi_minor must be second");
_Static_assert(offsetof(kp_plugin_descriptor, struct_size) == 8, "struct_size must be third");
_Static_assert(offsetof(kp_family, struct_size) == 0, "kp_family.struct_size must be first");
_Static_assert(offsetof(kp_event, struct_size) == 0, "kp_event.struct_size must be first");
_Static_assert(offsetof(kp_host_services, struct_size) == 0, "kp_host_services.struct_size must be first");
_Static_assert(offsetof(kp_builder_api, struct_size) == 0, "kp_builder_api.struct_size must be first");

// ABI 1.0 struct sizes (LP64). The host accepts a plugin struct at least this large; later minor
// versions only append, so these numbers never change for ABI major 1.
_Static_assert(sizeof(kp_plugin_descriptor) == 88, "ABI 1.0 kp_plugin_descriptor is 88 bytes");
_Static_assert(sizeof(kp_family) == 56, "ABI 1.0 kp_family is 56 bytes");
_Static_assert(sizeof(kp_column) == 32, "ABI 1.0 kp_column is 32 bytes");
_Static_assert(sizeof(kp_column_type) == 4, "enums must be int-sized (do not build with -fshort-enums)");
