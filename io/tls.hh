// SPDX-License-Identifier: Apache-2.0
// TLS client streams through OpenSSL. OpenSSL never touches the socket: it reads and writes
// memory BIOs, and every byte still crosses the ring through our recv/send operations, so
// stop tokens, deadlines and the buffers-live-until-completion rule hold for TLS as for plain TCP.
#pragma once

#include "io/error.hh"
#include "io/stream.hh"
#include "io/task.hh"

#include <cstddef>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

// OpenSSL's types, declared so this header does not pull in <openssl/ssl.h>.
struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace tv::io {

// ---- Errors --------------------------------------------------------------------------------

/// TLS failures are std::error_codes of this category (connection-level failures around them,
/// such as a reset or a closed peer, stay errno codes). message() is for users:
/// "TLS handshake failed: certificate verify failed (unable to get local issuer certificate)".
const std::error_category& tls_category() noexcept;

/// Whether `ec` is a TLS failure, and whether it happened while setting up the connection
/// (certificate and name checks, protocol mismatch) rather than on an established one.
bool is_tls_error(const std::error_code& ec) noexcept;
bool is_tls_handshake_error(const std::error_code& ec) noexcept;

/// The failure alone, without the "TLS handshake failed: " lead: "certificate verify failed
/// (hostname mismatch)", "wrong version number". Empty for non-TLS codes.
std::string tls_error_reason(const std::error_code& ec);

// ---- Configuration -------------------------------------------------------------------------

/// One OpenSSL client context per (CA file, verify) configuration, made on first use and shared
/// by every connection and loop that uses the same settings (an SSL_CTX is safe to share once
/// configured). The CA file is read once: a changed file takes effect after a restart.
class tls_context {
public:
    /// `ca_file`: PEM certificates of the CAs to trust; empty means the system store.
    /// `verify` false turns certificate and host-name checks off (the caller warns about it).
    /// Errors: an unreadable CA file (errno code) or one without a certificate (tls_category).
    static result<std::shared_ptr<tls_context>> get(const std::string& ca_file, bool verify);

    ~tls_context();
    tls_context(const tls_context&) = delete;
    tls_context& operator=(const tls_context&) = delete;

    ssl_ctx_st* native() const noexcept { return _ctx; }
    bool verify() const noexcept { return _verify; }

private:
    tls_context(ssl_ctx_st* ctx, bool verify) noexcept : _ctx(ctx), _verify(verify) {}

    ssl_ctx_st* _ctx;
    bool _verify;
};

struct tls_client_options {
    /// Sent as SNI (for a DNS name) and, when verifying, the name the certificate must carry:
    /// a DNS name, or an IPv4/IPv6 literal (checked against the certificate's IP addresses).
    std::string server_name;
    std::string ca_file;  ///< empty: the system store
    bool verify = true;
};

// ---- The stream ----------------------------------------------------------------------------

/// A client TLS session over a connected socket. The descriptor stays the caller's and must
/// outlive the stream. One operation at a time (see io::stream).
class tls_stream final : public stream {
public:
    /// Runs the client handshake over `fd`. A certificate the CA set does not vouch for, or one
    /// for another name, fails here with a tls_category code; a peer that closes instead of
    /// answering is std::errc::connection_reset.
    static task<result<std::unique_ptr<tls_stream>>> connect(int fd, tls_client_options options,
                                                             std::stop_token stop = {});

    ~tls_stream() override;
    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;

    /// 0 after the peer's close_notify; a connection closed without one (a truncation the
    /// application cannot tell from a complete message) is std::errc::connection_reset.
    task<result<size_t>> read_some(std::span<std::byte> buffer, std::stop_token stop = {}) override;
    task<result<void>> write_all(std::span<const std::byte> data, std::stop_token stop = {}) override;

    /// Sends close_notify without waiting for the peer's. Nothing may be written afterwards.
    task<result<void>> shutdown(std::stop_token stop = {});

    /// The negotiated protocol ("TLSv1.3"), for logs and tests.
    std::string_view protocol() const;

private:
    tls_stream(int fd, std::shared_ptr<tls_context> context, ssl_st* ssl, bio_st* in, bio_st* out);

    task<result<void>> handshake(std::stop_token stop);
    /// Sends what OpenSSL has written to the outgoing BIO.
    task<result<void>> flush(std::stop_token stop);
    /// One recv into the incoming BIO: the bytes received, 0 when the peer closed the connection.
    task<result<size_t>> fill(std::stop_token stop);
    bool has_output() const;
    /// The error behind a failed SSL call (`ssl_error` from SSL_get_error), read at once:
    /// OpenSSL's error queue is per thread and other coroutines run during any co_await.
    std::error_code failure(int ssl_error, bool during_handshake);

    int _fd;
    std::shared_ptr<tls_context> _context;
    ssl_st* _ssl;
    bio_st* _in;   // bytes received from the peer, for OpenSSL to decrypt (owned by _ssl)
    bio_st* _out;  // records OpenSSL produced, for us to send (owned by _ssl)
    std::vector<std::byte> _recv_buffer;
    std::vector<std::byte> _send_buffer;
    bool _broken = false;  // a send or receive failed: the record stream is out of step
};

}  // namespace tv::io
