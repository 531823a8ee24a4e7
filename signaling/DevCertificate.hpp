#pragma once

#include <filesystem>

namespace rollcall::signaling {

struct CertificateFiles {
    std::filesystem::path certificate;
    std::filesystem::path private_key;
};

// Dev mode's TLS identity: an ECDSA P-256 self-signed certificate for localhost,
// 127.0.0.1 and ::1, created on first start in `data_dir` and kept (key file mode 0600).
// A certificate that has expired or will within a day is replaced. Throws on failure.
CertificateFiles ensure_dev_certificate(const std::filesystem::path& data_dir);

}  // namespace rollcall::signaling
