#pragma once

#include <glib.h>

namespace rollcall::transport {

// Detaches and releases a source this code attached and still holds; nulls the handle.
inline void destroy_source(GSource*& source) {
    if (!source) return;
    g_source_destroy(source);
    g_source_unref(source);
    source = nullptr;
}

}  // namespace rollcall::transport
