// SPDX-License-Identifier: Apache-2.0
// Encoding and decoding of MySQL protocol messages.
#include "sql/mysql_messages.hh"

namespace tv::sql::mysql {

namespace {

// MySQL field types.
constexpr uint8_t type_newdecimal = 0xf6;
constexpr uint8_t type_double = 0x05;
constexpr uint8_t type_longlong = 0x08;
constexpr uint8_t type_date = 0x0a;
constexpr uint8_t type_datetime = 0x0c;
constexpr uint8_t type_var_string = 0xfd;

uint8_t field_type(column_kind kind) {
    switch (kind) {
    case column_kind::bigint: return type_longlong;
    case column_kind::decimal: return type_newdecimal;
    case column_kind::double_: return type_double;
    case column_kind::date: return type_date;
    case column_kind::datetime: return type_datetime;
    case column_kind::varchar: return type_var_string;
    }
    return type_var_string;
}

std::string column_definition(std::string_view table, const column_meta& column, bool with_default) {
    payload_builder p;
    p.lenenc_str("def").lenenc_str("").lenenc_str(table).lenenc_str(table);
    p.lenenc_str(column.name).lenenc_str(column.name);
    p.lenenc_int(0x0c);
    p.u16(utf8mb4_general_ci);
    p.u32(column.kind == column_kind::varchar ? 65533 * 4 : 64);
    p.u8(field_type(column.kind));
    p.u16(0);  // flags
    p.u8(column.kind == column_kind::double_ ? 31 : 0);  // decimals
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
        p.raw(info);
    }
    return std::move(p.bytes());
}

std::string err_packet(const sql_error& error) {
    payload_builder p;
    p.u8(0xff).u16(error.number()).u8('#').raw(sqlstate(error.code)).raw(error.message);
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
