// SPDX-License-Identifier: Apache-2.0
// tls_stream over memory BIOs, the shared client contexts, and the TLS error category.
#include "io/tls.hh"

#include "io/ops.hh"
#include "io/socket.hh"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

namespace tv::io {

namespace {

// ---- error codes ----------------------------------------------------------------------------
// A tls_category value packs: bit 30 = during the handshake; bits 23-29 = OpenSSL's library
// number, or 0 for a certificate verification result; bits 0-22 = OpenSSL's reason code or the
// X509_V_ERR_* value. OpenSSL 3 packs its own codes the same way (library << 23 | reason), and
// its library numbers stay below 128.
constexpr int handshake_flag = 1 << 30;
constexpr int library_shift = 23;
constexpr int library_mask = 0x7f;
constexpr int reason_mask = (1 << library_shift) - 1;

std::string reason_text(int value) {
    int library = (value >> library_shift) & library_mask;
    int reason = value & reason_mask;
    if (library == 0) {
        return fmt::format("certificate verify failed ({})", X509_verify_cert_error_string(reason));
    }
    const char* text = ERR_reason_error_string(ERR_PACK(library, 0, reason));
    return text != nullptr ? std::string(text) : fmt::format("OpenSSL error {}:{}", library, reason);
}

class tls_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "tls"; }
    std::string message(int value) const override {
        std::string reason = reason_text(value);
        return (value & handshake_flag) != 0 ? "TLS handshake failed: " + reason : "TLS: " + reason;
    }
};

std::error_code tls_error(int library, int reason, bool during_handshake) {
    int value = ((library & library_mask) << library_shift) | (reason & reason_mask);
    return {during_handshake ? value | handshake_flag : value, tls_category()};
}

/// The most recent error on this thread's OpenSSL queue as an error code (then clears it).
std::error_code last_openssl_error(bool during_handshake) {
    unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (e == 0) {
        return tls_error(ERR_LIB_SSL, 0, during_handshake);
    }
    if (ERR_SYSTEM_ERROR(e)) {
        return errno_error(ERR_GET_REASON(e));
    }
    return tls_error(ERR_GET_LIB(e), ERR_GET_REASON(e), during_handshake);
}

bool is_ip_literal(const std::string& name) {
    unsigned char address[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, name.c_str(), address) == 1 || ::inet_pton(AF_INET6, name.c_str(), address) == 1;
}

std::error_code connection_reset() {
    return std::make_error_code(std::errc::connection_reset);
}

// Plaintext handed to OpenSSL per SSL_write: bounds the ciphertext held before it is sent.
constexpr size_t max_write_chunk = 64 * 1024;

}  // namespace

const std::error_category& tls_category() noexcept {
    static const tls_error_category category;
    return category;
}

bool is_tls_error(const std::error_code& ec) noexcept {
    return ec.category() == tls_category();
}

bool is_tls_handshake_error(const std::error_code& ec) noexcept {
    return is_tls_error(ec) && (ec.value() & handshake_flag) != 0;
}

std::string tls_error_reason(const std::error_code& ec) {
    return is_tls_error(ec) ? reason_text(ec.value()) : std::string();
}

// ---- tls_context ----------------------------------------------------------------------------

result<std::shared_ptr<tls_context>> tls_context::get(const std::string& ca_file, bool verify) {
    static std::mutex mutex;
    static std::map<std::pair<std::string, bool>, std::shared_ptr<tls_context>> contexts;
    std::lock_guard lock(mutex);
    auto key = std::pair(ca_file, verify);
    if (auto it = contexts.find(key); it != contexts.end()) {
        return it->second;
    }
    // OpenSSL's own message for a missing file is "system lib"; errno says it plainly.
    if (!ca_file.empty() && ::access(ca_file.c_str(), R_OK) != 0) {
        return errno_error(errno);
    }
    ERR_clear_error();
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) {
        return last_openssl_error(false);
    }
    std::shared_ptr<tls_context> context(new tls_context(ctx, verify));
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    int loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                                 : SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
    if (loaded != 1) {
        return last_openssl_error(false);
    }
    contexts.emplace(std::move(key), context);
    return context;
}

tls_context::~tls_context() {
    SSL_CTX_free(_ctx);
}

// ---- tls_stream -----------------------------------------------------------------------------

tls_stream::tls_stream(int fd, std::shared_ptr<tls_context> context, ssl_st* ssl, bio_st* in, bio_st* out)
    : _fd(fd), _context(std::move(context)), _ssl(ssl), _in(in), _out(out), _recv_buffer(32 * 1024),
      _send_buffer(max_write_chunk + 16 * 1024) {}

tls_stream::~tls_stream() {
    SSL_free(_ssl);  // and both BIOs with it
}

task<result<std::unique_ptr<tls_stream>>> tls_stream::connect(int fd, tls_client_options options,
                                                             std::stop_token stop) {
    auto context = tls_context::get(options.ca_file, options.verify);
    if (!context) {
        co_return context.error();
    }
    ERR_clear_error();
    SSL* ssl = SSL_new((*context)->native());
    if (ssl == nullptr) {
        co_return last_openssl_error(false);
    }
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    if (in == nullptr || out == nullptr) {
        BIO_free(in);
        BIO_free(out);
        SSL_free(ssl);
        co_return errno_error(ENOMEM);
    }
    // An empty BIO means "no bytes yet" (retry), never end of stream: we see the socket's EOF.
    BIO_set_mem_eof_return(in, -1);
    BIO_set_mem_eof_return(out, -1);
    SSL_set_bio(ssl, in, out);
    SSL_set_connect_state(ssl);
    std::unique_ptr<tls_stream> stream(new tls_stream(fd, std::move(*context), ssl, in, out));

    std::string name = options.server_name;
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
        name = name.substr(1, name.size() - 2);  // "[::1]" as written in URLs
    }
    bool ip = is_ip_literal(name);
    // SNI carries DNS names only (RFC 6066).
    if (!ip && !name.empty() && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
        co_return last_openssl_error(true);
    }
    if (options.verify) {
        if (name.empty()) {
            co_return std::make_error_code(std::errc::invalid_argument);
        }
        int set = 0;
        if (ip) {
            set = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
        } else {
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            set = SSL_set1_host(ssl, name.c_str());
        }
        if (set != 1) {
            co_return last_openssl_error(true);
        }
    }
    auto done = co_await stream->handshake(stop);
    if (!done) {
        co_return done.error();
    }
    co_return std::move(stream);
}

std::error_code tls_stream::failure(int ssl_error, bool during_handshake) {
    if (ssl_error == SSL_ERROR_SSL) {
        unsigned long e = ERR_peek_last_error();
        if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
            long verdict = SSL_get_verify_result(_ssl);
            if (verdict != X509_V_OK) {
                ERR_clear_error();
                return tls_error(0, static_cast<int>(verdict), true);
            }
        }
        return last_openssl_error(during_handshake);
    }
    ERR_clear_error();
    // SSL_ERROR_SYSCALL: with memory BIOs only a transport that ended under it.
    return connection_reset();
}

bool tls_stream::has_output() const {
    return BIO_ctrl_pending(_out) > 0;
}

task<result<void>> tls_stream::flush(std::stop_token stop) {
    while (has_output()) {
        int n = BIO_read(_out, _send_buffer.data(), static_cast<int>(_send_buffer.size()));
        if (n <= 0) {
            break;
        }
        auto sent = co_await send_all(_fd, std::span(_send_buffer).first(static_cast<size_t>(n)), stop);
        if (!sent) {
            _broken = true;  // part of a record may have gone out
            co_return sent.error();
        }
    }
    co_return result<void>{};
}

task<result<size_t>> tls_stream::fill(std::stop_token stop) {
    auto n = co_await recv(_fd, _recv_buffer, std::move(stop));
    if (!n) {
        co_return n.error();  // nothing was received: the session is still in step
    }
    if (*n == 0) {
        co_return size_t{0};
    }
    if (BIO_write(_in, _recv_buffer.data(), static_cast<int>(*n)) != static_cast<int>(*n)) {
        _broken = true;
        co_return errno_error(ENOMEM);
    }
    co_return *n;
}

task<result<void>> tls_stream::handshake(std::stop_token stop) {
    for (;;) {
        ERR_clear_error();
        int ret = SSL_do_handshake(_ssl);
        int error = ret == 1 ? SSL_ERROR_NONE : SSL_get_error(_ssl, ret);
        std::error_code failed;
        if (error != SSL_ERROR_NONE && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
            failed = failure(error, true);
        }
        // The ClientHello and later flights, or the alert that tells the server why we quit.
        auto sent = co_await flush(stop);
        if (failed) {
            co_return failed;
        }
        if (!sent) {
            co_return sent.error();
        }
        if (ret == 1) {
            co_return result<void>{};
        }
        if (error == SSL_ERROR_WANT_READ) {
            auto got = co_await fill(stop);
            if (!got) {
                co_return got.error();
            }
            if (*got == 0) {
                co_return connection_reset();
            }
        }
    }
}

task<result<size_t>> tls_stream::read_some(std::span<std::byte> buffer, std::stop_token stop) {
    if (_broken) {
        co_return connection_reset();
    }
    if (buffer.empty()) {
        co_return std::make_error_code(std::errc::invalid_argument);
    }
    for (;;) {
        ERR_clear_error();
        size_t got = 0;
        int ret = SSL_read_ex(_ssl, buffer.data(), buffer.size(), &got);
        int error = ret == 1 ? SSL_ERROR_NONE : SSL_get_error(_ssl, ret);
        std::error_code failed;
        if (error != SSL_ERROR_NONE && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE &&
            error != SSL_ERROR_ZERO_RETURN) {
            failed = failure(error, false);
        }
        if (has_output()) {  // key updates and alerts produced while reading
            auto sent = co_await flush(stop);
            if (!sent && !failed) {
                co_return sent.error();
            }
        }
        if (failed) {
            _broken = true;
            co_return failed;
        }
        if (ret == 1) {
            co_return got;
        }
        if (error == SSL_ERROR_ZERO_RETURN) {
            co_return size_t{0};  // close_notify: a clean end
        }
        if (error == SSL_ERROR_WANT_READ) {
            auto filled = co_await fill(stop);
            if (!filled) {
                co_return filled.error();
            }
            if (*filled == 0) {
                co_return connection_reset();
            }
        }
    }
}

task<result<void>> tls_stream::write_all(std::span<const std::byte> data, std::stop_token stop) {
    if (_broken) {
        co_return connection_reset();
    }
    while (!data.empty()) {
        size_t chunk = std::min(data.size(), max_write_chunk);
        ERR_clear_error();
        size_t written = 0;
        int ret = SSL_write_ex(_ssl, data.data(), chunk, &written);
        int error = ret == 1 ? SSL_ERROR_NONE : SSL_get_error(_ssl, ret);
        std::error_code failed;
        if (error != SSL_ERROR_NONE && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
            failed = failure(error, false);
        }
        auto sent = co_await flush(stop);
        if (failed) {
            _broken = true;
            co_return failed;
        }
        if (!sent) {
            co_return sent.error();
        }
        if (ret == 1) {
            data = data.subspan(written);
        } else if (error == SSL_ERROR_WANT_READ) {
            auto filled = co_await fill(stop);
            if (!filled) {
                co_return filled.error();
            }
            if (*filled == 0) {
                co_return connection_reset();
            }
        }
    }
    co_return result<void>{};
}

task<result<void>> tls_stream::shutdown(std::stop_token stop) {
    if (_broken) {
        co_return connection_reset();
    }
    ERR_clear_error();
    SSL_shutdown(_ssl);  // queues close_notify; the peer's answer is not awaited
    ERR_clear_error();
    co_return co_await flush(std::move(stop));
}

std::string_view tls_stream::protocol() const {
    return SSL_get_version(_ssl);
}

}  // namespace tv::io
