#include "signaling/StaticFiles.hpp"

#include <fstream>
#include <sstream>

namespace rollcall::signaling {

namespace {

constexpr std::uintmax_t kMaxFileBytes = 4 * 1024 * 1024;

const char* content_type_for(const std::filesystem::path& path) {
    const std::string ext = path.extension().string();
    if (ext == ".html") return "text/html; charset=utf-8";
    if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
    if (ext == ".css") return "text/css; charset=utf-8";
    if (ext == ".svg") return "image/svg+xml";
    if (ext == ".png") return "image/png";
    if (ext == ".ico") return "image/x-icon";
    if (ext == ".json") return "application/json";
    return nullptr;
}

bool is_safe_relative_path(std::string_view path) {
    if (path.empty()) return false;
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const std::string_view segment =
            path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
        if (segment.empty() || segment.front() == '.') return false;  // "", ".", "..", dotfiles
        for (char c : segment) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
            if (!ok) return false;
        }
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return true;
}

}  // namespace

std::string_view content_security_policy() noexcept {
    return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
           "media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; "
           "base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
}

StaticFiles::StaticFiles(std::filesystem::path root) : root_(std::move(root)) {}

std::optional<HttpResponse> StaticFiles::serve(std::string_view path) const {
    if (path == "/" || path.empty()) path = "/index.html";
    if (path.front() != '/') return std::nullopt;
    path.remove_prefix(1);
    if (!is_safe_relative_path(path)) return std::nullopt;
    const std::filesystem::path file = root_ / std::filesystem::path(std::string(path));
    const char* type = content_type_for(file);
    if (!type) return std::nullopt;
    std::error_code ec;
    const auto status = std::filesystem::symlink_status(file, ec);
    if (ec || !std::filesystem::is_regular_file(status)) return std::nullopt;
    if (std::filesystem::file_size(file, ec) > kMaxFileBytes || ec) return std::nullopt;
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream body;
    body << in.rdbuf();
    HttpResponse response;
    response.content_type = type;
    response.body = body.str();
    response.headers.emplace_back("Cache-Control", "no-cache");
    if (file.extension() == ".html") {
        response.headers.emplace_back("Content-Security-Policy",
                                      std::string(content_security_policy()));
    }
    return response;
}

}  // namespace rollcall::signaling
