// SPDX-License-Identifier: Apache-2.0
// Text a user controls, made safe to echo: in a log line (one line per entry, so a name holding
// "\n" cannot forge a second entry) and in a MySQL error (bounded, valid UTF-8, no terminal
// escapes). Byte-wise and locale-independent.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tv {

/// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

/// `s` with every control byte (below 0x20, and 0x7F) written as \n, \r, \t or \xNN. Other
/// bytes pass unchanged. The log sink applies this to every message.
std::string escape_control(std::string_view s);

/// `s` for an error message: control bytes escaped as escape_control() does, bytes that are not
/// part of valid UTF-8 written as \xNN, and only the first `max_bytes` of `s` kept (cut on a
/// character boundary), followed by "..." when anything was left out.
std::string printable_excerpt(std::string_view s, size_t max_bytes);

/// A value the client sent, for an error message or an answer: printable_excerpt() of its
/// first `max_bytes`, and when that cut it, its size ("xxx... (67108864 bytes)"). A client's
/// 64 MB field then costs a 300-byte answer.
std::string printable_value(std::string_view s, size_t max_bytes = 256);

/// How many bytes of a name an error message echoes.
inline constexpr size_t k_echoed_name_bytes = 100;

}  // namespace tv
