// SPDX-License-Identifier: Apache-2.0
// Packet framing and value encodings of the MySQL protocol.
#include "sql/protocol/mysql_wire.hh"

#include "io/ops.hh"
#include "io/socket.hh"

#include <array>

namespace tv::sql::mysql {

payload_builder& payload_builder::u8(uint8_t v) {
    _bytes.push_back(static_cast<char>(v));
    return *this;
}

payload_builder& payload_builder::u16(uint16_t v) {
    return u8(v & 0xff).u8(v >> 8);
}

payload_builder& payload_builder::u24(uint32_t v) {
    return u8(v & 0xff).u8((v >> 8) & 0xff).u8((v >> 16) & 0xff);
}

payload_builder& payload_builder::u32(uint32_t v) {
    return u16(v & 0xffff).u16(v >> 16);
}

payload_builder& payload_builder::u64(uint64_t v) {
    return u32(static_cast<uint32_t>(v)).u32(static_cast<uint32_t>(v >> 32));
}

payload_builder& payload_builder::lenenc_int(uint64_t v) {
    if (v < 251) {
        return u8(static_cast<uint8_t>(v));
    }
    if (v < (1u << 16)) {
        return u8(0xfc).u16(static_cast<uint16_t>(v));
    }
    if (v < (1u << 24)) {
        return u8(0xfd).u24(static_cast<uint32_t>(v));
    }
    return u8(0xfe).u64(v);
}

payload_builder& payload_builder::lenenc_str(std::string_view s) {
    return lenenc_int(s.size()).raw(s);
}

payload_builder& payload_builder::nul_str(std::string_view s) {
    return raw(s).u8(0);
}

payload_builder& payload_builder::raw(std::string_view s) {
    _bytes.append(s);
    return *this;
}

payload_builder& payload_builder::zeros(size_t n) {
    _bytes.append(n, '\0');
    return *this;
}

uint8_t payload_parser::u8() {
    if (_pos + 1 > _data.size()) {
        _failed = true;
        _pos = _data.size();
        return 0;
    }
    return static_cast<uint8_t>(_data[_pos++]);
}

uint16_t payload_parser::u16() {
    uint16_t lo = u8();
    return static_cast<uint16_t>(lo | (u8() << 8));
}

uint32_t payload_parser::u32() {
    uint32_t lo = u16();
    return lo | (static_cast<uint32_t>(u16()) << 16);
}

uint64_t payload_parser::lenenc_int() {
    uint8_t first = u8();
    switch (first) {
    case 0xfc: return u16();
    case 0xfd: {
        uint32_t lo = u16();
        return lo | (static_cast<uint32_t>(u8()) << 16);
    }
    case 0xfe: {
        uint64_t lo = u32();
        return lo | (static_cast<uint64_t>(u32()) << 32);
    }
    case 0xfb:
    case 0xff:
        _failed = true;  // NULL marker or error header: not an integer here
        return 0;
    default: return first;
    }
}

std::string_view payload_parser::fixed(size_t n) {
    if (n > _data.size() - _pos) {
        _failed = true;
        _pos = _data.size();
        return {};
    }
    auto s = _data.substr(_pos, n);
    _pos += n;
    return s;
}

std::string_view payload_parser::lenenc_str() {
    uint64_t n = lenenc_int();
    return _failed ? std::string_view{} : fixed(static_cast<size_t>(n));
}

std::string_view payload_parser::nul_str() {
    auto end = _data.find('\0', _pos);
    if (end == std::string_view::npos) {
        _failed = true;
        _pos = _data.size();
        return {};
    }
    auto s = _data.substr(_pos, end - _pos);
    _pos = end + 1;
    return s;
}

std::string_view payload_parser::rest() {
    auto s = _data.substr(_pos);
    _pos = _data.size();
    return s;
}

io::task<io::result<packet_stream::fill_status>> packet_stream::fill(size_t wanted, std::stop_token stop) {
    // Drop what was consumed once it is all consumed, or large enough to be worth a move.
    if (_in_pos > 0 && (_in_pos == _in.size() || _in_pos > 65536)) {
        _in.erase(0, _in_pos);
        _in_pos = 0;
    }
    std::array<std::byte, 16384> chunk;
    while (_in.size() - _in_pos < wanted) {
        auto n = co_await io::recv(_fd, chunk, stop);
        if (!n) {
            co_return n.error();
        }
        if (*n == 0) {
            co_return fill_status::closed;
        }
        _in.append(reinterpret_cast<const char*>(chunk.data()), *n);
    }
    co_return fill_status::ready;
}

io::task<io::result<std::optional<std::string>>> packet_stream::read(std::stop_token stop) {
    std::string payload;
    for (bool first = true;; first = false) {
        auto header = co_await fill(4, stop);
        if (!header) {
            co_return header.error();
        }
        if (*header == fill_status::closed) {
            if (first && _in.size() == _in_pos) {
                co_return std::optional<std::string>{};
            }
            co_return io::errno_error(EBADMSG);  // closed in the middle of a packet
        }
        auto* h = reinterpret_cast<const uint8_t*>(_in.data() + _in_pos);
        size_t length = h[0] | (h[1] << 8) | (h[2] << 16);
        uint8_t sequence = h[3];
        if (sequence != _sequence) {
            co_return io::errno_error(EBADMSG);
        }
        _sequence = static_cast<uint8_t>(sequence + 1);
        if (payload.size() + length > _max_payload) {
            co_return io::errno_error(EMSGSIZE);
        }
        auto body = co_await fill(4 + length, stop);
        if (!body) {
            co_return body.error();
        }
        if (*body == fill_status::closed) {
            co_return io::errno_error(EBADMSG);
        }
        payload.append(_in, _in_pos + 4, length);
        _in_pos += 4 + length;
        if (_in_pos == _in.size() && _in.capacity() > (1u << 20)) {
            std::string().swap(_in);  // give a large packet's buffer back
            _in_pos = 0;
        }
        if (length < max_piece) {
            co_return std::optional<std::string>{std::move(payload)};
        }
    }
}

void packet_stream::queue(std::string_view payload) {
    for (;;) {
        size_t piece = std::min(payload.size(), max_piece);
        _out.push_back(static_cast<char>(piece & 0xff));
        _out.push_back(static_cast<char>((piece >> 8) & 0xff));
        _out.push_back(static_cast<char>((piece >> 16) & 0xff));
        _out.push_back(static_cast<char>(_sequence++));
        _out.append(payload.substr(0, piece));
        payload.remove_prefix(piece);
        if (piece < max_piece) {
            return;  // a piece of exactly max_piece is followed by another, maybe empty
        }
    }
}

io::task<io::result<void>> packet_stream::flush(std::stop_token stop) {
    std::string out;
    out.swap(_out);
    co_return co_await io::send_all(_fd, std::as_bytes(std::span(out)), std::move(stop));
}

}  // namespace tv::sql::mysql
