// SPDX-License-Identifier: Apache-2.0
// mysql_native_password: the stored hash of a password, and checking a client's scrambled
// answer against it without ever holding the password.
#pragma once

#include "storage/catalog_types.hh"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tv::storage {

/// "*" + uppercase hex of SHA1(SHA1(password)), as MySQL's PASSWORD() and
/// `IDENTIFIED BY PASSWORD '*...'`; empty for an empty password.
std::string native_password_hash(std::string_view password);

/// True for "" and for "*" followed by 40 hex digits.
bool is_native_password_hash(std::string_view hash);

/// Verifies a mysql_native_password handshake answer: the client sends
/// SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))), so XOR with SHA1(scramble + stored) gives
/// SHA1(pw) back, whose SHA1 must equal the stored hash. A user without a password must send
/// an empty answer.
bool check_password(std::string_view password_hash, std::span<const uint8_t> scramble,
                    std::span<const uint8_t> auth_response);
bool check_password(const user& u, std::span<const uint8_t> scramble, std::span<const uint8_t> auth_response);

}  // namespace tv::storage
