#include "room/Grants.hpp"

namespace rollcall::room {

bool Grants::administers(std::string_view name) const noexcept {
    return room_admin && (room == "*" || room == name);
}

bool is_valid_room_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 64 || name.front() == '.') return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

bool is_valid_identity(std::string_view identity) noexcept {
    if (identity.empty() || identity.size() > 128) return false;
    for (unsigned char c : identity) {
        if (c < 0x20 || c == 0x7f || c == '/') return false;
    }
    return true;
}

}  // namespace rollcall::room
