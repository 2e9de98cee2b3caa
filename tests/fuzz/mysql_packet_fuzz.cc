// SPDX-License-Identifier: Apache-2.0
// Fuzzes the MySQL packet decoder as a server meets it: the input is what a client sends on a
// new connection (through a real socket), framed into packets with sequence ids; the first is
// parsed as the handshake response, the others as commands, as the server does.
#include "io/loop.hh"
#include "io/sync_wait.hh"
#include "sql/protocol/mysql_messages.hh"
#include "sql/protocol/mysql_wire.hh"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace mysql = tv::sql::mysql;

namespace {

/// What the server allows before and after authentication (a small cap first, so the decoder's
/// size refusal is exercised too).
constexpr size_t handshake_limit = 4096;
constexpr size_t packet_limit = 1 << 20;

tv::io::task<void> serve(int fd) {
    mysql::packet_stream stream(fd, handshake_limit);
    stream.queue(mysql::handshake_v10(1, std::string(20, 'x'), "fuzz"));  // takes sequence id 0
    auto first = co_await stream.read({});
    if (!first || !*first) {
        co_return;
    }
    auto response = mysql::parse_handshake_response(**first);
    if (!response) {
        co_return;
    }
    if (response->user.size() > (*first)->size() || response->auth_response.size() > (*first)->size()) {
        std::abort();  // nothing parsed from a packet can be longer than the packet
    }
    if (!response->plugin.empty() && response->plugin != mysql::native_password_plugin) {
        stream.queue(mysql::auth_switch_request(mysql::native_password_plugin, std::string(20, 'x')));
        auto switched = co_await stream.read({});  // the answer continues the sequence
        if (!switched || !*switched) {
            co_return;
        }
    }
    stream.set_max_payload(packet_limit);
    for (;;) {
        stream.reset_sequence();
        auto command = co_await stream.read({});
        if (!command || !*command) {
            co_return;
        }
        mysql::payload_parser in(**command);
        if (in.u8() == mysql::com_field_list) {
            (void)in.nul_str();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static tv::io::loop loop;
    if (size > 64 * 1024) {
        return 0;  // more than a socket buffer holds: writing it all first would block
    }
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        std::abort();
    }
    for (size_t sent = 0; sent < size;) {
        ssize_t n = write(fds[1], data + sent, size - sent);
        if (n <= 0) {
            std::abort();
        }
        sent += static_cast<size_t>(n);
    }
    close(fds[1]);  // the client is done: the decoder sees the end of the stream after the bytes
    tv::io::sync_wait(loop, serve(fds[0]));
    close(fds[0]);
    return 0;
}
