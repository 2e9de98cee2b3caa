// SPDX-License-Identifier: Apache-2.0
// http_client: HTTP/1.1 requests over io/ sockets, plain or TLS, with a keep-alive connection
// pool per endpoint, timeouts, and Expect: 100-continue for large bodies. It knows nothing
// about S3 (signing and retries are s3_client's).
#pragma once

#include "io/error.hh"
#include "io/http_codec.hh"
#include "io/socket.hh"
#include "io/stream.hh"
#include "io/task.hh"
#include "remote/body_pacer.hh"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

namespace tv::remote {

/// Where to connect. `host` is a name or an address literal; names are resolved with
/// getaddrinfo, which blocks the loop (acceptable for the few endpoints a server talks to, and
/// the pool keeps it off the per-request path).
struct http_endpoint {
    std::string host;
    uint16_t port = 80;

    // ---- TLS (https://)
    bool use_tls = false;
    /// SNI and the name the server's certificate must carry; empty: `host`. Differs from `host`
    /// when connecting to an address chosen otherwise (tests, private DNS).
    std::string tls_server_name;
    std::string ca_file;     ///< PEM CA certificates to trust; empty: the system store
    bool verify_tls = true;  ///< false: no certificate or host-name check (the caller warns)

    /// "host:port" for messages.
    std::string authority() const { return host + ":" + std::to_string(port); }
    /// The pool key: connections are shared only between endpoints with the same TLS settings.
    std::string key() const;
    /// 443 over TLS, else 80: the port the Host header leaves out.
    uint16_t default_port() const noexcept { return use_tls ? 443 : 80; }
};

struct http_client_options {
    /// Idle keep-alive connections kept per endpoint; more are closed when returned.
    size_t max_idle_per_endpoint = 8;
    /// A connection idle longer than this is closed instead of reused: servers close theirs
    /// after a while (Ceph RGW had closed a job's during the 90 s of its upload), and a request
    /// sent on a closed one costs a round trip before it goes again on a fresh connection.
    std::chrono::milliseconds max_idle_time{20'000};
    std::chrono::milliseconds connect_timeout{5'000};
    /// The TCP congestion control requests and bodies are sent with; empty: the kernel's default.
    std::string congestion_control;
    /// The whole exchange after connecting: sending the request and reading the response.
    std::chrono::milliseconds request_timeout{60'000};
    /// Bodies at least this large are sent with Expect: 100-continue, so a request the server
    /// rejects (bad signature, missing bucket) does not push the whole body first. Always: a
    /// server that refuses mid-body may stop reading and leave a paced body blocked until the
    /// request times out, its answer unread (Ceph RGW did, for a bucket deleted mid-backup).
    size_t expect_continue_threshold = 1024 * 1024;
    /// How long to wait for 100 Continue before sending the body anyway (servers may ignore it).
    std::chrono::milliseconds expect_continue_wait{1'000};
    /// The largest response body read into memory.
    size_t max_response_body = 256 * 1024 * 1024;
};

struct http_client_request {
    std::string method;
    std::string target;  ///< path and query, already encoded
    /// Host is added from the endpoint unless given; Content-Length is always set here.
    std::vector<std::pair<std::string, std::string>> headers;
    /// Must stay valid until the request's task finishes.
    std::span<const std::byte> body;
    body_pacer pacer;
    /// Paces the answer: reads take at most its slice, and each slice is taken from it once it
    /// has come (so what the link carries follows the limit, not the server's bunching).
    body_pacer response_pacer;
    /// A 2xx answer's Content-Length body is read straight into this buffer (see
    /// io::read_response); the response's body_into_size says how much.
    std::span<std::byte> response_into;
    /// Told the bytes of the answer read so far (head included), after each read.
    std::function<void(uint64_t)> answer_progress;
    /// Called once the whole body is written to the connection, before the answer is read.
    std::function<void()> body_sent;
};

/// Counters for tests and metrics.
struct http_client_stats {
    uint64_t connections_opened = 0;
    uint64_t connections_reused = 0;
    uint64_t requests = 0;
};

/// One per event loop: the pool is not thread-safe, and a connection stays on the loop that
/// opened it. Errors are io::result errors: std::errc::timed_out for a timeout, connection_reset
/// for a peer that closed, operation_canceled for the caller's stop, and invalid_argument for a
/// request that is never sent because its method, target, a header name or a header value holds
/// CR, LF or NUL (or a name is not an HTTP token): those would let a value end its line and
/// smuggle a second request, whoever built it.
class http_client {
public:
    explicit http_client(http_client_options options = {});
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    /// Sends one request and reads its response. A pooled connection the server has closed
    /// meanwhile (no response byte) is replaced by a fresh one once, transparently.
    io::task<io::result<io::http_client_response>> send(http_endpoint endpoint, http_client_request request,
                                                         std::stop_token stop = {});

    /// Closes every idle connection.
    void clear();
    size_t idle_connections(const http_endpoint& endpoint) const;
    const http_client_stats& stats() const noexcept { return _stats; }
    const http_client_options& options() const noexcept { return _options; }

private:
    struct connection {
        io::socket_fd fd;
        std::unique_ptr<io::stream> stream;  // over `fd`: plain, or TLS with its session
        std::string carry;  // bytes read past the last response (never expected, kept safe)
        bool answered = false;  // a byte of the current request's answer came (it is not sent again)
        size_t receive_window = 0;  // a paced connection's fixed receive buffer (0: autotuned)
        std::chrono::steady_clock::time_point idle_since;  // when it was last returned to the pool
    };

    /// `receive_buffer` > 0: a connection for paced answers (see paced_receive_buffer).
    io::task<io::result<connection>> open(http_endpoint endpoint, int receive_buffer, std::stop_token stop);
    io::task<io::result<void>> send_body(io::stream& stream, const http_client_request& request, std::stop_token stop);
    io::task<io::result<io::http_client_response>> exchange(connection& conn, const http_client_request& request,
                                                            std::stop_token stop);
    /// Paced connections have their own pools (by receive buffer): their buffer never grows.
    void release(const std::string& pool, connection conn);

    http_client_options _options;
    std::map<std::string, std::vector<connection>> _idle;
    http_client_stats _stats;
};

}  // namespace tv::remote
