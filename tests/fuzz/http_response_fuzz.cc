// SPDX-License-Identifier: Apache-2.0
// Fuzzes the HTTP client's response reader (Boost.Beast's parser plus our framing: chunked,
// Content-Length and read-until-close bodies, HEAD, bodies read straight into a buffer). The
// input is what a server sends on one keep-alive connection; it is read three ways, arriving in
// pieces of different sizes, response after response until the reader stops.
#include "io/http_codec.hh"
#include "io/loop.hh"
#include "io/sync_wait.hh"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

/// The bytes of one connection, handed out `piece` bytes at a time, then end of stream.
class memory_stream final : public tv::io::stream {
public:
    memory_stream(std::string_view data, size_t piece) : _data(data), _piece(piece) {}

    tv::io::task<tv::io::result<size_t>> read_some(std::span<std::byte> buffer, std::stop_token) override {
        size_t n = std::min({buffer.size(), _piece, _data.size()});
        std::memcpy(buffer.data(), _data.data(), n);
        _data.remove_prefix(n);
        co_return n;
    }
    tv::io::task<tv::io::result<void>> write_all(std::span<const std::byte>, std::stop_token) override {
        co_return tv::io::result<void>();
    }

private:
    std::string_view _data;
    size_t _piece;
};

struct reading {
    size_t piece;
    size_t body_limit;
    bool head_request;
    bool into_buffer;
};

tv::io::task<void> read_all(std::string_view data, reading how) {
    memory_stream connection(data, how.piece);
    std::string carry;
    std::array<std::byte, 256> buffer;
    std::span<std::byte> into = how.into_buffer ? std::span<std::byte>(buffer) : std::span<std::byte>();
    for (;;) {
        auto response = co_await tv::io::read_response(connection, carry, how.body_limit, how.head_request, {}, into);
        if (!response) {
            break;
        }
        if (response->body.size() > how.body_limit) {
            std::abort();  // the limit is what keeps a hostile server from exhausting memory
        }
        if (response->body_into_size && *response->body_into_size > buffer.size()) {
            std::abort();
        }
        if (!response->keep_alive) {
            break;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static tv::io::loop loop;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    tv::io::sync_wait(loop, read_all(text, {.piece = 1 << 20, .body_limit = 1 << 20, .head_request = false, .into_buffer = false}));
    tv::io::sync_wait(loop, read_all(text, {.piece = 7, .body_limit = 1 << 20, .head_request = true, .into_buffer = false}));
    tv::io::sync_wait(loop, read_all(text, {.piece = 64, .body_limit = 100, .head_request = false, .into_buffer = true}));
    return 0;
}
