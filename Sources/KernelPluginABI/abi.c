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
