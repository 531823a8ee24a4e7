#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rollcall::signaling {

// `prefix` followed by `length` characters of [A-Za-z0-9] from OpenSSL's CSPRNG.
std::string random_id(std::string_view prefix, std::size_t length = 12);

}  // namespace rollcall::signaling
