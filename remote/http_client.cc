// SPDX-License-Identifier: Apache-2.0
// The HTTP client: connection pool (TLS sessions included), request exchange, 100-continue
// and deadlines.
#include "remote/http_client.hh"

#include "io/log.hh"
#include "io/ops.hh"
#include "io/tls.hh"
#include "io/when_all.hh"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <strings.h>

#include <algorithm>
#include <bit>
#include <optional>

namespace tv::remote {

namespace {

/// 1xx: an interim answer, never the final one.
bool is_informational(int status) {
    return status >= 100 && status < 200;
}

/// Interim answers taken before one is refused as a server that never answers.
constexpr int max_informational_answers = 8;

// ---- deadlines ------------------------------------------------------------------------------

template <class T>
struct timed_state {
    std::stop_source op_stop;
    std::stop_source timer_stop;
    bool timed_out = false;
    std::optional<io::result<T>> value;
};

template <class T, class Op>
io::task<void> run_timed_op(timed_state<T>* state, Op* op) {
    auto r = co_await (*op)(state->op_stop.get_token());
    state->value.emplace(std::move(r));
    state->timer_stop.request_stop();
}

template <class T>
io::task<void> run_timer(timed_state<T>* state, std::chrono::milliseconds timeout) {
    auto slept = co_await io::sleep(timeout, state->timer_stop.get_token());
    if (slept) {
        state->timed_out = true;
        state->op_stop.request_stop();
    }
}

/// Runs `op(stop_token)` with a deadline. The timer and the operation stop each other, and
/// when_all waits for both, so a stopped operation has completed (buffers released by the
/// kernel) before this returns. A timeout is std::errc::timed_out.
template <class T, class Op>
io::task<io::result<T>> with_timeout(std::chrono::milliseconds timeout, std::stop_token stop, Op op) {
    timed_state<T> state;
    auto forward_stop = [&state] {
        state.op_stop.request_stop();
        state.timer_stop.request_stop();
    };
    std::stop_callback on_stop(stop, forward_stop);
    auto op_task = run_timed_op(&state, &op);
    auto timer_task = run_timer(&state, timeout);
    co_await io::when_all(std::move(op_task), std::move(timer_task));
    if (state.timed_out && !*state.value) {
        co_return std::make_error_code(std::errc::timed_out);
    }
    co_return std::move(*state.value);
}

/// The address to connect to: literals as they are, names through getaddrinfo.
io::result<std::string> resolve(const std::string& host, uint16_t port) {
    socklen_t length = 0;
    if (io::parse_address(host, port, length)) {
        return host;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
        return std::make_error_code(std::errc::host_unreachable);
    }
    char text[INET6_ADDRSTRLEN] = {};
    if (found->ai_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr, text, sizeof(text));
    } else {
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr, text, sizeof(text));
    }
    ::freeaddrinfo(found);
    return std::string(text);
}

bool has_header(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) {
            return true;
        }
    }
    return false;
}

/// Whether a header name, value, method or target could change the request's framing: CR or LF
/// would end the line (and could start a smuggled second request), NUL truncates it for some
/// servers. Values come from configuration and from other services (STS and IMDS hand back
/// session tokens), so they are checked here, where every request goes, whoever built it.
bool breaks_framing(std::string_view text) {
    return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

/// A header name is an HTTP token: no separators, spaces or control characters.
bool valid_header_name(std::string_view name) {
    if (name.empty()) {
        return false;
    }
    for (char ch : name) {
        auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f || std::string_view("()<>@,;:\\\"/[]?={}").find(ch) != std::string_view::npos) {
            return false;
        }
    }
    return true;
}

/// The reason a request cannot be written as it is, or nullopt. The header's name is given,
/// never its value (it may be a credential).
std::optional<std::string> unsafe_request(const http_client_request& request) {
    if (request.method.empty() || breaks_framing(request.method) || request.method.find(' ') != std::string::npos) {
        return std::string("the method is not a single token");
    }
    for (char ch : request.target) {
        auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c == 0x7f) {
            return std::string("the target holds a space or a control character");
        }
    }
    for (const auto& [name, value] : request.headers) {
        if (!valid_header_name(name)) {
            return fmt::format("header name '{}' is not an HTTP token", breaks_framing(name) ? "(unprintable)" : name);
        }
        if (breaks_framing(value)) {
            return fmt::format("the value of header {} holds CR, LF or NUL", name);
        }
    }
    return std::nullopt;
}

bool is_stale_connection_error(const std::error_code& ec) {
    return ec == std::errc::connection_reset || ec == std::errc::broken_pipe;
}

std::span<const std::byte> as_bytes(const std::string& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

/// A connection's stream, noting in `answered` when a byte of an answer comes: only a request
/// that got none may be sent again (it cannot have been acted on as far as the client can tell).
class answer_watch final : public io::stream {
public:
    answer_watch(io::stream& inner, bool& answered, const std::function<void(uint64_t)>& progress) noexcept
        : _inner(inner), _answered(answered), _progress(progress) {}

    io::task<io::result<size_t>> read_some(std::span<std::byte> buffer, std::stop_token stop = {}) override {
        auto got = co_await _inner.read_some(buffer, std::move(stop));
        if (got && *got > 0) {
            _answered = true;
            _read += *got;
            if (_progress) {
                _progress(_read);
            }
        }
        co_return got;
    }

    io::task<io::result<void>> write_all(std::span<const std::byte> data, std::stop_token stop = {}) override {
        return _inner.write_all(data, std::move(stop));
    }

private:
    io::stream& _inner;
    bool& _answered;
    const std::function<void(uint64_t)>& _progress;
    uint64_t _read = 0;
};

/// A connection's stream whose reads are paced: each read takes at most a slice. The socket's
/// receive buffer (`window`, fixed when the connection was opened for paced answers) is what the
/// server can have sent beyond our reads, so before each read the pacer has been paid for
/// everything read, this read and that window (up to the answer's expected size): the link
/// then carries only paid bytes, whatever the server's bunching. Bytes beyond the expected size
/// (the answer's head) are paid once they have come; every byte is paid once.
class paced_reads final : public io::stream {
public:
    paced_reads(io::stream& inner, const body_pacer& pacer, size_t window) noexcept
        : _inner(inner), _pacer(pacer), _window(pacer.expected == 0 ? 0 : window) {}

    io::task<io::result<size_t>> read_some(std::span<std::byte> buffer, std::stop_token stop = {}) override {
        size_t want = std::min(buffer.size(), std::max<size_t>(1, _pacer.slice));
        if (_window != 0) {
            want = std::min<uint64_t>(want, _window);  // no more than the kernel can hold
        }
        // (No co_await on the right of &&: GCC 12 miscompiles it.)
        uint64_t ahead = std::min<uint64_t>(_read + want + _window, _pacer.expected);
        if (ahead > _paid) {
            bool allowed = co_await pay(ahead - _paid);
            if (!allowed) {
                co_return std::make_error_code(std::errc::operation_canceled);
            }
        }
        auto got = co_await _inner.read_some(buffer.first(want), std::move(stop));
        if (got) {
            _read += *got;
        }
        if (_read > _paid) {
            bool allowed = co_await pay(_read - _paid);
            if (!allowed) {
                co_return std::make_error_code(std::errc::operation_canceled);
            }
        }
        co_return got;
    }

    io::task<io::result<void>> write_all(std::span<const std::byte> data, std::stop_token stop = {}) override {
        return _inner.write_all(data, std::move(stop));
    }

private:
    io::task<bool> pay(uint64_t bytes) {
        _paid += bytes;
        co_return co_await _pacer.take(static_cast<size_t>(bytes));
    }

    io::stream& _inner;
    const body_pacer& _pacer;
    uint64_t _window;
    uint64_t _read = 0;
    uint64_t _paid = 0;
};

/// The receive buffer a paced connection is opened with: about half a slice of the pacer (the
/// kernel doubles it), so 5-10 ms of the limit per connection. Bytes paid for but not received
/// yet (a store that pauses on one connection) are at most that, over every connection in
/// flight, which keeps a 10-s window within about 1 % of the limit; a link of 50 ms round trip
/// still carries the limit with a dozen connections.
int paced_receive_buffer(size_t slice) {
    constexpr size_t smallest = 16 * 1024;
    constexpr size_t largest = 512 * 1024;
    return static_cast<int>(std::clamp(std::bit_ceil(std::max<size_t>(slice, 1)) / 4, smallest, largest));
}

}  // namespace

std::string http_endpoint::key() const {
    if (!use_tls) {
        return authority();
    }
    return fmt::format("https://{}@{}|{}|{}", tls_server_name.empty() ? host : tls_server_name, authority(), ca_file,
                       verify_tls ? "verify" : "no-verify");
}

http_client::http_client(http_client_options options) : _options(std::move(options)) {}

http_client::~http_client() = default;

void http_client::clear() {
    _idle.clear();
}

size_t http_client::idle_connections(const http_endpoint& endpoint) const {
    auto it = _idle.find(endpoint.key());
    return it == _idle.end() ? 0 : it->second.size();
}

void http_client::release(const std::string& pool, connection conn) {
    auto& idle = _idle[pool];
    if (idle.size() < _options.max_idle_per_endpoint) {
        conn.idle_since = std::chrono::steady_clock::now();
        idle.push_back(std::move(conn));
    }
}

io::task<io::result<http_client::connection>> http_client::open(http_endpoint endpoint, int receive_buffer,
                                                               std::stop_token stop) {
    auto address = resolve(endpoint.host, endpoint.port);
    if (!address) {
        co_return address.error();
    }
    io::tcp_connect_options tcp;
    tcp.receive_buffer = receive_buffer;
    tcp.congestion_control = _options.congestion_control;
    auto fd = co_await io::connect_tcp(*address, endpoint.port, stop, std::move(tcp));
    if (!fd) {
        co_return fd.error();
    }
    connection conn;
    conn.fd = std::move(*fd);
    if (receive_buffer > 0) {
        conn.receive_window = io::receive_buffer_bytes(conn.fd.get());
    }
    if (endpoint.use_tls) {
        io::tls_client_options tls;
        tls.server_name = endpoint.tls_server_name.empty() ? endpoint.host : endpoint.tls_server_name;
        tls.ca_file = endpoint.ca_file;
        tls.verify = endpoint.verify_tls;
        auto session = co_await io::tls_stream::connect(conn.fd.get(), std::move(tls), std::move(stop));
        if (!session) {
            co_return session.error();
        }
        conn.stream = std::move(*session);
    } else {
        conn.stream = std::make_unique<io::socket_stream>(conn.fd.get());
    }
    ++_stats.connections_opened;
    co_return std::move(conn);
}

io::task<io::result<void>> http_client::send_body(io::stream& stream, const http_client_request& request,
                                                  std::stop_token stop) {
    if (!request.pacer) {
        co_return co_await stream.write_all(request.body, stop);
    }
    auto rest = request.body;
    size_t slice = std::max<size_t>(1, request.pacer.slice);
    while (!rest.empty()) {
        size_t n = std::min(slice, rest.size());
        auto allowed = co_await request.pacer.take(n);
        if (!allowed) {
            co_return std::make_error_code(std::errc::operation_canceled);
        }
        auto sent = co_await stream.write_all(rest.first(n), stop);
        if (!sent) {
            co_return sent.error();
        }
        rest = rest.subspan(n);
    }
    co_return io::result<void>{};
}

io::task<io::result<io::http_client_response>> http_client::exchange(connection& conn,
                                                                     const http_client_request& request,
                                                                     std::stop_token stop) {
    auto headers = request.headers;
    bool has_body = !request.body.empty() || request.method == "PUT" || request.method == "POST";
    if (has_body) {
        headers.emplace_back("Content-Length", std::to_string(request.body.size()));
    }
    bool expect_continue = request.body.size() >= _options.expect_continue_threshold;
    if (expect_continue) {
        headers.emplace_back("Expect", "100-continue");
    }
    bool head_request = request.method == "HEAD";
    conn.answered = !conn.carry.empty();
    answer_watch watched(*conn.stream, conn.answered, request.answer_progress);
    paced_reads paced(watched, request.response_pacer, conn.receive_window);
    io::stream& stream = request.response_pacer ? static_cast<io::stream&>(paced) : watched;
    constexpr size_t inline_body_limit = 64 * 1024;
    if (!expect_continue && !request.pacer && request.body.size() <= inline_body_limit) {
        // One send for a small request: head and body in one segment.
        std::string body_text(reinterpret_cast<const char*>(request.body.data()), request.body.size());
        std::string whole = io::serialize_request(request.method, request.target, headers, body_text);
        auto sent = co_await stream.write_all(as_bytes(whole), stop);
        if (!sent) {
            co_return sent.error();
        }
    } else {
        std::string head = io::serialize_request(request.method, request.target, headers);
        auto sent = co_await stream.write_all(as_bytes(head), stop);
        if (!sent) {
            co_return sent.error();
        }
        if (expect_continue) {
            size_t limit = _options.max_response_body;
            auto read_interim = [&stream, &conn, limit](std::stop_token s) {
                return io::read_response(stream, conn.carry, limit, false, std::move(s));
            };
            auto interim =
                co_await with_timeout<io::http_client_response>(_options.expect_continue_wait, stop, read_interim);
            // 102 Processing, 103 Early Hints: not the answer awaited (a few, not endlessly).
            for (int informational = 0; interim && is_informational(interim->status) && interim->status != 100 &&
                                        informational < max_informational_answers;
                 ++informational) {
                interim =
                    co_await with_timeout<io::http_client_response>(_options.expect_continue_wait, stop, read_interim);
            }
            if (interim && interim->status != 100) {
                if (interim->status < 300) {
                    // Success for a body never sent: nothing a server may answer. Taken as an
                    // answer, a PUT would look stored.
                    co_return std::make_error_code(std::errc::bad_message);
                }
                // A final answer before the body (typically an error): the body was never sent,
                // so this connection cannot carry another request.
                interim->keep_alive = false;
                co_return std::move(*interim);
            }
            if (!interim && interim.error() != std::errc::timed_out) {
                co_return interim.error();
            }
            // 100 Continue, or a server that ignores Expect: send the body.
        }
        auto body_sent = co_await send_body(stream, request, stop);
        if (!body_sent) {
            if (is_stale_connection_error(body_sent.error())) {
                // A server that refuses a request (no such bucket, a revoked key) may answer
                // and close before taking the whole body: its answer, already here, is what
                // the caller needs, not the reset. A connection closed while idle has none.
                size_t limit = _options.max_response_body;
                auto read_answer = [&stream, &conn, limit, head_request](std::stop_token s) {
                    return io::read_response(stream, conn.carry, limit, head_request, std::move(s));
                };
                auto early = co_await with_timeout<io::http_client_response>(_options.expect_continue_wait, stop,
                                                                             read_answer);
                if (early && early->status >= 300) {
                    early->keep_alive = false;
                    co_return std::move(*early);
                }
            }
            co_return body_sent.error();
        }
    }
    if (request.body_sent) {
        request.body_sent();
    }
    int informational_after_body = 0;
    for (;;) {
        auto response = co_await io::read_response(stream, conn.carry, _options.max_response_body, head_request, stop,
                                                   request.response_into);
        if (!response) {
            co_return response.error();
        }
        if (is_informational(response->status) && ++informational_after_body <= max_informational_answers) {
            continue;  // a late 100 Continue after we stopped waiting for it, 102 Processing, 103 Early Hints
        }
        if (is_informational(response->status)) {
            co_return std::make_error_code(std::errc::bad_message);  // 1xx without end
        }
        co_return std::move(*response);
    }
}

io::task<io::result<io::http_client_response>> http_client::send(http_endpoint endpoint, http_client_request request,
                                                                 std::stop_token stop) {
    if (!has_header(request.headers, "Host")) {
        std::string host = endpoint.port == endpoint.default_port() ? endpoint.host : endpoint.authority();
        request.headers.emplace(request.headers.begin(), "Host", std::move(host));
    }
    // Checked before any connection is made: a request that fails it is never sent.
    if (auto why = unsafe_request(request)) {
        TV_LOG_ERROR("HTTP request to {} not sent: {}", endpoint.authority(), *why);
        co_return std::make_error_code(std::errc::invalid_argument);
    }
    ++_stats.requests;
    int receive_buffer = request.response_pacer ? paced_receive_buffer(request.response_pacer.slice) : 0;
    std::string pool = receive_buffer == 0 ? endpoint.key() : fmt::format("{}|rcvbuf={}", endpoint.key(), receive_buffer);
    for (int round = 0;; ++round) {
        connection conn;
        bool reused = false;
        auto& idle = _idle[pool];
        // The newest is at the back: once the back is too old, so is every other.
        if (!idle.empty() && std::chrono::steady_clock::now() - idle.back().idle_since > _options.max_idle_time) {
            idle.clear();
        }
        if (round == 0 && !idle.empty()) {
            conn = std::move(idle.back());
            idle.pop_back();
            reused = true;
            ++_stats.connections_reused;
        } else {
            auto open_op = [this, &endpoint, receive_buffer](std::stop_token s) {
                return open(endpoint, receive_buffer, std::move(s));
            };
            auto opened = co_await with_timeout<connection>(_options.connect_timeout, stop, open_op);
            if (!opened) {
                co_return opened.error();
            }
            conn = std::move(*opened);
        }
        auto exchange_op = [this, &conn, &request](std::stop_token s) { return exchange(conn, request, std::move(s)); };
        auto deadline = _options.request_timeout + request.pacer.allowance + request.response_pacer.allowance;
        auto response = co_await with_timeout<io::http_client_response>(deadline, stop, exchange_op);
        if (!response) {
            // The server may close an idle keep-alive connection at any time; a request that got
            // no response byte on a reused connection is sent again on a fresh one.
            if (reused && !conn.answered && is_stale_connection_error(response.error())) {
                continue;
            }
            co_return response.error();  // the connection closes here: its state is unknown
        }
        if (response->keep_alive && conn.carry.empty()) {
            release(pool, std::move(conn));
        }
        co_return std::move(*response);
    }
}

}  // namespace tv::remote
