#include "signaling/DevCertificate.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>

namespace rollcall::signaling {

namespace {

struct FileCloser {
    void operator()(FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

constexpr long kValiditySeconds = 365L * 24 * 3600;

bool still_valid(const std::filesystem::path& cert_path) {
    FilePtr file(std::fopen(cert_path.c_str(), "rb"));
    if (!file) return false;
    X509Ptr cert(PEM_read_X509(file.get(), nullptr, nullptr, nullptr), &X509_free);
    if (!cert) return false;
    // Valid now and for at least another day.
    const time_t tomorrow = time(nullptr) + 24 * 3600;
    return X509_cmp_time(X509_get0_notAfter(cert.get()), const_cast<time_t*>(&tomorrow)) > 0;
}

void add_extension(X509* cert, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) throw std::runtime_error("cannot build certificate extension");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

void write_pem(const std::filesystem::path& path, mode_t mode,
               const std::function<int(FILE*)>& write) {
    const std::filesystem::path temporary = path.string() + ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0) throw std::runtime_error("cannot write " + temporary.string());
    FilePtr file(fdopen(fd, "wb"));
    if (!file || write(file.get()) != 1)
        throw std::runtime_error("cannot write " + temporary.string());
    file.reset();
    std::filesystem::rename(temporary, path);
}

}  // namespace

CertificateFiles ensure_dev_certificate(const std::filesystem::path& data_dir) {
    std::filesystem::create_directories(data_dir);
    CertificateFiles files{data_dir / "dev-cert.pem", data_dir / "dev-key.pem"};
    if (std::filesystem::exists(files.private_key) && still_valid(files.certificate)) return files;

    PkeyPtr key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    if (!key) throw std::runtime_error("cannot generate a P-256 key");
    X509Ptr cert(X509_new(), &X509_free);
    if (!cert) throw std::runtime_error("cannot allocate a certificate");
    X509_set_version(cert.get(), 2);
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof(serial)) != 1) throw std::runtime_error("RAND_bytes failed");
    serial[0] &= 0x7f;
    BIGNUM* serial_bn = BN_bin2bn(serial, sizeof(serial), nullptr);
    BN_to_ASN1_INTEGER(serial_bn, X509_get_serialNumber(cert.get()));
    BN_free(serial_bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("rollcall dev"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    add_extension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
    add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0)
        throw std::runtime_error("cannot sign the certificate");

    write_pem(files.private_key, 0600, [&](FILE* f) {
        return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    write_pem(files.certificate, 0644, [&](FILE* f) { return PEM_write_X509(f, cert.get()); });
    return files;
}

}  // namespace rollcall::signaling
