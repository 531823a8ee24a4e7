#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "signaling/DevCertificate.hpp"

namespace rollcall::signaling {
namespace {

TEST(DevCertificate, CreatesAP256CertificateForLoopbackAndKeepsIt) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("rollcall-cert-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    CertificateFiles files = ensure_dev_certificate(dir);
    ASSERT_TRUE(std::filesystem::exists(files.certificate));

    struct stat st {};
    ASSERT_EQ(::stat(files.private_key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    FILE* f = std::fopen(files.certificate.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    ASSERT_NE(cert, nullptr);
    EVP_PKEY* key = X509_get0_pubkey(cert);
    EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
    EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
    EXPECT_EQ(X509_check_host(cert, "example.com", 0, 0, nullptr), 0);
    X509_free(cert);

    const auto written = std::filesystem::last_write_time(files.certificate);
    ensure_dev_certificate(dir);  // second start reuses it
    EXPECT_EQ(std::filesystem::last_write_time(files.certificate), written);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rollcall::signaling
