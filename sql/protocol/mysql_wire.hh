// SPDX-License-Identifier: Apache-2.0
// MySQL client/server protocol, the wire level: packet framing with sequence ids (joining and
// splitting 16 MiB pieces), and builders/parsers for the integer and string encodings.
#pragma once

#include "io/error.hh"
#include "io/task.hh"

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

namespace tv::sql::mysql {

// Capability flags (only those we use or advertise).
inline constexpr uint32_t client_long_password = 1;
inline constexpr uint32_t client_found_rows = 2;
inline constexpr uint32_t client_long_flag = 4;
inline constexpr uint32_t client_connect_with_db = 8;
inline constexpr uint32_t client_protocol_41 = 512;
inline constexpr uint32_t client_transactions = 8192;
inline constexpr uint32_t client_secure_connection = 32768;
inline constexpr uint32_t client_multi_statements = 1u << 16;
inline constexpr uint32_t client_multi_results = 1u << 17;
inline constexpr uint32_t client_plugin_auth = 1u << 19;
inline constexpr uint32_t client_connect_attrs = 1u << 20;
inline constexpr uint32_t client_plugin_auth_lenenc_data = 1u << 21;
inline constexpr uint32_t client_deprecate_eof = 1u << 24;

// Server status flags.
inline constexpr uint16_t server_status_autocommit = 2;
inline constexpr uint16_t server_more_results_exist = 8;

// Commands.
inline constexpr uint8_t com_quit = 0x01;
inline constexpr uint8_t com_init_db = 0x02;
inline constexpr uint8_t com_query = 0x03;
inline constexpr uint8_t com_field_list = 0x04;
inline constexpr uint8_t com_statistics = 0x09;
inline constexpr uint8_t com_ping = 0x0e;
inline constexpr uint8_t com_reset_connection = 0x1f;

inline constexpr size_t max_piece = 0xffffff;  // a payload this long continues in the next packet

/// Appends the protocol's encodings to a payload.
class payload_builder {
public:
    payload_builder& u8(uint8_t v);
    payload_builder& u16(uint16_t v);
    payload_builder& u24(uint32_t v);
    payload_builder& u32(uint32_t v);
    payload_builder& u64(uint64_t v);
    payload_builder& lenenc_int(uint64_t v);
    payload_builder& lenenc_str(std::string_view s);
    payload_builder& nul_str(std::string_view s);
    payload_builder& raw(std::string_view s);
    payload_builder& zeros(size_t n);

    std::string& bytes() noexcept { return _bytes; }

private:
    std::string _bytes;
};

/// Reads the protocol's encodings from a payload. Reading past the end sets failed() and
/// yields zeros and empty strings, so a parser checks once at the end.
class payload_parser {
public:
    explicit payload_parser(std::string_view data) : _data(data) {}
    uint8_t u8();
    uint16_t u16();
    uint32_t u32();
    uint64_t lenenc_int();
    std::string_view fixed(size_t n);
    std::string_view lenenc_str();
    std::string_view nul_str();
    std::string_view rest();
    bool at_end() const noexcept { return _pos >= _data.size(); }
    bool failed() const noexcept { return _failed; }

private:
    std::string_view _data;
    size_t _pos = 0;
    bool _failed = false;
};

/// One connection's packet stream: framing, sequence ids, buffering.
class packet_stream {
public:
    packet_stream(int fd, size_t max_payload) : _fd(fd), _max_payload(max_payload) {}

    /// Reads one logical packet. nullopt: the peer closed cleanly before a new packet. Errors:
    /// std::errc::message_size (larger than max_payload), std::errc::bad_message (closed
    /// mid-packet or out-of-order sequence id), or the socket's error.
    io::task<io::result<std::optional<std::string>>> read(std::stop_token stop);

    /// Frames `payload` (splitting it when needed) into the output buffer with the next ids.
    void queue(std::string_view payload);
    /// Sends everything queued.
    io::task<io::result<void>> flush(std::stop_token stop);

    /// A new command starts a new sequence.
    void reset_sequence() noexcept { _sequence = 0; }

    /// The largest payload read() accepts: small until the client has authenticated, so that
    /// an anonymous connection cannot make the server buffer megabytes.
    void set_max_payload(size_t max_payload) noexcept { _max_payload = max_payload; }

private:
    enum class fill_status { ready, closed };
    /// Buffers until `wanted` unread bytes are there, or the peer closed.
    io::task<io::result<fill_status>> fill(size_t wanted, std::stop_token stop);

    int _fd;
    size_t _max_payload;
    uint8_t _sequence = 0;
    std::string _in;
    size_t _in_pos = 0;
    std::string _out;
};

}  // namespace tv::sql::mysql
