#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "signaling/HttpMessage.hpp"

namespace rollcall::signaling {

// Serves the web client from one folder: known file types only, no dotfiles, no escapes
// from the folder, and security headers on every page.
class StaticFiles {
  public:
    explicit StaticFiles(std::filesystem::path root);

    // nullopt when the path names no servable file.
    std::optional<HttpResponse> serve(std::string_view path) const;

  private:
    std::filesystem::path root_;
};

// The Content-Security-Policy the web client runs under.
std::string_view content_security_policy() noexcept;

}  // namespace rollcall::signaling
