// SPDX-License-Identifier: Apache-2.0
// MySQL protocol messages: the initial handshake and the client's response, auth switch, and
// the OK / ERR / EOF packets and text result sets the server answers with.
#pragma once

#include "sql/errors.hh"
#include "sql/protocol/mysql_wire.hh"
#include "sql/result.hh"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tv::sql::mysql {

inline constexpr std::string_view native_password_plugin = "mysql_native_password";
inline constexpr uint8_t utf8mb4_general_ci = 45;

/// What the server announces; the client keeps the intersection.
uint32_t server_capabilities() noexcept;

/// Handshake v10 with a 20-byte scramble and mysql_native_password.
std::string handshake_v10(uint32_t connection_id, std::string_view scramble, std::string_view server_version);

struct handshake_response {
    uint32_t capabilities = 0;
    uint32_t max_packet = 0;
    uint8_t charset = 0;
    std::string user;
    std::string auth_response;
    std::string database;  // empty unless CLIENT_CONNECT_WITH_DB
    std::string plugin;    // empty unless CLIENT_PLUGIN_AUTH
};

/// Parses HandshakeResponse41; nullopt when malformed or pre-4.1.
std::optional<handshake_response> parse_handshake_response(std::string_view payload);

/// Asks the client to answer the scramble with another plugin (we ask for native password
/// when a client starts with caching_sha2_password).
std::string auth_switch_request(std::string_view plugin, std::string_view scramble);

std::string ok_packet(uint64_t affected_rows, uint16_t status, std::string_view info);
/// The longest error message sent, in bytes: longer ones are cut and end in "...".
inline constexpr size_t k_error_message_bytes = 1024;

/// An ERR packet. The message is sent as printable_excerpt() makes it: control bytes and bytes
/// that are not UTF-8 escaped, at most k_error_message_bytes.
std::string err_packet(const sql_error& error);

/// Queues a text result set: column count, definitions, rows, and the end marker (EOF, or an
/// OK with the EOF header under CLIENT_DEPRECATE_EOF).
void queue_result_set(packet_stream& out, const result_set& rs, uint32_t capabilities, uint16_t status);

/// Queues the column definitions of COM_FIELD_LIST and its end marker.
void queue_field_list(packet_stream& out, std::string_view table, const std::vector<column_meta>& columns,
                      uint32_t capabilities);

}  // namespace tv::sql::mysql
