// SPDX-License-Identifier: Apache-2.0
// Encoding and decoding of MySQL protocol messages.
#include "sql/protocol/mysql_messages.hh"

#include "io/printable.hh"

namespace tv::sql::mysql {

namespace {

// MySQL field types.
constexpr uint8_t type_tiny = 0x01;
constexpr uint8_t type_short = 0x02;
constexpr uint8_t type_long = 0x03;
constexpr uint8_t type_float = 0x04;
constexpr uint8_t type_newdecimal = 0xf6;
constexpr uint8_t type_double = 0x05;
constexpr uint8_t type_longlong = 0x08;
constexpr uint8_t type_date = 0x0a;
constexpr uint8_t type_datetime = 0x0c;
constexpr uint8_t type_var_string = 0xfd;

// Column flags and the binary collation MySQL gives number columns.
constexpr uint16_t flag_not_null = 1;
constexpr uint16_t flag_binary = 128;
constexpr uint16_t flag_num = 32768;
constexpr uint16_t binary_collation = 63;

uint8_t field_type(column_kind kind) {
    switch (kind) {
    case column_kind::tinyint: return type_tiny;
    case column_kind::smallint: return type_short;
    case column_kind::int_: return type_long;
    case column_kind::bigint: return type_longlong;
    case column_kind::largeint: return type_newdecimal;  // 39 digits do not fit LONGLONG
    case column_kind::decimal: return type_newdecimal;
    case column_kind::float_: return type_float;
    case column_kind::double_: return type_double;
    case column_kind::date: return type_date;
    case column_kind::datetime: return type_datetime;
    case column_kind::varchar: return type_var_string;
    }
    return type_var_string;
}

bool numeric(column_kind kind) {
    return kind != column_kind::varchar && kind != column_kind::date && kind != column_kind::datetime;
}

/// The display width MySQL announces for a column of this kind.
uint32_t display_length(const column_meta& column) {
    if (column.length != 0) {
        return column.length;
    }
    switch (column.kind) {
    case column_kind::tinyint: return 4;
    case column_kind::smallint: return 6;
    case column_kind::int_: return 11;
    case column_kind::bigint: return 20;
    case column_kind::largeint: return 40;
    case column_kind::float_: return 12;
    case column_kind::double_: return 22;
    case column_kind::date: return 10;
    case column_kind::datetime: return 26;
    case column_kind::varchar: return 65533 * 4;
    case column_kind::decimal: return 64;
    }
    return 64;
}

uint8_t decimals(const column_meta& column) {
    switch (column.kind) {
    case column_kind::float_:
    case column_kind::double_: return 31;  // NOT_FIXED_DEC: shortest text
    case column_kind::decimal: return column.decimals;
    default: return 0;
    }
}

std::string column_definition(std::string_view table, const column_meta& column, bool with_default) {
    payload_builder p;
    p.lenenc_str("def").lenenc_str("").lenenc_str(table).lenenc_str(table);
    p.lenenc_str(column.name).lenenc_str(column.name);
    p.lenenc_int(0x0c);
    p.u16(numeric(column.kind) ? binary_collation : utf8mb4_general_ci);
    p.u32(display_length(column));
    p.u8(field_type(column.kind));
    uint16_t flags = column.nullable ? 0 : flag_not_null;
    if (numeric(column.kind)) {
        flags |= flag_binary | flag_num;
    }
    p.u16(flags);
    p.u8(decimals(column));
    p.u16(0);  // filler
    if (with_default) {
        p.u8(0xfb);  // COM_FIELD_LIST: the default value, NULL (a bare 0xfb byte)
    }
    return std::move(p.bytes());
}

std::string eof_packet(uint16_t status) {
    payload_builder p;
    p.u8(0xfe).u16(0).u16(status);
    return std::move(p.bytes());
}

/// The end of a row stream: EOF, or under CLIENT_DEPRECATE_EOF an OK packet with the 0xfe header.
std::string end_of_rows(uint32_t capabilities, uint16_t status) {
    if ((capabilities & client_deprecate_eof) == 0) {
        return eof_packet(status);
    }
    payload_builder p;
    p.u8(0xfe).lenenc_int(0).lenenc_int(0).u16(status).u16(0);
    return std::move(p.bytes());
}

}  // namespace

uint32_t server_capabilities() noexcept {
    return client_long_password | client_found_rows | client_long_flag | client_connect_with_db |
           client_protocol_41 | client_transactions | client_secure_connection | client_multi_statements |
           client_multi_results | client_plugin_auth | client_connect_attrs | client_plugin_auth_lenenc_data |
           client_deprecate_eof;
}

std::string handshake_v10(uint32_t connection_id, std::string_view scramble, std::string_view server_version) {
    uint32_t caps = server_capabilities();
    payload_builder p;
    p.u8(10).nul_str(server_version).u32(connection_id);
    p.raw(scramble.substr(0, 8)).u8(0);
    p.u16(caps & 0xffff).u8(utf8mb4_general_ci).u16(server_status_autocommit).u16(caps >> 16);
    p.u8(static_cast<uint8_t>(scramble.size() + 1)).zeros(10);
    p.raw(scramble.substr(8)).u8(0);
    p.nul_str(native_password_plugin);
    return std::move(p.bytes());
}

std::optional<handshake_response> parse_handshake_response(std::string_view payload) {
    payload_parser in(payload);
    handshake_response r;
    r.capabilities = in.u32();
    if ((r.capabilities & client_protocol_41) == 0) {
        return std::nullopt;
    }
    r.max_packet = in.u32();
    r.charset = in.u8();
    in.fixed(23);
    r.user = std::string(in.nul_str());
    if (r.capabilities & client_plugin_auth_lenenc_data) {
        r.auth_response = std::string(in.lenenc_str());
    } else if (r.capabilities & client_secure_connection) {
        r.auth_response = std::string(in.fixed(in.u8()));
    } else {
        r.auth_response = std::string(in.nul_str());
    }
    if ((r.capabilities & client_connect_with_db) != 0 && !in.at_end()) {
        r.database = std::string(in.nul_str());
    }
    if ((r.capabilities & client_plugin_auth) != 0 && !in.at_end()) {
        r.plugin = std::string(in.nul_str());
    }
    // Connection attributes (CLIENT_CONNECT_ATTRS) follow; we do not use them.
    if (in.failed()) {
        return std::nullopt;
    }
    return r;
}

std::string auth_switch_request(std::string_view plugin, std::string_view scramble) {
    payload_builder p;
    p.u8(0xfe).nul_str(plugin).raw(scramble).u8(0);
    return std::move(p.bytes());
}

std::string ok_packet(uint64_t affected_rows, uint16_t status, std::string_view info) {
    payload_builder p;
    p.u8(0x00).lenenc_int(affected_rows).lenenc_int(0).u16(status).u16(0);
    if (!info.empty()) {
        // Length-encoded, as StarRocks sends it: libmariadb reads the info that way whatever the
        // capabilities, and a client that reads string<EOF> just sees one more leading byte.
        p.lenenc_str(info);
    }
    return std::move(p.bytes());
}

std::string err_packet(const sql_error& error) {
    // Messages echo names and values users typed: whatever a handler put in, the client gets a
    // bounded, valid UTF-8 line without control bytes (no 10 MB name echoed back, no terminal
    // escapes in a client's output).
    std::string message = printable_excerpt(error.message, k_error_message_bytes);
    payload_builder p;
    p.u8(0xff).u16(error.number()).u8('#').raw(sqlstate(error.code)).raw(message);
    return std::move(p.bytes());
}

void queue_result_set(packet_stream& out, const result_set& rs, uint32_t capabilities, uint16_t status) {
    payload_builder count;
    count.lenenc_int(rs.columns.size());
    out.queue(count.bytes());
    for (const auto& column : rs.columns) {
        out.queue(column_definition("", column, false));
    }
    if ((capabilities & client_deprecate_eof) == 0) {
        out.queue(eof_packet(status));
    }
    for (const auto& r : rs.rows) {
        payload_builder p;
        for (const auto& c : r) {
            if (c) {
                p.lenenc_str(*c);
            } else {
                p.u8(0xfb);
            }
        }
        out.queue(p.bytes());
    }
    out.queue(end_of_rows(capabilities, status));
}

void queue_field_list(packet_stream& out, std::string_view table, const std::vector<column_meta>& columns,
                      uint32_t capabilities) {
    for (const auto& column : columns) {
        out.queue(column_definition(table, column, true));
    }
    out.queue(end_of_rows(capabilities, server_status_autocommit));
}

}  // namespace tv::sql::mysql
