#pragma once

#include <map>
#include <memory>
#include <mutex>

using GMainContext = struct _GMainContext;

namespace rollcall::transport {

// One T per GMainContext (a worker's), shared by everything on that context and alive while
// anything holds it: `make(context)` builds it on first use (nullptr: it could not be built,
// and the next call tries again).
template <typename T, typename Make>
std::shared_ptr<T> shared_per_context(GMainContext* context, Make make) {
    static std::mutex mutex;
    static std::map<GMainContext*, std::weak_ptr<T>> by_context;
    std::lock_guard lock(mutex);
    std::erase_if(by_context, [](const auto& entry) { return entry.second.expired(); });
    auto& entry = by_context[context];
    if (auto existing = entry.lock()) return existing;
    std::shared_ptr<T> made = make(context);
    if (made) entry = made;
    return made;
}

}  // namespace rollcall::transport
