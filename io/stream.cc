// SPDX-License-Identifier: Apache-2.0
// socket_stream: the stream interface straight over the ring's recv and send.
#include "io/stream.hh"

#include "io/ops.hh"
#include "io/socket.hh"

namespace tv::io {

task<result<size_t>> socket_stream::read_some(std::span<std::byte> buffer, std::stop_token stop) {
    co_return co_await recv(_fd, buffer, std::move(stop));
}

task<result<void>> socket_stream::write_all(std::span<const std::byte> data, std::stop_token stop) {
    co_return co_await send_all(_fd, data, std::move(stop));
}

}  // namespace tv::io
